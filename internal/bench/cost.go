package bench

import (
	"github.com/go-event-processor/go-event-processor/internal/cost"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
)

// ShardEventsPerSecond is the sustained rate the Kinesis shard-hours are spread over: one shard at
// its write limit of 1,000 records per second.
const ShardEventsPerSecond = 1000

// Costs applies the cost model to a run, and the same model to the prototype's design (batch
// size 1: an invocation and a PutItem per event) for the same events and record size.
func Costs(rep Report, st *devstack.Stack) (cost.Comparison, error) {
	memory := map[string]int{}
	for _, f := range st.Resources.Functions {
		memory[f.Name] = f.MemoryMB
	}
	run := cost.Run{Events: int64(rep.ValidEvents), Records: int64(rep.Records), AvgRecordBytes: rep.AvgRecordBytes,
		Kinesis: cost.KinesisUsage{Shards: len(st.Resources.Streams), SustainedEventsPerSecond: ShardEventsPerSecond}}
	for name, n := range rep.Invocations {
		run.Lambda = append(run.Lambda, cost.LambdaUsage{Function: name, Invocations: int64(n), AvgBilledMs: rep.BilledMsPerInvoke[name], MemoryMB: memory[name]})
	}
	// Every write is a standard one on a table without indexes, so the units DynamoDB reports are
	// what AWS bills (1 WRU per started KB); reads are priced from the units reported too.
	for _, op := range []struct {
		name   string
		access cost.Access
	}{
		{"PutItem", cost.StandardWrite}, {"BatchWriteItem", cost.StandardWrite}, {"UpdateItem", cost.StandardWrite},
		{"BatchGetItem", cost.StronglyConsistentRead}, {"Query", cost.StronglyConsistentRead}, {"GetItem", cost.StronglyConsistentRead},
	} {
		if u := rep.DynamoDBUnits[op.name]; u > 0 {
			run.DynamoDB = append(run.DynamoDB, cost.DynamoDBUsage{Operation: op.name, Access: op.access, Requests: int64(rep.DynamoDBRequests[op.name]), Units: u})
		}
	}
	ours, err := cost.Estimate(run, cost.USEast1)
	if err != nil {
		return cost.Comparison{}, err
	}
	proto, err := cost.Estimate(cost.Prototype(int64(rep.ValidEvents), rep.AvgEventBytes, cost.DefaultPrototypeAssumptions(ShardEventsPerSecond)), cost.USEast1)
	if err != nil {
		return cost.Comparison{}, err
	}
	return cost.Compare(ours, proto), nil
}
