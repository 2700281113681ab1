package store

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// Bounds the fuzz test holds every quarantine item to: an oversize record's item, and what an
// item adds to a record kept whole.
const (
	fuzzMaxOversizeItem = 8 << 10
	fuzzMaxItemOverhead = 2 << 10
)

// storedInvoker answers that every record it is sent was stored.
type storedInvoker struct{ sent int }

func (s *storedInvoker) Invoke(_ context.Context, _ event.Type, b typefn.Batch) (typefn.Response, error) {
	s.sent += len(b.Records)
	resp := typefn.Response{Results: make([]typefn.Result, len(b.Records))}
	for i := range resp.Results {
		resp.Results[i].Status = typefn.Stored
	}
	return resp, nil
}

// itemQuarantine builds each quarantined record's item, as Store.Quarantine writes it.
type itemQuarantine struct {
	items []map[string]types.AttributeValue
}

func (q *itemQuarantine) Quarantine(_ context.Context, recs []routing.Quarantined) []error {
	for _, r := range recs {
		q.items = append(q.items, quarantineItem(r, time.Unix(0, 0)))
	}
	return nil
}

// grow puts a string of size bytes, as member name, first in the record's object (when it is
// one), so that the fuzzer reaches records of up to Kinesis's 1 MiB that begin like an event.
func grow(raw []byte, name string, size uint32) []byte {
	size %= 1 << 20
	if size == 0 || len(raw) == 0 || raw[0] != '{' {
		return raw
	}
	var b bytes.Buffer
	b.WriteString(`{"` + strings.ReplaceAll(name, `"`, ``) + `":"`)
	b.Write(bytes.Repeat([]byte("x"), int(size)))
	b.WriteString(`"`)
	if rest := bytes.TrimSpace(raw[1:]); len(rest) > 0 && rest[0] != '}' {
		b.WriteString(",")
	}
	b.Write(raw[1:])
	return b.Bytes()
}

// FuzzRouterQuarantine: whatever a record holds, the router does not panic, every record is
// either sent to its type's function or quarantined with a code and a reason, none is failed
// (nothing here fails for a transient reason), and every quarantine item stays within its bound:
// far below DynamoDB's 400 KB, so no quarantine write can be refused for its size.
// CI runs it for about 30 s; for ten minutes:
//
//	go test -run x -fuzz FuzzRouterQuarantine -fuzztime 10m ./internal/store
func FuzzRouterQuarantine(f *testing.F) {
	for _, t := range event.Types {
		f.Add(eventgen.OfType(t, 1)[0], "", uint32(0))
		f.Add(eventgen.OfType(t, 1)[0], "id", uint32(300<<10))
	}
	txn := string(eventgen.OfType(event.TypeTransaction, 1)[0])
	for _, seed := range []struct {
		raw, name string
		size      uint32
	}{
		{"not json", "", 0},
		{`[1,2,3]`, "", 0},
		{`{"specversion":"1.0","type":"loan"}`, "", 0},
		{`{"specversion":"1.0","type":"loan"}`, "type", 1<<20 - 100},
		{`{"tenant":"a","tenant":"b"}`, "", 0},
		{strings.Replace(txn, `"tenant":`, `"tenant":"dup","tenant":`, 1), "", 0},
		{strings.Replace(txn, `"amount":`, `"amount":1,"amount":`, 1), "", 0},
		{strings.Replace(txn, `"source":"`, "\"source\":\"\xff\xfe", 1), "", 0},
		{strings.Replace(txn, `"source":"`, `"source":"\ud800`, 1), "", 0},
		{strings.Replace(txn, `"amount":`, `"amount":12.5,"x":`, 1), "", 0},
		{txn, "tenant", 500 << 10},
		{txn, "source", 400 << 10},
		{txn, "subject", 400 << 10},
		{txn, "traceparent", 900 << 10},
		{`{"ID":"1","Client":"bank","Type":"TRANSACTION","Event":{"Amount":1}}`, "", 0},
		{`{"ID":"1","Client":"bank","Type":"TRANSACTION","Event":{"Amount":1}}`, "ID", 700 << 10},
	} {
		f.Add([]byte(seed.raw), seed.name, seed.size)
	}
	f.Fuzz(func(t *testing.T, raw []byte, name string, size uint32) {
		data := grow(raw, name, size)
		inv, q := &storedInvoker{}, &itemQuarantine{}
		r := &routing.Router{Invoker: inv, Quarantine: q}
		res := r.Route(context.Background(), []routing.Record{{Data: data, PartitionKey: "acc-1",
			ShardID: "shardId-000000000000", SequenceNumber: "49650000000000000000000000000000000000000000000000000000"}})
		if len(res.Failed) != 0 || inv.sent+res.Quarantined != 1 || len(q.items) != res.Quarantined {
			t.Fatalf("record of %d bytes: sent %d, quarantined %d (%d items), failed %v; want it sent or quarantined", len(data), inv.sent, res.Quarantined, len(q.items), res.Failed)
		}
		for _, item := range q.items {
			n := itemSize(item)
			if limit := min(len(data), event.MaxRecordBytes+1) + fuzzMaxItemOverhead; len(data) <= event.MaxRecordBytes && n > limit {
				t.Fatalf("record of %d bytes: quarantine item of %d bytes, want at most %d", len(data), n, limit)
			}
			if len(data) > event.MaxRecordBytes && n > fuzzMaxOversizeItem {
				t.Fatalf("oversize record of %d bytes: quarantine item of %d bytes, want at most %d", len(data), n, fuzzMaxOversizeItem)
			}
			for _, attr := range []string{"code", "reason"} {
				if s, _ := item[attr].(*types.AttributeValueMemberS); s == nil || s.Value == "" {
					t.Fatalf("record of %d bytes: quarantine item without %s", len(data), attr)
				}
			}
		}
	})
}
