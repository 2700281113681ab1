package producer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/producer"
)

// fast is the backoff of tests: the SDK's jitter backoff capped below its one-second base waits
// the cap.
var fast = producer.WithBackoff(retry.NewExponentialJitterBackoff(5 * time.Millisecond))

// setup starts the emulators, creates a stream and a proxy in front of kinesalite, and returns a
// producer that sends through the proxy.
func setup(t *testing.T, shards int32, opts ...producer.Option) (*emutest.Stack, string, *proxy, *producer.Producer) {
	t.Helper()
	stack := emutest.Start(t)
	stream := stack.CreateStream(t, shards)
	px := newProxy(t, stack.KinesisEndpoint)
	p, err := producer.New(px.client(), stream, append([]producer.Option{fast}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return stack, stream, px, p
}

func callSizes(calls []putCall) []int {
	n := make([]int, len(calls))
	for i, c := range calls {
		n[i] = c.Records
	}
	return n
}

func TestSendRawSplitsAt500Records(t *testing.T) {
	stack, stream, px, p := setup(t, 2)
	recs := numbered(501, 37)
	res, err := p.SendRaw(t.Context(), recs...)
	if err != nil {
		t.Fatalf("SendRaw: %v", err)
	}
	if got := callSizes(px.Calls()); fmt.Sprint(got) != "[500 1]" || res.Calls != 2 {
		t.Errorf("calls of %v records (Result.Calls %d), want [500 1]", got, res.Calls)
	}
	if res.Sent != 501 || res.Total != 501 || len(res.Failed) != 0 || res.Retries != 0 {
		t.Errorf("Result = %+v, want 501 sent, nothing failed or retried", res)
	}
	got := readAll(t, stack.Kinesis, stream)
	checkExactlyOnce(t, got, recs)
	perShard := map[string]int{}
	for _, s := range got {
		perShard[s.Shard]++
	}
	if fmt.Sprint(perShard) != fmt.Sprint(res.Shards) {
		t.Errorf("Result.Shards = %v, stream holds %v", res.Shards, perShard)
	}
}

// sized returns a record whose data and key together are size bytes, its data unique by i.
func sized(i, size int) producer.Record {
	key := fmt.Sprintf("acc-%d", i)
	data := bytes.Repeat([]byte("x"), size-len(key))
	copy(data, fmt.Sprintf("%d:", i))
	return producer.Record{Data: data, PartitionKey: key}
}

func TestSendRawSplitsBySize(t *testing.T) {
	stack, stream, px, p := setup(t, 1)
	var recs []producer.Record
	for i := range 10 {
		recs = append(recs, sized(i, 600<<10)) // 6000 KiB in all: over 5 MiB
	}
	res, err := p.SendRaw(t.Context(), recs...)
	if err != nil {
		t.Fatalf("SendRaw: %v", err)
	}
	calls := px.Calls()
	if got := callSizes(calls); fmt.Sprint(got) != "[8 2]" {
		t.Errorf("calls of %v records, want [8 2] (8 × 600 KiB fit in 5 MiB, 9 do not)", got)
	}
	for i, c := range calls {
		if c.Bytes > producer.MaxBytesPerCall {
			t.Errorf("call %d carries %d bytes, over %d", i, c.Bytes, producer.MaxBytesPerCall)
		}
	}
	if res.Sent != 10 {
		t.Errorf("Result = %+v, want 10 sent", res)
	}
	checkExactlyOnce(t, readAll(t, stack.Kinesis, stream), recs)
}

func TestSendRawRefusesRecordOver1MiB(t *testing.T) {
	stack, stream, px, p := setup(t, 1)
	recs := []producer.Record{
		sized(0, producer.MaxRecordBytes), sized(1, producer.MaxRecordBytes), sized(2, producer.MaxRecordBytes),
		sized(3, producer.MaxRecordBytes), sized(4, producer.MaxRecordBytes),
		sized(5, producer.MaxRecordBytes+1), // refused
		sized(6, producer.MaxRecordBytes),
	}
	res, err := p.SendRaw(t.Context(), recs...)
	if !errors.Is(err, producer.ErrTooLarge) {
		t.Fatalf("SendRaw error = %v, want ErrTooLarge", err)
	}
	if len(res.Failed) != 1 || res.Failed[0].Index != 5 || res.Failed[0].Code != producer.CodeTooLarge || res.Failed[0].Attempts != 0 {
		t.Fatalf("Failed = %+v, want record 5 too_large, never put", res.Failed)
	}
	if msg := res.Failed[0].Message; !strings.Contains(msg, "1048577 bytes") || !strings.Contains(msg, "limit is 1048576") {
		t.Errorf("message %q does not give the size and the limit", msg)
	}
	// Five records of exactly 1 MiB fill one call of exactly 5 MiB.
	calls := px.Calls()
	if got := callSizes(calls); fmt.Sprint(got) != "[5 1]" || calls[0].Bytes != producer.MaxBytesPerCall {
		t.Errorf("calls %+v, want 5 records (5 MiB) then 1", calls)
	}
	if res.Sent != 6 {
		t.Errorf("Sent = %d, want 6", res.Sent)
	}
	checkExactlyOnce(t, readAll(t, stack.Kinesis, stream), append(recs[:5:5], recs[6]))
}

func TestSendRawRefusesBadPartitionKey(t *testing.T) {
	_, _, px, p := setup(t, 1)
	res, err := p.SendRaw(t.Context(),
		producer.Record{Data: []byte("{}"), PartitionKey: ""},
		producer.Record{Data: []byte("{}"), PartitionKey: strings.Repeat("k", producer.MaxPartitionKeyLength+1)},
		producer.Record{Data: []byte("{}"), PartitionKey: strings.Repeat("é", producer.MaxPartitionKeyLength)}, // 256 characters, 512 bytes: fine
	)
	if !errors.Is(err, producer.ErrBadPartitionKey) || len(res.Failed) != 2 || res.Sent != 1 {
		t.Fatalf("SendRaw = %+v, %v; want records 0 and 1 refused, 2 sent", res, err)
	}
	if len(px.Calls()) != 1 {
		t.Errorf("%d calls, want 1", len(px.Calls()))
	}
}

func TestSendRawRetriesRefusedRecordsOnly(t *testing.T) {
	stack, stream, px, p := setup(t, 2)
	// The first two calls have every third record refused, as a throttled shard does.
	px.refuse = func(call int, rec wireEntry) bool { return call < 2 && seqOf(t, rec.Data)%3 == 0 }
	recs := numbered(1200, 50)
	res, err := p.SendRaw(t.Context(), recs...)
	if err != nil {
		t.Fatalf("SendRaw: %v", err)
	}
	calls := px.Calls()
	refused := 0
	for _, c := range calls {
		refused += c.Refused
	}
	// Call 1 refuses 167 of records 0..499, call 2 167 of the 167 retried + 333 new.
	if refused == 0 || res.Retries != refused {
		t.Errorf("Retries = %d, the proxy refused %d", res.Retries, refused)
	}
	if res.Sent != 1200 || len(res.Failed) != 0 {
		t.Errorf("Result = %+v, want all 1200 sent", res)
	}
	if res.Calls != len(calls) {
		t.Errorf("Result.Calls = %d, the proxy saw %d", res.Calls, len(calls))
	}
	// Retried records go first in the next call: the second call starts with the refused ones.
	if calls[1].Records != 500 {
		t.Errorf("second call carried %d records, want a full call (retries + new)", calls[1].Records)
	}
	checkExactlyOnce(t, readAll(t, stack.Kinesis, stream), recs)
}

func TestSendRawGivesUpAfterMaxAttempts(t *testing.T) {
	stack, stream, px, p := setup(t, 1, producer.WithMaxAttempts(3))
	recs := numbered(20, 5)
	px.refuse = func(_ int, rec wireEntry) bool { return seqOf(t, rec.Data) == 7 }
	res, err := p.SendRaw(t.Context(), recs...)
	var recErr *producer.RecordError
	if !errors.As(err, &recErr) || recErr.Code != "ProvisionedThroughputExceededException" {
		t.Fatalf("SendRaw error = %v, want a ProvisionedThroughputExceededException RecordError", err)
	}
	if len(res.Failed) != 1 {
		t.Fatalf("Failed = %+v, want record 7 only", res.Failed)
	}
	f := res.Failed[0]
	if f.Index != 7 || f.Attempts != 3 || f.Code != "ProvisionedThroughputExceededException" || f.PartitionKey != "acc-2" {
		t.Errorf("Failure = %+v, want record 7 of acc-2 after 3 attempts", f)
	}
	if res.Sent != 19 || res.Calls != 3 || res.Retries != 2 {
		t.Errorf("Result = %+v, want 19 sent in 3 calls, 2 retries", res)
	}
	want := "producer: 1 of 20 records not sent (1 ProvisionedThroughputExceededException); first: record 7: ProvisionedThroughputExceededException: Rate exceeded"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want it to start %q", err, want)
	}
	checkExactlyOnce(t, readAll(t, stack.Kinesis, stream), append(recs[:7:7], recs[8:]...))
}

func TestSendRawStopsOnCallError(t *testing.T) {
	stack := emutest.Start(t)
	p, err := producer.New(stack.Kinesis, "no-such-stream-"+emutest.UniqueName(t), fast, producer.WithMaxRecordsPerCall(10))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.SendRaw(t.Context(), numbered(25, 3)...)
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("SendRaw error = %v, want ResourceNotFoundException", err)
	}
	if res.Calls != 1 || len(res.Failed) != 25 || res.Failed[0].Code != producer.CodeCallFailed {
		t.Errorf("Result = %d calls, %d failed (%+v), want 1 call and all 25 call_failed", res.Calls, len(res.Failed), res.Failed[0])
	}
}

