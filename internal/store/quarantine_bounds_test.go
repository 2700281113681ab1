package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// maxOversizeItemBytes is the bound on the quarantine item of an oversize record, whatever it
// holds: far below DynamoDB's 400 KB.
const maxOversizeItemBytes = 8 << 10

// bigField makes a record of about size bytes that begins like an event and holds one huge
// value at path (a top-level member, or "data.<name>").
func bigField(path string, size int) []byte {
	huge := strings.Repeat("x", size)
	env := map[string]string{"specversion": "1.0", "id": "evt-big", "source": "urn:bank:authorizer", "type": "transaction",
		"time": "2026-11-26T08:00:00Z", "subject": "acc-1", "tenant": "examplebank"}
	data := `{"accountId":"acc-1"}`
	if name, ok := strings.CutPrefix(path, "data."); ok {
		data = fmt.Sprintf(`{"accountId":"acc-1",%q:%q}`, name, huge)
	} else {
		env[path] = huge
	}
	var b bytes.Buffer
	b.WriteString("{")
	for k, v := range env {
		fmt.Fprintf(&b, "%q:%q,", k, v)
	}
	fmt.Fprintf(&b, `"data":%s}`, data)
	return b.Bytes()
}

// TestQuarantineBoundsEveryValue: records of up to Kinesis's 1 MiB whose id, type, tenant,
// source, subject, an extension attribute or a data field is huge are all quarantined by the
// router's rules, each item far below DynamoDB's limit.
func TestQuarantineBoundsEveryValue(t *testing.T) {
	var db store.API
	s, _ := newStore(t, func(api store.API) store.API { db = api; return api })
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var recs []routing.Record
	for i, path := range []string{"id", "type", "tenant", "source", "subject", "traceparent", "data.note"} {
		for _, size := range []int{300 << 10, 1<<20 - 300} {
			recs = append(recs, routing.Record{Data: bigField(path, size), PartitionKey: strings.Repeat("k", 256),
				ShardID: "shardId-000000000000", SequenceNumber: fmt.Sprintf("%d%07d", i+1, size), ArrivalTime: at})
		}
	}
	var bad []routing.Quarantined
	r := &routing.Router{Invoker: nil, Quarantine: quarantineFunc(func(ctx context.Context, q []routing.Quarantined) []error {
		bad = append(bad, q...)
		return s.Quarantine(ctx, q)
	})}
	res := r.Route(t.Context(), recs)
	if len(res.Failed) != 0 || res.Quarantined != len(recs) {
		t.Fatalf("%d records: %d quarantined, %d failed", len(recs), res.Quarantined, len(res.Failed))
	}
	for _, q := range bad {
		if q.Code != event.CodeOversize {
			t.Errorf("record %s: code %s, want %s", q.SequenceNumber, q.Code, event.CodeOversize)
		}
		out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(s.Table()), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "Q#" + q.ShardID + "#" + q.SequenceNumber}, "sk": &types.AttributeValueMemberS{Value: "QUARANTINE"},
		}})
		if err != nil || out.Item == nil {
			t.Fatalf("record %s: %v, item %v", q.SequenceNumber, err, out.Item != nil)
		}
		if n := store.ItemSize(out.Item); n > maxOversizeItemBytes {
			t.Errorf("record %s of %d bytes: its quarantine item is %d bytes, want at most %d", q.SequenceNumber, len(q.Data), n, maxOversizeItemBytes)
		}
	}
}

type quarantineFunc func(ctx context.Context, q []routing.Quarantined) []error

func (f quarantineFunc) Quarantine(ctx context.Context, q []routing.Quarantined) []error {
	return f(ctx, q)
}

// bloating makes every write of one record's full quarantine item too large for DynamoDB, so
// that the real DynamoDB refuses it as it would an unbounded item; its minimal item passes.
type bloating struct {
	store.API
	seq string
}

func (b bloating) bloat(item map[string]types.AttributeValue) {
	if s, ok := item["sequenceNumber"].(*types.AttributeValueMemberS); ok && s.Value == b.seq && item["minimal"] == nil {
		item["raw"] = &types.AttributeValueMemberB{Value: bytes.Repeat([]byte("x"), 450<<10)}
	}
}

