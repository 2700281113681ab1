package routing_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// ---- records ----

// envelope returns a valid CloudEvents envelope of type t on account acct, as a map, for tests to
// break one field at a time.
func envelope(t event.Type, id, acct string) map[string]any {
	data := map[event.Type]map[string]any{
		event.TypeTransaction: {
			"transactionId": "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c", "accountId": acct, "customerId": "cus-1",
			"amount": 1250, "currency": "EUR", "direction": "debit", "channel": "card",
			"merchant": map[string]any{"name": "Corner Shop", "mcc": "5411", "country": "IE"}, "fraudScore": 0,
		},
		event.TypeFraudAlert: {
			"accountId": acct, "score": 93, "reason": "card used in two countries within 5 minutes",
			"severity": "critical", "recommendedAction": "freeze",
		},
		event.TypeAccountStatus: {
			"accountId": acct, "action": "freeze", "blockedActions": []any{"debit", "card"}, "reason": "customer reported card stolen",
		},
		event.TypeAccountCheck: {
			"accountId": acct, "check": "kyc", "outcome": "pass", "score": 12,
		},
	}[t]
	return map[string]any{
		"specversion": "1.0", "id": id, "source": "urn:bank:authorizer", "type": string(t),
		"time": "2026-11-10T23:00:00Z", "subject": acct, "datacontenttype": "application/json",
		"tenant": "examplebank", "data": data,
	}
}

// set changes the value at a dotted path ("data.amount"); nil removes it.
func set(m map[string]any, path string, v any) map[string]any {
	parts := strings.Split(path, ".")
	cur := m
	for _, p := range parts[:len(parts)-1] {
		cur = cur[p].(map[string]any)
	}
	if v == nil {
		delete(cur, parts[len(parts)-1])
	} else {
		cur[parts[len(parts)-1]] = v
	}
	return m
}

// input is one record of a test batch before it gets its position: a builder of its bytes from
// the event id the position gives it.
type input struct {
	acct string
	data func(id string) []byte
	pk   string // the record's partition key; acct when empty
}