func TestSendRawStopsWhenCanceled(t *testing.T) {
	t.Run("between calls", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		stack, stream, _, p := setup(t, 1, producer.WithMaxRecordsPerCall(100), producer.WithProgress(func(sent, total int) {
			if sent >= 300 {
				cancel()
			}
		}))
		recs := numbered(2000, 10)
		res, err := p.SendRaw(ctx, recs...)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("SendRaw error = %v, want context.Canceled", err)
		}
		if res.Sent != 300 || res.Calls != 3 || len(res.Failed) != 1700 {
			t.Fatalf("Result: %d sent in %d calls, %d failed; want 300 in 3, 1700 failed", res.Sent, res.Calls, len(res.Failed))
		}
		for i, f := range res.Failed {
			if f.Index != 300+i || f.Code != producer.CodeCanceled || f.Attempts != 0 {
				t.Fatalf("Failed[%d] = %+v, want record %d canceled, never put", i, f, 300+i)
			}
		}
		checkExactlyOnce(t, readAll(t, stack.Kinesis, stream), recs[:300])
	})
	t.Run("during backoff", func(t *testing.T) {
		_, _, px, p := setup(t, 1, producer.WithBackoff(retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
			return time.Hour, nil
		})))
		px.refuse = func(int, wireEntry) bool { return true }
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		res, err := p.SendRaw(ctx, numbered(10, 2)...)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("SendRaw took %s after the context ended", took)
		}
		if !errors.Is(err, context.DeadlineExceeded) || len(res.Failed) != 10 || res.Failed[0].Code != producer.CodeCanceled || res.Failed[0].Attempts != 1 {
			t.Errorf("SendRaw = %+v, %v; want all 10 canceled after one attempt", res, err)
		}
	})
	t.Run("during a call", func(t *testing.T) {
		_, _, px, p := setup(t, 1, producer.WithMaxRecordsPerCall(4))
		px.hang = true
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		res, err := p.SendRaw(ctx, numbered(10, 2)...)
		if !errors.Is(err, context.DeadlineExceeded) || len(res.Failed) != 10 {
			t.Fatalf("SendRaw = %+v, %v; want all 10 failed", res, err)
		}
		for i, f := range res.Failed {
			want := producer.CodeCanceled
			if i < 4 {
				want = producer.CodeInterrupted // in flight: may or may not be stored
			}
			if f.Code != want {
				t.Errorf("Failed[%d].Code = %s, want %s", i, f.Code, want)
			}
		}
	})
}

