package redrive_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/redrive"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// pipeline routes what is put on a one-shard stream as the router and the type functions do,
// into a store: what never succeeds is quarantined under its new shard and sequence number.
type pipeline struct {
	t      *testing.T
	stack  *emutest.Stack
	stream string
	table  string
	store  *store.Store
	router *routing.Router
	next   *string // iterator after the records routed so far
}

// direct invokes the type functions in process.
type direct struct{ s *store.Store }

func (d direct) Invoke(ctx context.Context, t event.Type, b typefn.Batch) (typefn.Response, error) {
	return typefn.New(t, d.s, nil).Handle(ctx, b)
}

func newPipeline(t *testing.T) *pipeline {
	stack := emutest.Start(t)
	p := &pipeline{t: t, stack: stack, stream: stack.CreateStream(t, 1), table: stack.CreateTable(t, store.Schema)}
	p.store = store.New(stack.DynamoDB, p.table)
	p.router = &routing.Router{Invoker: direct{p.store}, Quarantine: p.store}
	return p
}

// drain routes every record put on the stream since the last drain; it returns how many.
func (p *pipeline) drain() int {
	t := p.t
	if p.next == nil {
		shards, err := p.stack.Kinesis.ListShards(t.Context(), &kinesis.ListShardsInput{StreamName: aws.String(p.stream)})
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.stack.Kinesis.GetShardIterator(t.Context(), &kinesis.GetShardIteratorInput{StreamName: aws.String(p.stream),
			ShardId: shards.Shards[0].ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		p.next = it.ShardIterator
	}
	out, err := p.stack.Kinesis.GetRecords(t.Context(), &kinesis.GetRecordsInput{ShardIterator: p.next})
	if err != nil {
		t.Fatal(err)
	}
	p.next = out.NextShardIterator
	recs := make([]routing.Record, len(out.Records))
	for i, r := range out.Records {
		recs[i] = routing.Record{Data: r.Data, PartitionKey: aws.ToString(r.PartitionKey), ShardID: "shardId-000000000000",
			SequenceNumber: aws.ToString(r.SequenceNumber), ArrivalTime: aws.ToTime(r.ApproximateArrivalTimestamp)}
	}
	if len(recs) > 0 {
		if res := p.router.Route(t.Context(), recs); len(res.Failed) > 0 {
			t.Fatalf("the pipeline failed %d records", len(res.Failed))
		}
	}
	return len(recs)
}

// items returns every quarantine item of the table, by where its record is.
func (p *pipeline) items() map[store.RecordKey]store.QuarantinedRecord {
	t := p.t
	out := map[store.RecordKey]store.QuarantinedRecord{}
	pages := dynamodb.NewScanPaginator(p.stack.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(p.table), ConsistentRead: aws.Bool(true),
		FilterExpression: aws.String("sk = :q"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":q": &ddbtypes.AttributeValueMemberS{Value: "QUARANTINE"}}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var recs []store.QuarantinedRecord
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out[r.Key()] = r
		}
	}
	return out
}

func (p *pipeline) redrive(since time.Duration, force bool) redrive.Summary {
	p.t.Helper()
	now := time.Now()
	sum, err := redrive.Quarantined(p.t.Context(), p.store, p.stack.Kinesis, p.stream, now.Add(-since), now.Add(time.Second), force)
	if err != nil {
		p.t.Fatal(err)
	}
	return sum
}

// stored fails the test unless the event in data is stored.
func (p *pipeline) stored(data []byte) {
	p.t.Helper()
	e, err := event.Decode(data)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.store.GetEvent(p.t.Context(), e.Tenant, e.ID); err != nil {
		p.t.Errorf("event %s not stored: %v", e.ID, err)
	}
}

func totalOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestForcedRedriveTwiceAddsNoRows: a forced redrive sends every quarantined record once; the ones
// that still fail come back as copies naming their original, and forced redrives after it send
// nothing more and add no quarantine item, even when the originals are out of their window.
func TestForcedRedriveTwiceAddsNoRows(t *testing.T) {
	p := newPipeline(t)
	valid := eventgen.Generate(eventgen.Options{Events: 1, InvalidShare: -1, DuplicateShare: -1})[0]
	invalid := []byte(`{"specversion":"1.0","id":"evt-x","type":"transaction"}`) // JSON, but no event
	arrived := time.Now().Add(-2 * time.Hour)
	originals := []routing.Quarantined{
		{Record: routing.Record{Data: valid.Data, PartitionKey: valid.PartitionKey, ShardID: "shardId-000000000000", SequenceNumber: "1", ArrivalTime: arrived}, Code: "invalid", Reason: "rejected by an older schema"},
		{Record: routing.Record{Data: []byte(`{"broken`), PartitionKey: "acc-1", ShardID: "shardId-000000000000", SequenceNumber: "2", ArrivalTime: arrived}, Code: event.CodeNotJSON, Reason: "not JSON"},
		{Record: routing.Record{Data: invalid, PartitionKey: "acc-2", ShardID: "shardId-000000000000", SequenceNumber: "3", ArrivalTime: arrived}, Code: "invalid", Reason: "no source"},
	}
	if errs := p.store.Quarantine(t.Context(), originals); errs != nil {
		t.Fatal(errs)
	}

	first := p.redrive(24*time.Hour, true)
	if first.Redriven != 3 || totalOf(first.StillFails) != 0 || first.Copies != 0 {
		t.Fatalf("first forced redrive: %+v, want the 3 records sent", first)
	}
	// Again before the pipeline read them: nothing is sent twice.
	if early := p.redrive(24*time.Hour, true); early.Redriven != 0 {
		t.Errorf("a forced redrive before the pipeline read the first one's records sent %d again", early.Redriven)
	}
	if n := p.drain(); n != 3 {
		t.Fatalf("the stream holds %d redriven records, want 3", n)
	}
	afterFirst := p.items()
	if len(afterFirst) != 5 {
		t.Fatalf("%d quarantine items after the first redrive, want the 3 originals and 2 copies", len(afterFirst))
	}
	for _, o := range originals {
		r := afterFirst[store.RecordKey{ShardID: o.ShardID, SequenceNumber: o.SequenceNumber}]
		if r.RedrivenAt == "" || r.RedrivenAs == "" || r.RedrivenShard != "shardId-000000000000" {
			t.Errorf("original %s not marked redriven: %+v", o.SequenceNumber, r)
		}
	}

	for run := 2; run <= 4; run++ {
		since := 24 * time.Hour
		if run == 4 {
			since = time.Hour // the originals are out of the window: only the copies are read
		}
		sum := p.redrive(since, true)
		wantCopies, wantStill := 2, 2
		if run == 4 {
			wantStill = 0
		}
		if sum.Redriven != 0 || sum.Copies != wantCopies || totalOf(sum.StillFails) != wantStill || sum.Returned != wantStill {
			t.Errorf("forced redrive %d (--since %s): %+v, want nothing sent, %d copies, %d still failing", run, since, sum, wantCopies, wantStill)
		}
		if n := p.drain(); n != 0 {
			t.Errorf("forced redrive %d put %d records on the stream", run, n)
		}
		items := p.items()
		if len(items) != len(afterFirst) {
			t.Errorf("forced redrive %d: %d quarantine items, want %d as after the first", run, len(items), len(afterFirst))
		}
		copies := 0
		for k, r := range items {
			o, isCopy := r.RedriveOrigin()
			if !isCopy {
				continue
			}
			copies++
			orig, ok := items[o]
			if !ok || orig.RedrivenAs != k.SequenceNumber || string(orig.Raw) != string(r.Raw) {
				t.Errorf("copy %s names %s, which is not the original it was sent from", k, o)
			}
		}
		if copies != 2 {
			t.Errorf("forced redrive %d: %d items marked as copies, want 2", run, copies)
		}
	}
	// The valid record went through once.
	p.stored(valid.Data)
}

// TestRedriveAfterAFix: a record a forced redrive sent that was quarantined again is sent again,
// once, when it validates (a fix since); a redrive after that sends nothing.
func TestRedriveAfterAFix(t *testing.T) {
	p := newPipeline(t)
	valid := eventgen.Generate(eventgen.Options{Events: 1, InvalidShare: -1, DuplicateShare: -1})[0]
	now := time.Now()
	orig := routing.Quarantined{Record: routing.Record{Data: valid.Data, PartitionKey: valid.PartitionKey, ShardID: "shardId-000000000000", SequenceNumber: "7", ArrivalTime: now}, Code: "invalid", Reason: "rejected by an older schema"}
	if errs := p.store.Quarantine(t.Context(), []routing.Quarantined{orig}); errs != nil {
		t.Fatal(errs)
	}
	if sum := p.redrive(time.Hour, true); sum.Redriven != 1 {
		t.Fatalf("forced redrive: %+v", sum)
	}
	// The pipeline of the time (the old schema) quarantines it again.
	out, err := p.stack.Kinesis.GetShardIterator(t.Context(), &kinesis.GetShardIteratorInput{StreamName: aws.String(p.stream),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.stack.Kinesis.GetRecords(t.Context(), &kinesis.GetRecordsInput{ShardIterator: out.ShardIterator})
	if err != nil || len(got.Records) != 1 {
		t.Fatalf("stream: %v, %d records", err, len(got.Records))
	}
	p.next = got.NextShardIterator
	back := orig
	back.SequenceNumber, back.ArrivalTime = aws.ToString(got.Records[0].SequenceNumber), time.Now()
	if errs := p.store.Quarantine(t.Context(), []routing.Quarantined{back}); errs != nil {
		t.Fatal(errs)
	}
	// Forced again: it came back, and it is sent again only because it validates now.
	sum := p.redrive(time.Hour, true)
	if sum.Redriven != 1 || sum.Copies != 1 {
		t.Fatalf("redrive after the fix: %+v, want the original sent again and its copy not", sum)
	}
	if n := p.drain(); n != 1 {
		t.Fatalf("%d records on the stream, want the original once", n)
	}
	p.stored(valid.Data)
	if again := p.redrive(time.Hour, true); again.Redriven != 0 || again.Copies != 1 {
		t.Errorf("redrive after it went through: %+v, want nothing sent", again)
	}
	if items := p.items(); len(items) != 2 {
		t.Errorf("%d quarantine items, want the original and its one copy", len(items))
	}
}

// TestRedriveRecognisesOldCopies: a copy made before redrive kept markers (its original names it
// only by redrivenAs) is recognised, marked, and not sent.
func TestRedriveRecognisesOldCopies(t *testing.T) {
	p := newPipeline(t)
	now := time.Now()
	recs := []routing.Quarantined{
		{Record: routing.Record{Data: []byte(`{"broken`), PartitionKey: "acc-1", ShardID: "shardId-000000000000", SequenceNumber: "10", ArrivalTime: now.Add(-time.Minute)}, Code: event.CodeNotJSON, Reason: "not JSON"},
		{Record: routing.Record{Data: []byte(`{"broken`), PartitionKey: "acc-1", ShardID: "shardId-000000000000", SequenceNumber: "11", ArrivalTime: now}, Code: event.CodeNotJSON, Reason: "not JSON"},
	}
	if errs := p.store.Quarantine(t.Context(), recs); errs != nil {
		t.Fatal(errs)
	}
	// What MarkRedriven used to write: redrivenAt and redrivenAs only.
	_, err := p.stack.DynamoDB.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String(p.table),
		Key:              map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "Q#shardId-000000000000#10"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "QUARANTINE"}},
		UpdateExpression: aws.String("SET redrivenAt = :at, redrivenAs = :as"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":at": &ddbtypes.AttributeValueMemberS{Value: now.Format(time.RFC3339Nano)},
			":as": &ddbtypes.AttributeValueMemberS{Value: "11"}}})
	if err != nil {
		t.Fatal(err)
	}
	sum := p.redrive(time.Hour, true)
	if sum.Redriven != 0 || sum.Copies != 1 || sum.Returned != 1 {
		t.Errorf("forced redrive: %+v, want nothing sent, 1 copy, 1 record that came back", sum)
	}
	items := p.items()
	if o, ok := items[store.RecordKey{ShardID: "shardId-000000000000", SequenceNumber: "11"}].RedriveOrigin(); !ok || o.SequenceNumber != "10" {
		t.Errorf("the old copy is not marked as a copy of 10: %v %t", o, ok)
	}
	if len(items) != 2 {
		t.Errorf("%d quarantine items, want 2", len(items))
	}
}
