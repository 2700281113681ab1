package typefn_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// ---- events ----

const (
	bank  = "examplebank"
	other = "otherbank"
)

var t0 = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// ev is a test event; raw turns it into a valid CloudEvents record.
type ev struct {
	typ    event.Type
	id     string
	tenant string
	acct   string
	min    int
	data   map[string]any // the payload without accountId
}

func (e ev) envelope() map[string]any {
	data := map[string]any{"accountId": e.acct}
	for k, v := range e.data {
		data[k] = v
	}
	return map[string]any{
		"specversion": "1.0", "id": e.id, "source": "urn:bank:core", "type": string(e.typ),
		"time": at(e.min).Format(time.RFC3339Nano), "subject": e.acct, "datacontenttype": "application/json",
		"tenant": e.tenant, "data": data,
	}
}

func (e ev) seq() string { return "seq-" + e.tenant + "-" + e.id }

// rec is e as a record, with a sequence number derived from its tenant and id.
func (e ev) rec() typefn.Record {
	return typefn.Record{SequenceNumber: e.seq(), Event: mustJSON(e.envelope())}
}

// with is e as a record with the field at path (dotted, from the envelope's root) set to v; nil
// removes it.
func (e ev) with(path string, v any) typefn.Record {
	m := e.envelope()
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
	return typefn.Record{SequenceNumber: e.seq(), Event: mustJSON(m)}
}

func (e ev) in(tenant string) ev { e.tenant = tenant; return e }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// uuid derives a stable UUID from s.
func uuid(s string) string {
	h := fmt.Sprintf("%x", sha256.Sum256([]byte(s)))
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

func txn(id, acct string, min int, direction, channel string) ev {
	return ev{event.TypeTransaction, id, bank, acct, min, map[string]any{
		"transactionId": uuid(id), "customerId": "cus-1", "amount": 1250, "currency": "EUR",
		"direction": direction, "channel": channel,
	}}
}

func freeze(id, acct string, min int, blocked ...string) ev {
	d := map[string]any{"action": "freeze", "reason": "customer reported card stolen"}
	if len(blocked) > 0 {
		d["blockedActions"] = blocked
	}
	return ev{event.TypeAccountStatus, id, bank, acct, min, d}
}

// freezeFrom is a freeze decided at minute min that takes effect at minute effective.
func freezeFrom(id, acct string, min, effective int, blocked ...string) ev {
	e := freeze(id, acct, min, blocked...)
	e.data["effectiveAt"] = at(effective).Format(time.RFC3339Nano)
	return e
}

func unfreeze(id, acct string, min int) ev {
	return ev{event.TypeAccountStatus, id, bank, acct, min, map[string]any{"action": "unfreeze", "reason": "card found"}}
}

func monitor(id, acct string, min int, level string) ev {
	return ev{event.TypeAccountStatus, id, bank, acct, min, map[string]any{"action": "monitor", "monitoringLevel": level, "reason": "manual review"}}
}

func alert(id, acct string, min int, severity, action string) ev {
	return ev{event.TypeFraudAlert, id, bank, acct, min, map[string]any{
		"score": 80, "reason": "card used in two countries", "severity": severity, "recommendedAction": action,
	}}
}

func check(id, acct string, min int, outcome string) ev {
	return ev{event.TypeAccountCheck, id, bank, acct, min, map[string]any{"check": "kyc", "outcome": outcome, "score": 12}}
}

func batch(recs ...typefn.Record) typefn.Batch { return typefn.Batch{Records: recs} }

func recs(evs ...ev) []typefn.Record {
	out := make([]typefn.Record, len(evs))
	for i, e := range evs {
		out[i] = e.rec()
	}
	return out
}

// handle runs t's handler on b; Handle never fails for a record's content.
func handle(t *testing.T, s *memStore, typ event.Type, b typefn.Batch) []typefn.Result {
	t.Helper()
	resp, err := typefn.New(typ, s, nil).Handle(context.Background(), b)
	if err != nil {
		t.Fatalf("%s Handle: %v", typ, err)
	}
	if len(resp.Results) != len(b.Records) {
		t.Fatalf("%s Handle: %d results for %d records", typ, len(resp.Results), len(b.Records))
	}
	for i, r := range resp.Results {
		if r.SequenceNumber != b.Records[i].SequenceNumber {
			t.Errorf("%s result %d has sequence number %q, want %q", typ, i, r.SequenceNumber, b.Records[i].SequenceNumber)
		}
	}
	return resp.Results
}

// mustHandle runs t's handler on b and requires every record to end Stored or Duplicate.
func mustHandle(t *testing.T, s *memStore, typ event.Type, b typefn.Batch) []typefn.Result {
	t.Helper()
	res := handle(t, s, typ, b)
	for i, r := range res {
		if r.Status != typefn.Stored && r.Status != typefn.Duplicate {
			t.Fatalf("%s record %d (%s): %s %s", typ, i, r.ID, r.Status, r.Reason)
		}
	}
	return res
}

// ---- expectations ----

// out is an expected Result: its status, event id, and a part of its reason (a prefix when it
// ends with ":" — the reject code).
type out struct {
	status typefn.Status
	id     string
	reason string
}

func checkResults(t *testing.T, got []typefn.Result, want []out) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Status != w.status || g.ID != w.id {
			t.Errorf("result %d: %s %q (%s), want %s %q", i, g.Status, g.ID, g.Reason, w.status, w.id)
		}
		switch {
		case w.reason == "" && (g.Status == typefn.Stored || g.Status == typefn.Duplicate) && g.Reason != "":
			t.Errorf("result %d: %s with reason %q", i, g.Status, g.Reason)
		case strings.HasSuffix(w.reason, ":") && !strings.HasPrefix(g.Reason, w.reason):
			t.Errorf("result %d: reason %q does not start with %q", i, g.Reason, w.reason)
		case !strings.Contains(g.Reason, w.reason):
			t.Errorf("result %d: reason %q does not name %q", i, g.Reason, w.reason)
		}
		if (g.Status == typefn.Rejected || g.Status == typefn.Retry) && g.Reason == "" {
			t.Errorf("result %d: %s without a reason", i, g.Status)
		}
	}
}