func (b bloating) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	for _, reqs := range in.RequestItems {
		for _, r := range reqs {
			b.bloat(r.PutRequest.Item)
		}
	}
	return b.API.BatchWriteItem(ctx, in, opts...)
}

func (b bloating) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	b.bloat(in.Item)
	return b.API.PutItem(ctx, in, opts...)
}

// TestQuarantineFallsBackToMinimalItem: DynamoDB refuses a batch for one item; the batch is
// written again item by item, the others whole and the refused one as a minimal item.
func TestQuarantineFallsBackToMinimalItem(t *testing.T) {
	s, counter := newStore(t, func(api store.API) store.API { return bloating{API: api, seq: "3"} })
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var recs []routing.Quarantined
	for i := range 5 {
		recs = append(recs, routing.Quarantined{Record: routing.Record{Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), ShardID: "shardId-000000000000",
			SequenceNumber: fmt.Sprint(i), ArrivalTime: at}, Code: event.CodeNotJSON, Reason: "not_json: no"})
	}
	if errs := s.Quarantine(t.Context(), recs); errs != nil {
		t.Fatalf("quarantine: %v", errs)
	}
	got, err := s.QuarantinedBetween(t.Context(), at, at)
	if err != nil || len(got) != len(recs) {
		t.Fatalf("%d records quarantined (%v), want %d", len(got), err, len(recs))
	}
	for _, q := range got {
		if q.SequenceNumber == "3" {
			if !q.Minimal || len(q.Raw) != 0 || q.RawBytes != 7 || q.RawSHA256 == "" || q.Code != event.CodeNotJSON || !strings.Contains(q.RefusedBecause, "ValidationException") {
				t.Errorf("refused record kept as %+v, want a minimal item", q)
			}
			continue
		}
		if q.Minimal || q.RawTruncated || !bytes.HasPrefix(q.Raw, []byte(`{"n":`)) {
			t.Errorf("record %s kept as %+v, want it whole", q.SequenceNumber, q)
		}
	}
	if n := counter.Counts()["BatchWriteItem"]; n != 2 {
		t.Errorf("%d BatchWriteItem calls, want 2 (the records', refused as a whole, then item by item; then the listing's)", n)
	}
	if n := counter.Counts()["PutItem"]; n != len(recs)+1 {
		t.Errorf("%d PutItem calls, want %d (one per record, one more for the minimal item)", n, len(recs)+1)
	}
}

// failingBatch fails the first BatchWriteItem call as an outage past the SDK's retries would.
type failingBatch struct {
	store.API
	calls *int
}

func (f failingBatch) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if *f.calls++; *f.calls == 1 {
		return nil, errors.New("connection refused")
	}
	return f.API.BatchWriteItem(ctx, in, opts...)
}

// TestQuarantineTransientFailureFailsOnlyItsCall: the records of a failed call are reported,
// each with its error; the others are stored.
func TestQuarantineTransientFailureFailsOnlyItsCall(t *testing.T) {
	calls := 0
	s, _ := newStore(t, func(api store.API) store.API { return failingBatch{API: api, calls: &calls} })
	at := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	var recs []routing.Quarantined
	for i := range 30 {
		recs = append(recs, routing.Quarantined{Record: routing.Record{Data: []byte("x"), ShardID: "shardId-000000000000",
			SequenceNumber: fmt.Sprint(i), ArrivalTime: at}, Code: event.CodeNotJSON, Reason: "not_json"})
	}
	errs := s.Quarantine(t.Context(), recs)
	if len(errs) != len(recs) {
		t.Fatalf("%d errors for %d records", len(errs), len(recs))
	}
	for i, err := range errs {
		if (i < 25) != (err != nil) {
			t.Errorf("record %d: error %v; want one exactly for the first call's 25 records", i, err)
		}
	}
	got, _ := s.QuarantinedBetween(t.Context(), at, at)
	if len(got) != 5 {
		t.Errorf("%d records stored, want the second call's 5", len(got))
	}
}
