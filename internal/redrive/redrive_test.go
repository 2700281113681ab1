package redrive_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/esm"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/redrive"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/producer"
)

func TestMain(m *testing.M) { emutest.Main(m) }

// streamRecords reads every record of the stream's only shard.
func streamRecords(t *testing.T, stack *emutest.Stack, stream string) []ktypes.Record {
	shards, err := stack.Kinesis.ListShards(t.Context(), &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	it, err := stack.Kinesis.GetShardIterator(t.Context(), &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
		ShardId: shards.Shards[0].ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := stack.Kinesis.GetRecords(t.Context(), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	return out.Records
}

func TestRedriveQuarantined(t *testing.T) {
	stack := emutest.Start(t)
	stream := stack.CreateStream(t, 1)
	s := store.New(stack.DynamoDB, stack.CreateTable(t, store.Schema))
	valid := eventgen.Generate(eventgen.Options{Events: 1, InvalidShare: -1, DuplicateShare: -1})[0]
	now := time.Now()
	if err := s.Quarantine(t.Context(), []routing.Quarantined{
		{Record: routing.Record{Data: valid.Data, PartitionKey: valid.PartitionKey, ShardID: "shardId-000000000000", SequenceNumber: "1", ArrivalTime: now}, Code: "invalid", Reason: "rejected by an older schema"},
		{Record: routing.Record{Data: []byte(`{"broken`), PartitionKey: "acc-1", ShardID: "shardId-000000000000", SequenceNumber: "2", ArrivalTime: now}, Code: "not_json", Reason: "not JSON"},
	}); err != nil {
		t.Fatal(err)
	}
	sum, err := redrive.Quarantined(t.Context(), s, stack.Kinesis, stream, now.Add(-time.Minute), now.Add(time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Redriven != 1 || len(sum.StillFails) != 1 {
		t.Errorf("summary %+v, want 1 redriven and 1 still failing", sum)
	}
	if recs := streamRecords(t, stack, stream); len(recs) != 1 || string(recs[0].Data) != string(valid.Data) {
		t.Errorf("stream holds %d records, want the valid one", len(recs))
	}
	again, err := redrive.Quarantined(t.Context(), s, stack.Kinesis, stream, now.Add(-time.Minute), now.Add(time.Minute), false)
	if err != nil || again.Redriven != 0 {
		t.Errorf("a second redrive sent %d records again (%v)", again.Redriven, err)
	}
}

func TestRedriveOnFailure(t *testing.T) {
	stack := emutest.Start(t)
	stream := stack.CreateStream(t, 1)
	table := stack.CreateTable(t, esm.FailureTableInput)
	failures := esm.NewDynamoFailures(stack.DynamoDB, table)
	p, err := producer.New(stack.Kinesis, stream)
	if err != nil {
		t.Fatal(err)
	}
	var recs []producer.Record
	for _, r := range eventgen.Generate(eventgen.Options{Events: 5, InvalidShare: -1, DuplicateShare: -1}) {
		recs = append(recs, producer.Record(r))
	}
	if _, err := p.SendRaw(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	on := streamRecords(t, stack, stream)
	info := esm.KinesisBatchInfo{ShardID: "shardId-000000000000", StartSequenceNumber: aws.ToString(on[1].SequenceNumber),
		EndSequenceNumber: aws.ToString(on[3].SequenceNumber), BatchSize: 3}
	if err := failures.Send(t.Context(), "RouterFunction-Stream", esm.OnFailureRecord{Version: "1.0", Timestamp: time.Now().UTC().Format(esm.TimestampLayout),
		RequestContext: esm.RequestContext{Condition: esm.ConditionRetryAttemptsExhausted}, KinesisBatchInfo: info}); err != nil {
		t.Fatal(err)
	}
	sum, err := redrive.OnFailure(t.Context(), failures, stack.Kinesis, p, stream)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Batches != 1 || sum.Redriven != 3 {
		t.Errorf("summary %+v, want 1 batch of 3 records", sum)
	}
	after := streamRecords(t, stack, stream)
	if len(after) != 8 {
		t.Fatalf("stream holds %d records, want 5 + 3", len(after))
	}
	for i := 0; i < 3; i++ {
		if string(after[5+i].Data) != string(on[1+i].Data) {
			t.Errorf("redriven record %d differs from the original", i)
		}
	}
	if left, _ := failures.List(t.Context()); len(left) != 0 {
		t.Errorf("%d OnFailure records left after redrive", len(left))
	}
}

// TestRedriveSkipsTruncated: an oversize record is kept only in part, and even --force does not
// send that part as if it were the record.
func TestRedriveSkipsTruncated(t *testing.T) {
	stack := emutest.Start(t)
	stream := stack.CreateStream(t, 1)
	s := store.New(stack.DynamoDB, stack.CreateTable(t, store.Schema))
	now := time.Now()
	huge := []byte(`{"pad":"` + strings.Repeat("x", 100<<10) + `"}`)
	if err := s.Quarantine(t.Context(), []routing.Quarantined{
		{Record: routing.Record{Data: huge, PartitionKey: "acc-1", ShardID: "shardId-000000000000", SequenceNumber: "1", ArrivalTime: now}, Code: event.CodeOversize, Reason: "oversize"},
	}); err != nil {
		t.Fatal(err)
	}
	sum, err := redrive.Quarantined(t.Context(), s, stack.Kinesis, stream, now.Add(-time.Minute), now.Add(time.Minute), true)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Redriven != 0 || len(sum.StillFails) != 1 {
		t.Errorf("summary %+v, want nothing redriven and the record still failing", sum)
	}
	if recs := streamRecords(t, stack, stream); len(recs) != 0 {
		t.Errorf("stream holds %d records, want none", len(recs))
	}
}