// ---- tests ----

func TestHandleOutcomes(t *testing.T) {
	a1 := alert("a1", "acc-1", 10, event.SeverityHigh, event.RecommendMonitor)
	a1changed := alert("a1", "acc-1", 10, event.SeverityCritical, event.RecommendMonitor)
	a2 := alert("a2", "acc-2", 11, event.SeverityLow, event.RecommendFreeze)
	c1 := check("c1", "acc-1", 12, event.OutcomePass)
	t1 := txn("t1", "acc-1", 13, event.ActionDebit, event.ActionCard)

	cases := []struct {
		name   string
		typ    event.Type
		before [][]typefn.Record // batches handled first, all stored
		batch  []typefn.Record
		want   []out
		// stored lists events that must be stored afterwards with the fingerprint of ev.
		stored []ev
	}{
		{
			name:   "a valid batch is stored, one result per record in order",
			typ:    event.TypeFraudAlert,
			batch:  recs(a1, a2, a1.in(other)),
			want:   []out{{typefn.Stored, "a1", ""}, {typefn.Stored, "a2", ""}, {typefn.Stored, "a1", ""}},
			stored: []ev{a1, a2, a1.in(other)},
		},
		{
			name:  "an empty batch",
			typ:   event.TypeFraudAlert,
			batch: nil,
			want:  []out{},
		},
		{
			name:   "a duplicate within a batch",
			typ:    event.TypeFraudAlert,
			batch:  recs(a1, a2, a1),
			want:   []out{{typefn.Stored, "a1", ""}, {typefn.Stored, "a2", ""}, {typefn.Duplicate, "a1", ""}},
			stored: []ev{a1, a2},
		},
		{
			name:   "a duplicate across batches",
			typ:    event.TypeFraudAlert,
			before: [][]typefn.Record{recs(a1)},
			batch:  recs(a2, a1),
			want:   []out{{typefn.Stored, "a2", ""}, {typefn.Duplicate, "a1", ""}},
			stored: []ev{a1, a2},
		},
		{
			name: "a duplicate differently formatted is still a duplicate",
			typ:  event.TypeFraudAlert,
			// the same instant in another zone, with whitespace around the record
			before: [][]typefn.Record{recs(a1)},
			batch: []typefn.Record{{SequenceNumber: a1.seq(), Event: append([]byte(" \n"),
				a1.with("time", at(10).In(time.FixedZone("CET", 3600)).Format(time.RFC3339)).Event...)}},
			want:   []out{{typefn.Duplicate, "a1", ""}},
			stored: []ev{a1},
		},
		{
			name:   "the same id with other content within a batch is a conflict",
			typ:    event.TypeFraudAlert,
			batch:  recs(a1, a1changed),
			want:   []out{{typefn.Stored, "a1", ""}, {typefn.Rejected, "a1", "conflict:"}},
			stored: []ev{a1},
		},
		{
			name:   "the same id with other content across batches is a conflict",
			typ:    event.TypeFraudAlert,
			before: [][]typefn.Record{recs(a1)},
			batch:  recs(a1changed, a2),
			want:   []out{{typefn.Rejected, "a1", "conflict:"}, {typefn.Stored, "a2", ""}},
			stored: []ev{a1, a2},
		},
		{
			name:   "the same id in another tenant is another event",
			typ:    event.TypeFraudAlert,
			before: [][]typefn.Record{recs(a1)},
			batch:  recs(a1changed.in(other)),
			want:   []out{{typefn.Stored, "a1", ""}},
			stored: []ev{a1, a1changed.in(other)},
		},
		{
			name:  "an invalid record is rejected naming the field; the others are stored",
			typ:   event.TypeAccountCheck,
			batch: []typefn.Record{c1.rec(), check("c2", "acc-1", 12, event.OutcomePass).with("data.outcome", "maybe"), check("c3", "acc-2", 1, event.OutcomeFail).rec()},
			want: []out{
				{typefn.Stored, "c1", ""},
				{typefn.Rejected, "", "data.outcome"},
				{typefn.Stored, "c3", ""},
			},
			stored: []ev{c1, check("c3", "acc-2", 1, event.OutcomeFail)},
		},
		{
			name:  "an invalid transaction is rejected with the invalid code",
			typ:   event.TypeTransaction,
			batch: []typefn.Record{t1.with("data.currency", "EURO")},
			want:  []out{{typefn.Rejected, "", "invalid: data.currency"}},
		},
		{
			name:   "a record that is not JSON is rejected",
			typ:    event.TypeTransaction,
			batch:  []typefn.Record{{SequenceNumber: "seq-x", Event: json.RawMessage(`"hello"`)}, t1.rec()},
			want:   []out{{typefn.Rejected, "", "not_json:"}, {typefn.Stored, "t1", ""}},
			stored: []ev{t1},
		},
		{
			name:  "a record of another type is rejected",
			typ:   event.TypeAccountCheck,
			batch: recs(c1, t1),
			want:  []out{{typefn.Stored, "c1", ""}, {typefn.Rejected, "t1", "transaction"}},
			// t1 must not be stored by the check function
			stored: []ev{c1},
		},
		{
			name:  "a record of an unknown type is rejected",
			typ:   event.TypeAccountCheck,
			batch: []typefn.Record{c1.with("type", "loan")},
			want:  []out{{typefn.Rejected, "", "unknown_type:"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newMemStore()
			for _, b := range c.before {
				mustHandle(t, s, c.typ, batch(b...))
			}
			res := handle(t, s, c.typ, batch(c.batch...))
			checkResults(t, res, c.want)
			if n := len(s.snapshot().Events); n != len(c.stored) {
				t.Errorf("%d events stored, want %d", n, len(c.stored))
			}
			for _, e := range c.stored {
				got, ok := s.stored(e.tenant, e.id)
				if !ok {
					t.Errorf("event %s/%s not stored", e.tenant, e.id)
					continue
				}
				want, err := event.Decode(e.rec().Event)
				if err != nil {
					t.Fatal(err)
				}
				if got.Fingerprint != want.Fingerprint() || got.SequenceNumber != e.seq() {
					t.Errorf("event %s/%s stored with other content or sequence number %q", e.tenant, e.id, got.SequenceNumber)
				}
			}
		})
	}
}

// TestHandlePrototypeShape checks that a record in the original prototype's shape, what a person
// may still send by hand, is stored.
func TestHandlePrototypeShape(t *testing.T) {
	s := newMemStore()
	res := handle(t, s, event.TypeAccountCheck, batch(typefn.Record{Event: json.RawMessage(
		`{"ID":"0d2c4b6a-8e1f-4a3b-9c5d-7e6f8a9b0c1d","Source":"urn:proto","Type":"check_account","Client":"examplebank",` +
			`"Event":{"CustomerID":"5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716","AccountID":"9b2d7c1e-0a4f-4e8b-8c3d-5f6a7b8c9d00","FraudScore":12,"Time":"2026-11-10T09:00:00Z"}}`)}))
	checkResults(t, res, []out{{typefn.Stored, "0d2c4b6a-8e1f-4a3b-9c5d-7e6f8a9b0c1d", ""}})
	if _, ok := s.stored(bank, "0d2c4b6a-8e1f-4a3b-9c5d-7e6f8a9b0c1d"); !ok {
		t.Error("the prototype's record not stored")
	}
}

// TestHandleAppliesAccountChanges checks that stored status changes and alerts reach the
// account's state, and duplicates and conflicts do not.
func TestHandleAppliesAccountChanges(t *testing.T) {
	s := newMemStore()
	mustHandle(t, s, event.TypeAccountStatus, batch(recs(
		freeze("s1", "acc-1", 10, event.ActionCard), unfreeze("s2", "acc-1", 20), monitor("s3", "acc-1", 5, event.SeverityLow),
	)...))
	mustHandle(t, s, event.TypeFraudAlert, batch(recs(alert("a1", "acc-1", 30, event.SeverityHigh, event.RecommendFreeze))...))
	res := handle(t, s, event.TypeFraudAlert, batch(recs(alert("a1", "acc-1", 31, event.SeverityCritical, event.RecommendFreeze))...))
	checkResults(t, res, []out{{typefn.Rejected, "a1", "conflict:"}})

	snap := s.snapshot()
	k := typefn.AccountKey{Tenant: bank, Account: "acc-1"}
	wantLog := []string{
		event.TimeKey(at(10)) + "|s1|freeze|card",
		event.TimeKey(at(20)) + "|s2|unfreeze|",
		event.TimeKey(at(30)) + "|a1|freeze|debit",
	}
	if !slices.Equal(snap.FreezeLog[k], wantLog) {
		t.Errorf("freeze log\n got  %q\n want %q", snap.FreezeLog[k], wantLog)
	}
	if snap.Monitoring[k] != event.SeverityHigh {
		t.Errorf("monitoring level %q, want high (the conflicting critical alert must not count)", snap.Monitoring[k])
	}
}

// frozenHistory, frozenAlerts and frozenTxns are acc-1's history for the flagging tests, with the flag each transaction must get.
var (
	frozenHistory = []ev{
		freeze("f1", "acc-1", 10, event.ActionDebit, event.ActionCard),
		unfreeze("u1", "acc-1", 20),
		freezeFrom("f2", "acc-1", 40, 50), // decided at 40, effective at 50, blocks everything
	}
	frozenAlerts = []ev{alert("x1", "acc-1", 30, event.SeverityCritical, event.RecommendFreeze)} // blocks debits
	frozenTxns   = []struct {
		e    ev
		want string
	}{
		{txn("t05", "acc-1", 5, event.ActionDebit, event.ActionCard), ""},
		{txn("t10", "acc-1", 10, event.ActionDebit, event.ActionCard), "f1"},
		{txn("t15", "acc-1", 15, event.ActionCredit, event.ActionTransfer), ""},
		{txn("t15c", "acc-1", 15, event.ActionCredit, event.ActionCard), "f1"},
		{txn("t25", "acc-1", 25, event.ActionDebit, event.ActionCard), ""},
		{txn("t35", "acc-1", 35, event.ActionDebit, event.ActionOnline), "x1"},
		{txn("t35c", "acc-1", 35, event.ActionCredit, event.ActionATM), ""},
		{txn("t45", "acc-1", 45, event.ActionCredit, event.ActionOnline), ""},
		{txn("t55", "acc-1", 55, event.ActionCredit, event.ActionOnline), "f2"},
		{txn("t15o", "acc-1", 15, event.ActionDebit, event.ActionCard).in(other), ""},
		{txn("t15b", "acc-2", 15, event.ActionDebit, event.ActionCard), ""},
	}
)

func TestHandleFlagsTransactionsOfFrozenAccounts(t *testing.T) {
	var txns []ev
	for _, c := range frozenTxns {
		txns = append(txns, c.e)
	}
	cases := []struct {
		name       string
		stateFirst bool
	}{
		{"the freezes arrive first: transactions are flagged when stored", true},
		{"the transactions arrive first: the freezes re-flag them", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newMemStore()
			state := func() {
				mustHandle(t, s, event.TypeAccountStatus, batch(recs(frozenHistory...)...))
				mustHandle(t, s, event.TypeFraudAlert, batch(recs(frozenAlerts...)...))
			}
			if c.stateFirst {
				state()
			}
			res := mustHandle(t, s, event.TypeTransaction, batch(recs(txns...)...))
			if !c.stateFirst {
				state()
			}
			for i, tc := range frozenTxns {
				if c.stateFirst && res[i].BlockedBy != tc.want {
					t.Errorf("%s: result blocked by %q, want %q", tc.e.id, res[i].BlockedBy, tc.want)
				}
				if !c.stateFirst && res[i].BlockedBy != "" {
					t.Errorf("%s: result blocked by %q before any freeze arrived", tc.e.id, res[i].BlockedBy)
				}
				got, ok := s.stored(tc.e.tenant, tc.e.id)
				if !ok {
					t.Fatalf("%s not stored", tc.e.id)
				}
				if got.BlockedBy != tc.want {
					t.Errorf("%s: stored blocked by %q, want %q", tc.e.id, got.BlockedBy, tc.want)
				}
			}
		})
	}
}

// TestHandleUnfreezeClearsFlags checks that a late unfreeze clears the flags of the transactions
// it covers, and only those.
func TestHandleUnfreezeClearsFlags(t *testing.T) {
	s := newMemStore()
	mustHandle(t, s, event.TypeAccountStatus, batch(recs(freeze("f1", "acc-1", 10))...))
	mustHandle(t, s, event.TypeTransaction, batch(recs(
		txn("t12", "acc-1", 12, event.ActionDebit, event.ActionCard),
		txn("t22", "acc-1", 22, event.ActionCredit, event.ActionTransfer),
	)...))
	for id, want := range map[string]string{"t12": "f1", "t22": "f1"} {
		if got, _ := s.stored(bank, id); got.BlockedBy != want {
			t.Fatalf("%s blocked by %q, want %q", id, got.BlockedBy, want)
		}
	}
	mustHandle(t, s, event.TypeAccountStatus, batch(recs(unfreeze("u1", "acc-1", 20))...))
	for id, want := range map[string]string{"t12": "f1", "t22": ""} {
		if got, _ := s.stored(bank, id); got.BlockedBy != want {
			t.Errorf("after the unfreeze, %s blocked by %q, want %q", id, got.BlockedBy, want)
		}
	}
}