func TestSendRawKeepsOrderPerKey(t *testing.T) {
	for _, conc := range []int{1, 4} {
		t.Run(fmt.Sprint("concurrency ", conc), func(t *testing.T) {
			stack, stream, px, p := setup(t, 3, producer.WithConcurrency(conc), producer.WithMaxRecordsPerCall(100))
			recs := numbered(3000, 40)
			res, err := p.SendRaw(t.Context(), recs...)
			if err != nil {
				t.Fatalf("SendRaw: %v", err)
			}
			if conc > 1 && len(px.Calls()) <= 30 {
				t.Errorf("%d calls, want more than 30 with %d lanes", len(px.Calls()), conc)
			}
			got := readAll(t, stack.Kinesis, stream)
			checkExactlyOnce(t, got, recs)
			last := map[string]int{}
			for _, s := range got {
				seq := seqOf(t, s.Data)
				if prev, ok := last[s.Key]; ok && seq < prev {
					t.Fatalf("key %s: record %d stored after record %d", s.Key, seq, prev)
				}
				last[s.Key] = seq
			}
			if res.Sent != 3000 {
				t.Errorf("Sent = %d", res.Sent)
			}
		})
	}
}

func TestSendRawPrototypeShape(t *testing.T) {
	stack, stream, _, p := setup(t, 1)
	const account = "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f"
	proto := []byte(`{"ID":"7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01","Source":"application","Client":"examplebank",
	"Type":"fraud_detection","Event":{"TransactionID":"4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c","FraudScore":95,
	"CustomerID":"1e2d3c4b-5a69-4788-9abc-def012345678","AccountID":"` + account + `","Time":"2026-11-10T23:00:00Z"}}`)
	if _, err := p.SendRaw(t.Context(), producer.Record{Data: proto, PartitionKey: account}); err != nil {
		t.Fatalf("SendRaw: %v", err)
	}
	got := readAll(t, stack.Kinesis, stream)
	if len(got) != 1 || got[0].Key != account || !bytes.Equal(got[0].Data, proto) {
		t.Fatalf("stream holds %+v, want the prototype record keyed by its account", got)
	}
	e, err := event.Decode(got[0].Data)
	if err != nil || e.Type != event.TypeFraudAlert || e.Subject != account {
		t.Errorf("the router would decode it as %+v, %v; want a fraud_alert on %s", e, err, account)
	}
}