// keyedBy is in put on the stream with partition key pk instead of its account id.
func keyedBy(in input, pk string) input {
	in.pk = pk
	return in
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// valid is a valid record of type t on account acct.
func valid(t event.Type, acct string) input {
	return input{acct: acct, data: func(id string) []byte { return mustJSON(envelope(t, id, acct)) }}
}

// padded is a valid record of type t made n bytes larger by trailing whitespace: the router counts
// the record's bytes, while its JSON stays valid.
func padded(t event.Type, acct string, n int) input {
	return input{acct: acct, data: func(id string) []byte {
		return append(mustJSON(envelope(t, id, acct)), []byte(strings.Repeat(" ", n))...)
	}}
}

// broken is a record of type t with the field at path set to v (nil removes it).
func broken(t event.Type, acct, path string, v any) input {
	return input{acct: acct, data: func(id string) []byte { return mustJSON(set(envelope(t, id, acct), path, v)) }}
}

// rawInput is a record with the given bytes.
func rawInput(acct, data string) input {
	return input{acct: acct, data: func(string) []byte { return []byte(data) }}
}

func seq(i int) string     { return fmt.Sprintf("4965%020d", i) }
func eventID(i int) string { return fmt.Sprintf("evt-%02d", i) }

var arrival = time.Date(2026, 11, 10, 23, 0, 1, 0, time.UTC)

// build gives each input its position: record i has sequence number seq(i) and event id eventID(i).
func build(inputs []input) []routing.Record {
	recs := make([]routing.Record, len(inputs))
	for i, in := range inputs {
		recs[i] = routing.Record{
			Data:           in.data(eventID(i)),
			PartitionKey:   cmp.Or(in.pk, in.acct),
			ShardID:        "shardId-000000000000",
			SequenceNumber: seq(i),
			ArrivalTime:    arrival,
		}
	}
	return recs
}

// index returns the position of a sequence number built by seq.
func index(t *testing.T, s string) int {
	t.Helper()
	var i int
	if _, err := fmt.Sscanf(strings.TrimPrefix(s, "4965"), "%d", &i); err != nil {
		t.Fatalf("sequence number %q was not built by seq: %v", s, err)
	}
	return i
}

// ---- fakes ----

// invocation is one call of the fake invoker.
type invocation struct {
	typ     event.Type
	at      []int // record positions, in the order sent
	payload int   // bytes of the batch as JSON
}

// fakeInvoker records what it is sent and answers Stored for every record unless scripted
// otherwise.
type fakeInvoker struct {
	t        *testing.T
	calls    []invocation
	failType map[event.Type]bool      // Invoke returns an error for these types
	failCall map[int]bool             // ... and for these call numbers, from 1
	short    map[event.Type]bool      // answer one result fewer than records
	answers  map[string]typefn.Result // by sequence number: Status and Reason to answer
}

var errInvoke = errors.New("Rate Exceeded (TooManyRequestsException)")

func (f *fakeInvoker) Invoke(_ context.Context, t event.Type, b typefn.Batch) (typefn.Response, error) {
	call := invocation{typ: t, payload: len(mustJSON(b))}
	var resp typefn.Response
	for _, r := range b.Records {
		call.at = append(call.at, index(f.t, r.SequenceNumber))
		e, err := event.Decode(r.Event)
		if err != nil {
			f.t.Errorf("%s function sent a record that does not decode: %v", t, err)
			continue
		}
		if e.Type != t {
			f.t.Errorf("%s function sent event %s of type %s", t, e.ID, e.Type)
		}
		out := typefn.Result{SequenceNumber: r.SequenceNumber, ID: e.ID, Status: typefn.Stored}
		if a, ok := f.answers[r.SequenceNumber]; ok {
			out.Status, out.Reason = a.Status, a.Reason
		}
		resp.Results = append(resp.Results, out)
	}
	f.calls = append(f.calls, call)
	if f.failType[t] || f.failCall[len(f.calls)] {
		return typefn.Response{}, errInvoke
	}
	if f.short[t] {
		resp.Results = resp.Results[:len(resp.Results)-1]
	}
	return resp, nil
}

// fakeQuarantine records what it stores; it can be scripted to fail.
type fakeQuarantine struct {
	stored   []routing.Quarantined
	calls    int
	failCall map[int]bool    // Quarantine fails every record on these call numbers, from 1
	fail     bool            // ... or always
	failSeq  map[string]bool // ... or only the records of these sequence numbers
	short    bool            // answers one result too few
}

func (f *fakeQuarantine) Quarantine(_ context.Context, recs []routing.Quarantined) []error {
	f.calls++
	errs := make([]error, len(recs))
	var failed bool
	for i, q := range recs {
		if f.fail || f.failCall[f.calls] || f.failSeq[q.SequenceNumber] {
			errs[i], failed = errors.New("ProvisionedThroughputExceededException"), true
			continue
		}
		if !f.short {
			f.stored = append(f.stored, q)
		}
	}
	if f.short {
		return errs[:len(errs)-1]
	}
	if !failed {
		return nil
	}
	return errs
}

// ---- expectations ----

type sent struct {
	typ event.Type
	at  []int
}

type quar struct {
	at     int
	code   string
	reason string // a part of the reason, e.g. the field at fault
	typ    event.Type
	id     string // the event id, when a type function rejected it
}

// want is what a Route must do.
type want struct {
	sent        []sent
	failed      []int
	quarantined []quar
	done        map[event.Type]int
}

func check(t *testing.T, recs []routing.Record, inv *fakeInvoker, q *fakeQuarantine, res routing.Result, w want) {
	t.Helper()
	var got []sent
	for _, c := range inv.calls {
		got = append(got, sent{c.typ, c.at})
	}
	if !equalSent(got, w.sent) {
		t.Errorf("invocations:\n got  %v\n want %v", got, w.sent)
	}
	if res.Invocations != len(inv.calls) {
		t.Errorf("Result.Invocations = %d, invoker was called %d times", res.Invocations, len(inv.calls))
	}

	var wantFailed []string
	for _, i := range w.failed {
		wantFailed = append(wantFailed, seq(i))
	}
	if !slices.Equal(res.Failed, wantFailed) {
		t.Errorf("Failed:\n got  %v\n want %v", res.Failed, wantFailed)
	}

	if len(q.stored) != len(w.quarantined) {
		t.Errorf("quarantined %d records, want %d: %+v", len(q.stored), len(w.quarantined), q.stored)
	} else {
		for k, wq := range w.quarantined {
			g := q.stored[k]
			rec := recs[wq.at]
			if g.SequenceNumber != rec.SequenceNumber || g.ShardID != rec.ShardID || g.PartitionKey != rec.PartitionKey ||
				!g.ArrivalTime.Equal(rec.ArrivalTime) || string(g.Data) != string(rec.Data) {
				t.Errorf("quarantined[%d] is record %s, want record %d kept whole", k, g.SequenceNumber, wq.at)
			}
			if g.Code != wq.code {
				t.Errorf("quarantined[%d] (record %d) code %q, want %q (reason %q)", k, wq.at, g.Code, wq.code, g.Reason)
			}
			if !strings.Contains(g.Reason, wq.reason) {
				t.Errorf("quarantined[%d] (record %d) reason %q does not name %q", k, wq.at, g.Reason, wq.reason)
			}
			if wq.id != "" && (g.Type != wq.typ || g.EventID != wq.id) {
				t.Errorf("quarantined[%d] (record %d) is event %q of type %q, want %q of type %q", k, wq.at, g.EventID, g.Type, wq.id, wq.typ)
			}
		}
	}
	if res.Quarantined != len(q.stored) {
		t.Errorf("Result.Quarantined = %d, quarantine stored %d", res.Quarantined, len(q.stored))
	}

	if w.done == nil {
		w.done = map[event.Type]int{}
	}
	for _, typ := range event.Types {
		if res.Done[typ] != w.done[typ] {
			t.Errorf("Done[%s] = %d, want %d", typ, res.Done[typ], w.done[typ])
		}
	}

	// Whatever happened, no record was sent twice, and none both quarantined and failed.
	seen := map[int]bool{}
	for _, c := range inv.calls {
		for _, i := range c.at {
			if seen[i] {
				t.Errorf("record %d sent twice", i)
			}
			seen[i] = true
		}
	}
	for _, g := range q.stored {
		if slices.Contains(res.Failed, g.SequenceNumber) {
			t.Errorf("record %s is both quarantined and failed", g.SequenceNumber)
		}
	}
}

func equalSent(a, b []sent) bool {
	return slices.EqualFunc(a, b, func(x, y sent) bool { return x.typ == y.typ && slices.Equal(x.at, y.at) })
}

// ---- tests ----

const (
	acctA = "acc-A"
	acctB = "acc-B"
	acctC = "acc-C"
)

var (
	txn    = event.TypeTransaction
	alert  = event.TypeFraudAlert
	status = event.TypeAccountStatus
	chk    = event.TypeAccountCheck
)

func TestRoute(t *testing.T) {
	// oversize is valid JSON of a valid event, made too large by whitespace alone.
	oversize := padded(txn, acctB, event.MaxRecordBytes)
	conflictReason := "conflict: event id evt-01 is already used by an event with different content"

	cases := []struct {
		name string
		in   []input
		inv  fakeInvoker
		q    fakeQuarantine
		want want
	}{
		{
			name: "groups by type in event.Types order, stream order within a group, one invocation per type",
			in: []input{
				valid(txn, acctA), valid(status, acctA), valid(txn, acctB), valid(alert, acctB),
				valid(chk, acctA), valid(status, acctB), valid(txn, acctA), valid(alert, acctC), valid(chk, acctC),
			},
			want: want{
				sent: []sent{{status, []int{1, 5}}, {alert, []int{3, 7}}, {chk, []int{4, 8}}, {txn, []int{0, 2, 6}}},
				done: map[event.Type]int{status: 2, alert: 2, chk: 2, txn: 3},
			},
		},
		{
			name: "only the types present are invoked",
			in:   []input{valid(txn, acctA), valid(txn, acctB), valid(txn, acctA)},
			want: want{sent: []sent{{txn, []int{0, 1, 2}}}, done: map[event.Type]int{txn: 3}},
		},
		{
			name: "an empty batch invokes nothing",
			want: want{},
		},
		{
			name: "records that cannot decode are quarantined with their code and reason, never sent, never failed",
			in: []input{
				valid(txn, acctA),
				rawInput(acctA, `{"id": `),
				broken(txn, acctB, "type", "loan"),
				broken(txn, acctB, "data.amount", 0),
				oversize,
				rawInput(acctC, `[1,2]`),
				broken(alert, acctC, "data.severity", "urgent"),
				broken(status, acctA, "subject", "acc-Z"),
				broken(txn, acctC, "type", nil),
				broken(chk, acctC, "time", "yesterday"),
				valid(txn, acctB),
			},
			want: want{
				sent: []sent{{txn, []int{0, 10}}},
				quarantined: []quar{
					{at: 1, code: event.CodeNotJSON, reason: "not valid JSON"},
					{at: 2, code: event.CodeUnknownType, reason: `type "loan"`},
					{at: 3, code: event.CodeInvalid, reason: "data.amount"},
					{at: 4, code: event.CodeOversize, reason: fmt.Sprint(event.MaxRecordBytes), typ: txn, id: eventID(4)},
					{at: 5, code: event.CodeNotJSON, reason: "JSON object"},
					{at: 6, code: event.CodeInvalid, reason: "data.severity"},
					{at: 7, code: event.CodeInvalid, reason: "subject"},
					{at: 8, code: event.CodeInvalid, reason: "type is required"},
					{at: 9, code: event.CodeInvalid, reason: "time"},
				},
				done: map[event.Type]int{txn: 2},
			},
		},
		{
			// A rejected record does not hold back its account: it will never be applied.
			name: "a record the type function rejects is quarantined with its reason",
			in:   []input{valid(txn, acctA), valid(txn, acctA), valid(chk, acctB), valid(txn, acctA)},
			inv: fakeInvoker{answers: map[string]typefn.Result{
				seq(1): {Status: typefn.Rejected, Reason: conflictReason},
				seq(2): {Status: typefn.Rejected, Reason: "invalid: data.score must be between 0 and 100"},
			}},
			want: want{
				sent: []sent{{chk, []int{2}}, {txn, []int{0, 1, 3}}},
				quarantined: []quar{
					{at: 2, code: event.CodeInvalid, reason: "data.score", typ: chk, id: eventID(2)},
					{at: 1, code: event.CodeConflict, reason: conflictReason, typ: txn, id: eventID(1)},
				},
				done: map[event.Type]int{txn: 2},
			},
		},
		{
			name: "a rejection without a known code is quarantined as invalid",
			in:   []input{valid(alert, acctA)},
			inv:  fakeInvoker{answers: map[string]typefn.Result{seq(0): {Status: typefn.Rejected, Reason: "something odd"}}},
			want: want{
				sent:        []sent{{alert, []int{0}}},
				quarantined: []quar{{at: 0, code: event.CodeInvalid, reason: "something odd", typ: alert, id: eventID(0)}},
			},
		},
		{
			name: "duplicate counts as done",
			in:   []input{valid(txn, acctA), valid(txn, acctB)},
			inv:  fakeInvoker{answers: map[string]typefn.Result{seq(0): {Status: typefn.Duplicate}}},
			want: want{sent: []sent{{txn, []int{0, 1}}}, done: map[event.Type]int{txn: 2}},
		},
		{
			name: "Retry puts the record in Failed",
			in:   []input{valid(txn, acctA), valid(txn, acctB), valid(txn, acctC)},
			inv:  fakeInvoker{answers: map[string]typefn.Result{seq(1): {Status: typefn.Retry, Reason: "throttled"}}},
			want: want{sent: []sent{{txn, []int{0, 1, 2}}}, failed: []int{1}, done: map[event.Type]int{txn: 2}},
		},
		{
			name: "an unknown status is retried, not taken as done",
			in:   []input{valid(txn, acctA)},
			inv:  fakeInvoker{answers: map[string]typefn.Result{seq(0): {Status: "maybe"}}},
			want: want{sent: []sent{{txn, []int{0}}}, failed: []int{0}},
		},
		{
			name: "an Invoke error fails every record of the chunk; other accounts go on",
			in:   []input{valid(alert, acctA), valid(txn, acctB), valid(alert, acctB), valid(chk, acctC), valid(txn, acctC)},
			inv:  fakeInvoker{failType: map[event.Type]bool{alert: true}},
			want: want{
				// B's transaction (1) is earlier than B's failed alert (2): it is sent.
				sent:   []sent{{alert, []int{0, 2}}, {chk, []int{3}}, {txn, []int{1, 4}}},
				failed: []int{0, 2},
				done:   map[event.Type]int{chk: 1, txn: 2},
			},
		},
		{
			name: "an answer with too few results fails every record of the chunk",
			in:   []input{valid(status, acctA), valid(status, acctB), valid(chk, acctC)},
			inv:  fakeInvoker{short: map[event.Type]bool{status: true}},
			want: want{sent: []sent{{status, []int{0, 1}}, {chk, []int{2}}}, failed: []int{0, 1}, done: map[event.Type]int{chk: 1}},
		},
		{
			name: "after a transient failure of account A, A's later records are not sent and fail; earlier ones and other accounts are sent",
			in: []input{
				valid(txn, acctA),    // 0: earlier than the failure: sent
				valid(alert, acctA),  // 1: earlier, in a group before the failure: sent
				valid(status, acctB), // 2
				valid(status, acctA), // 3: fails (Retry)
				valid(status, acctA), // 4: same chunk as 3: sent; its type function answers Retry too
				valid(alert, acctA),  // 5: later group, later record: held back
				valid(chk, acctB),    // 6
				valid(txn, acctA),    // 7: held back
				valid(txn, acctB),    // 8
				valid(chk, acctA),    // 9: held back
			},
			inv: fakeInvoker{answers: map[string]typefn.Result{seq(3): {Status: typefn.Retry}, seq(4): {Status: typefn.Retry}}},
			want: want{
				sent:   []sent{{status, []int{2, 3, 4}}, {alert, []int{1}}, {chk, []int{6}}, {txn, []int{0, 8}}},
				failed: []int{3, 4, 5, 7, 9},
				done:   map[event.Type]int{status: 1, alert: 1, chk: 1, txn: 2},
			},
		},
		{
			name: "records of one account under other partition keys are held back too",
			in: []input{
				keyedBy(valid(status, acctA), "key-1"), // 0: Retry
				keyedBy(valid(txn, acctA), "key-2"),    // 1: the same account: held back
				keyedBy(valid(txn, acctB), "key-3"),    // 2: sent
			},
			inv: fakeInvoker{answers: map[string]typefn.Result{seq(0): {Status: typefn.Retry}}},
			want: want{
				sent:   []sent{{status, []int{0}}, {txn, []int{2}}},
				failed: []int{0, 1},
				done:   map[event.Type]int{txn: 1},
			},
		},
		{
			name: "a failure in a later group does not reach back; Failed is in stream order",
			in: []input{
				valid(txn, acctA),    // 0: Retry, though invoked last
				valid(status, acctA), // 1: sent first (status goes first), before the failure is known
				valid(txn, acctB),    // 2
				valid(status, acctB), // 3: Retry
				valid(txn, acctB),    // 4: held back by 3
				valid(chk, acctA),    // 5: sent: the checks go before the failure of 0 is known
			},
			inv: fakeInvoker{answers: map[string]typefn.Result{seq(0): {Status: typefn.Retry}, seq(3): {Status: typefn.Retry}}},
			want: want{
				sent:   []sent{{status, []int{1, 3}}, {chk, []int{5}}, {txn, []int{0, 2}}},
				failed: []int{0, 3, 4},
				done:   map[event.Type]int{status: 1, chk: 1, txn: 1},
			},
		},
		{
			name: "an account whose every later record is held back is not invoked at all",
			in:   []input{valid(status, acctA), valid(alert, acctA), valid(txn, acctA)},
			inv:  fakeInvoker{failType: map[event.Type]bool{status: true}},
			want: want{sent: []sent{{status, []int{0}}}, failed: []int{0, 1, 2}},
		},
		{
			name: "a quarantine failure fails the bad records and holds back their accounts' later records",
			in: []input{
				valid(txn, acctA),                       // 0: earlier than the bad record: sent
				broken(txn, acctA, "data.amount", -5),   // 1: cannot be quarantined: failed
				valid(status, acctA),                    // 2: held back
				valid(txn, acctB),                       // 3
				rawInput(acctB, "hello"),                // 4: cannot be quarantined: failed
				valid(txn, acctB),                       // 5: held back
				valid(alert, acctC),                     // 6
				broken(alert, acctC, "data.score", 200), // 7
			},
			q: fakeQuarantine{fail: true},
			want: want{
				sent:   []sent{{alert, []int{6}}, {txn, []int{0, 3}}},
				failed: []int{1, 2, 4, 5, 7},
				done:   map[event.Type]int{alert: 1, txn: 2},
			},
		},
		{
			name: "a failure to quarantine rejected records fails them",
			in:   []input{valid(txn, acctA), valid(txn, acctB), valid(txn, acctA)},
			inv:  fakeInvoker{answers: map[string]typefn.Result{seq(1): {Status: typefn.Rejected, Reason: "invalid: data.amount must be at least 1 minor unit"}}},
			q:    fakeQuarantine{fail: true},
			want: want{sent: []sent{{txn, []int{0, 1, 2}}}, failed: []int{1}, done: map[event.Type]int{txn: 2}},
		},
		{
			name: "one record's failure to be quarantined fails no other record",
			in: []input{
				rawInput(acctA, "nope"),                 // 0: cannot be quarantined: failed
				broken(txn, acctB, "data.amount", -5),   // 1: quarantined
				valid(txn, acctA),                       // 2: held back behind 0
				valid(txn, acctB),                       // 3: sent
				broken(alert, acctC, "data.score", 200), // 4: quarantined
			},
			q: fakeQuarantine{failSeq: map[string]bool{seq(0): true}},
			want: want{
				sent:   []sent{{txn, []int{3}}},
				failed: []int{0, 2},
				quarantined: []quar{
					{at: 1, code: event.CodeInvalid, reason: "data.amount"},
					{at: 4, code: event.CodeInvalid, reason: "data.score"},
				},
				done: map[event.Type]int{txn: 1},
			},
		},
		{
			name: "a quarantine answering the wrong number of results fails every record it was given",
			in:   []input{rawInput(acctA, "nope"), broken(txn, acctB, "data.amount", -5), valid(txn, acctC)},
			q:    fakeQuarantine{short: true},
			want: want{
				sent:   []sent{{txn, []int{2}}},
				failed: []int{0, 1},
				done:   map[event.Type]int{txn: 1},
			},
		},
		{
			name: "decode-time quarantine succeeds while the second one fails",
			in:   []input{rawInput(acctA, "nope"), valid(chk, acctB), valid(chk, acctC)},
			inv:  fakeInvoker{answers: map[string]typefn.Result{seq(2): {Status: typefn.Rejected, Reason: "invalid: data.check must be kyc"}}},
			q:    fakeQuarantine{failCall: map[int]bool{2: true}},
			want: want{
				sent:        []sent{{chk, []int{1, 2}}},
				failed:      []int{2},
				quarantined: []quar{{at: 0, code: event.CodeNotJSON, reason: "not valid JSON"}},
				done:        map[event.Type]int{chk: 1},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs := build(c.in)
			inv, q := c.inv, c.q
			inv.t = t
			r := &routing.Router{Invoker: &inv, Quarantine: &q}
			res := r.Route(context.Background(), recs)
			check(t, recs, &inv, &q, res, c.want)
		})
	}
}

// TestRouteChunks checks that a group larger than MaxPayloadBytes is split into several
// invocations under the limit, in order, every record sent exactly once, and that the per-account
// rule holds across chunks.
func TestRouteChunks(t *testing.T) {
	accts := []string{acctA, acctB, acctC}
	var in []input
	for i := range 12 {
		in = append(in, padded(txn, accts[i%3], 500))
	}
	in = append(in, valid(chk, acctA), valid(chk, acctB)) // 12, 13
	recs := build(in)
	one := len(recs[0].Data) + len(recs[0].SequenceNumber)
	limit := 3*one + 3*one/2 // room for 3 or 4 records with their JSON, never 5

	cases := []struct {
		name   string
		inv    fakeInvoker
		minTxn int   // at least this many transaction invocations
		failed []int // exact
		// held: records never sent
		held []int
	}{
		{name: "all succeed", minTxn: 3},
		{
			name: "a failed chunk holds back its accounts in later chunks",
			// call 1 is the checks; call 2 is the first transaction chunk (A, B, C, ...): it fails,
			// so every later transaction of A, B and C is held back.
			inv:    fakeInvoker{failCall: map[int]bool{2: true}},
			minTxn: 1,
		},
		{
			name:   "a Retry in the first chunk holds back only that account's later records",
			inv:    fakeInvoker{answers: map[string]typefn.Result{seq(1): {Status: typefn.Retry}}},
			minTxn: 3,
			failed: []int{1, 4, 7, 10},
			held:   []int{4, 7, 10},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := c.inv
			inv.t = t
			q := &fakeQuarantine{}
			r := &routing.Router{Invoker: &inv, Quarantine: q, MaxPayloadBytes: limit}
			res := r.Route(context.Background(), recs)

			var order []int
			var txnCalls int
			sentAt := map[int]int{}
			for n, call := range inv.calls {
				if call.payload > limit {
					t.Errorf("call %d: payload %d bytes, over the limit %d", n+1, call.payload, limit)
				}
				if len(call.at) == 0 {
					t.Errorf("call %d sends no record", n+1)
				}
				if call.typ == txn {
					txnCalls++
					order = append(order, call.at...)
				}
				for _, i := range call.at {
					if _, dup := sentAt[i]; dup {
						t.Errorf("record %d sent twice", i)
					}
					sentAt[i] = n
				}
			}
			if inv.calls[0].typ != chk || !slices.Equal(inv.calls[0].at, []int{12, 13}) {
				t.Errorf("first call %+v, want the two checks", inv.calls[0])
			}
			if txnCalls < c.minTxn {
				t.Errorf("%d transaction invocations, want at least %d (limit %d, record %d bytes)", txnCalls, c.minTxn, limit, one)
			}
			if !slices.IsSorted(order) {
				t.Errorf("transactions sent in order %v, want stream order", order)
			}
			if res.Invocations != len(inv.calls) {
				t.Errorf("Result.Invocations = %d, want %d", res.Invocations, len(inv.calls))
			}

			switch c.name {
			case "all succeed":
				if len(order) != 12 || len(res.Failed) != 0 || res.Done[txn] != 12 {
					t.Errorf("sent %v, failed %v, done %v; want all 12 sent once and done", order, res.Failed, res.Done)
				}
			case "a failed chunk holds back its accounts in later chunks":
				if txnCalls != 1 {
					t.Errorf("%d transaction invocations after the first chunk failed, want 1: every account is held back", txnCalls)
				}
				var want []string
				for i := range 12 {
					want = append(want, seq(i))
				}
				if !slices.Equal(res.Failed, want) {
					t.Errorf("Failed %v, want every transaction %v", res.Failed, want)
				}
			default:
				var want []string
				for _, i := range c.failed {
					want = append(want, seq(i))
				}
				if !slices.Equal(res.Failed, want) {
					t.Errorf("Failed %v, want %v", res.Failed, want)
				}
				for _, i := range c.held {
					if _, ok := sentAt[i]; ok {
						t.Errorf("record %d of the failed account was sent", i)
					}
				}
				for i := range 12 {
					if _, ok := sentAt[i]; !ok && !slices.Contains(c.held, i) {
						t.Errorf("record %d was not sent", i)
					}
				}
			}
		})
	}
}

// TestRouteDefaultLimitOneInvocationPerType checks that a full-size Kinesis batch of small
// records goes in one invocation per type.
func TestRouteDefaultLimitOneInvocationPerType(t *testing.T) {
	var in []input
	for i := range 400 {
		in = append(in, valid(event.Types[i%4], fmt.Sprintf("acc-%d", i%7)))
	}
	inv := &fakeInvoker{t: t}
	r := &routing.Router{Invoker: inv, Quarantine: &fakeQuarantine{}}
	res := r.Route(context.Background(), build(in))
	if len(inv.calls) != 4 || res.Invocations != 4 {
		t.Fatalf("%d invocations, want 4", len(inv.calls))
	}
	for k, call := range inv.calls {
		if call.typ != event.Types[k] || len(call.at) != 100 {
			t.Errorf("call %d: %s with %d records, want %s with 100", k+1, call.typ, len(call.at), event.Types[k])
		}
	}
}
