package bench

import (
	"github.com/go-event-processor/go-event-processor/internal/cost"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
)

// itemOverheadBytes is what an event item adds to the record's bytes: keys of the table and its
// two indexes, fingerprint, timestamps and attribute names (measured on generated items: ~300 B).
const itemOverheadBytes = 300

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
	// Event puts and account updates are modelled from what was written (AWS charges 2 WRU per
	// transactional KB and 1 WRU per KB per index); reads and quarantine writes use the units the
	// emulator reported.
	run.DynamoDB = append(run.DynamoDB,
		cost.DynamoDBUsage{Operation: "TransactWriteItems (event puts)", Access: cost.TransactionalWrite, Requests: int64(rep.DynamoDBRequests["TransactWriteItems"]),
			Items: int64(rep.ValidEvents), AvgItemBytes: rep.AvgEventBytes + itemOverheadBytes, IndexWrites: 2},
		cost.DynamoDBUsage{Operation: "TransactWriteItems (account updates)", Access: cost.TransactionalWrite, Items: int64(rep.AccountChanges), AvgItemBytes: 200},
	)
	for _, op := range []struct {
		name   string
		access cost.Access
	}{{"BatchGetItem", cost.StronglyConsistentRead}, {"Query", cost.EventuallyConsistentRead}, {"BatchWriteItem", cost.StandardWrite}} {
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