func TestSendEvents(t *testing.T) {
	stack, stream, _, p := setup(t, 2)
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	good := func(acc string) *event.Event {
		e, err := producer.AccountCheck("bank-a", "urn:bank:kyc", at, event.AccountCheck{AccountID: acc, Check: event.CheckKYC, Outcome: event.OutcomePass})
		if err != nil {
			t.Fatalf("AccountCheck: %v", err)
		}
		return e
	}
	wrongSubject := good("acc-2")
	wrongSubject.Subject = "acc-3"
	wrongType := good("acc-4")
	wrongType.Type = event.TypeTransaction // an account check's data under the transaction type
	events := []*event.Event{good("acc-1"), wrongSubject, nil, wrongType, good("acc-5")}

	res, err := p.Send(t.Context(), events...)
	var rej *event.RejectError
	if !errors.As(err, &rej) {
		t.Fatalf("Send error = %v, want a RejectError", err)
	}
	if res.Sent != 2 || len(res.Failed) != 3 {
		t.Fatalf("Result = %+v, want 2 sent and 3 refused", res)
	}
	for i, want := range map[int]string{0: "subject must equal data.accountId", 1: "the event is nil", 2: "data."} {
		f := res.Failed[i]
		if f.Index != []int{1, 2, 3}[i] || f.Code != event.CodeInvalid || f.Attempts != 0 || !strings.Contains(f.Message, want) {
			t.Errorf("Failed[%d] = %+v, want code invalid naming %q", i, f, want)
		}
	}
	got := readAll(t, stack.Kinesis, stream)
	if len(got) != 2 {
		t.Fatalf("stream holds %d records, want 2", len(got))
	}
	for _, s := range got {
		e, err := event.Decode(s.Data)
		if err != nil || s.Key != e.Subject {
			t.Errorf("stored %s keyed %s: %v", s.Data, s.Key, err)
		}
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	client := emulators.KinesisClient("")
	for name, opt := range map[string]producer.Option{
		"attempts 0":    producer.WithMaxAttempts(0),
		"records 501":   producer.WithMaxRecordsPerCall(501),
		"records 0":     producer.WithMaxRecordsPerCall(0),
		"concurrency 0": producer.WithConcurrency(0),
		"nil backoff":   producer.WithBackoff(nil),
	} {
		if _, err := producer.New(client, "s", opt); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := producer.New(nil, "s"); err == nil {
		t.Error("New accepted a nil client")
	}
	if _, err := producer.New(client, ""); err == nil {
		t.Error("New accepted an empty stream")
	}
}
