package e2e_test

import (
	"context"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/invoke"
	"github.com/go-event-processor/go-event-processor/internal/lambdahandler"
	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
	"github.com/go-event-processor/go-event-processor/internal/reqcount"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// pipeline is the whole pipeline on the emulators, with its requests counted.
type pipeline struct {
	stack   *emutest.Stack
	stream  string
	store   *store.Store
	dynamo  *reqcount.Counter
	invokes *localinvoke.Server
	handle  func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error)
}

func newPipeline(t *testing.T, shards int32) *pipeline {
	stack := emutest.Start(t)
	p := &pipeline{stack: stack, dynamo: &reqcount.Counter{}, invokes: localinvoke.New()}
	table := stack.CreateTable(t, store.Schema)
	p.stream = stack.CreateStream(t, shards)
	db := emulators.DynamoDBClient(stack.DynamoDBEndpoint, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, p.dynamo.APIOption())
	})
	p.store = store.New(db, table)
	functions := map[event.Type]string{}
	for _, typ := range event.Types {
		name := "local-" + string(typ)
		functions[typ] = name
		p.invokes.Register(name, localinvoke.JSON(typefn.New(typ, p.store, nil).Handle))
	}
	srv := httptest.NewServer(p.invokes)
	t.Cleanup(srv.Close)
	r := &routing.Router{
		Invoker:    &invoke.Lambda{Client: emulators.LambdaClient(srv.URL), Functions: functions},
		Quarantine: p.store,
		Feed:       p.store,
	}
	p.handle = lambdahandler.Kinesis(r)
	return p
}

// put sends records to the stream, partition key = the account (or "-" for records without one).
func (p *pipeline) put(t *testing.T, recs []sent) {
	t.Helper()
	for start := 0; start < len(recs); start += 500 {
		var entries []kinesistypes.PutRecordsRequestEntry
		for _, r := range recs[start:min(start+500, len(recs))] {
			entries = append(entries, kinesistypes.PutRecordsRequestEntry{Data: r.data, PartitionKey: aws.String(r.partitionKey())})
		}
		out, err := p.stack.Kinesis.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(p.stream), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
			t.Fatalf("PutRecords: %v (failed %d)", err, aws.ToInt32(out.FailedRecordCount))
		}
	}
}

// drain reads every shard from the start and hands batches of up to batchSize records to the
// router, resuming from the lowest failed sequence number as Lambda does, until every shard is
// read to its end. It is bounded: a batch retried 20 times fails the test.
func (p *pipeline) drain(t *testing.T, batchSize int32) (batches int) {
	t.Helper()
	ctx := t.Context()
	shards, err := p.stack.Kinesis.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(p.stream)})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range shards.Shards {
		it, err := p.stack.Kinesis.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(p.stream),
			ShardId: sh.ShardId, ShardIteratorType: kinesistypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter, retries := it.ShardIterator, 0
		for {
			out, err := p.stack.Kinesis.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(batchSize)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) == 0 {
				break
			}
			resp, _ := p.handle(ctx, kinesisEvent(*sh.ShardId, out.Records))
			batches++
			if len(resp.BatchItemFailures) == 0 {
				iter, retries = out.NextShardIterator, 0
				continue
			}
			if retries++; retries > 20 {
				t.Fatalf("batch still failing after 20 retries: %+v", resp.BatchItemFailures)
			}
			lowest := resp.BatchItemFailures[0].ItemIdentifier
			for _, f := range resp.BatchItemFailures {
				if seqLess(f.ItemIdentifier, lowest) {
					lowest = f.ItemIdentifier
				}
			}
			it, err := p.stack.Kinesis.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(p.stream),
				ShardId: sh.ShardId, ShardIteratorType: kinesistypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(lowest)})
			if err != nil {
				t.Fatal(err)
			}
			iter = it.ShardIterator
		}
	}
	return batches
}

func seqLess(a, b string) bool {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y) < 0
}

// kinesisEvent shapes records as Lambda's Kinesis event source does.
func kinesisEvent(shard string, recs []kinesistypes.Record) events.KinesisEvent {
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, len(recs))}
	for i, r := range recs {
		ev.Records[i] = events.KinesisEventRecord{
			EventID:     shard + ":" + aws.ToString(r.SequenceNumber),
			EventName:   "aws:kinesis:record",
			EventSource: "aws:kinesis",
			Kinesis: events.KinesisRecord{
				Data: r.Data, PartitionKey: aws.ToString(r.PartitionKey), SequenceNumber: aws.ToString(r.SequenceNumber),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)},
				KinesisSchemaVersion:        "1.0",
			},
		}
	}
	return ev
}

var _ = lambda.Options{}
var _ = time.Second
