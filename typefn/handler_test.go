package typefn_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/typefn"
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
		`{"ID":"p1","Source":"urn:proto","Type":"check_account","Client":"examplebank",` +
			`"Event":{"CustomerID":"cus-1","AccountID":"acc-1","FraudScore":12,"Time":"2026-11-10T09:00:00Z"}}`)}))
	checkResults(t, res, []out{{typefn.Stored, "p1", ""}})
	if _, ok := s.stored(bank, "p1"); !ok {
		t.Error("p1 not stored")
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

// ---- order and duplicate independence ----

// history is a few accounts' events: freezes and unfreezes, fraud alerts that freeze or only
// monitor, checks, and transactions before, during and after freezes, with the flag each
// transaction must end with whatever the order of arrival.
var history = struct {
	events []ev
	flags  map[eventKey]string
	levels map[typefn.AccountKey]string
}{
	events: []ev{
		// acc-1: frozen for debit and card from 10 to 30; a fraud alert freezes debits from 50.
		freeze("s1", "acc-1", 10, event.ActionDebit, event.ActionCard),
		unfreeze("s2", "acc-1", 30),
		monitor("s3", "acc-1", 5, event.SeverityLow),
		alert("a1", "acc-1", 50, event.SeverityCritical, event.RecommendFreeze),
		check("c1", "acc-1", 12, event.OutcomePass),
		txn("t1", "acc-1", 5, event.ActionDebit, event.ActionCard),
		txn("t2", "acc-1", 10, event.ActionDebit, event.ActionCard),
		txn("t3", "acc-1", 20, event.ActionCredit, event.ActionTransfer),
		txn("t4", "acc-1", 20, event.ActionCredit, event.ActionCard),
		txn("t5", "acc-1", 35, event.ActionDebit, event.ActionCard),
		txn("t6", "acc-1", 55, event.ActionDebit, event.ActionOnline),
		txn("t7", "acc-1", 55, event.ActionCredit, event.ActionOnline),

		// acc-2: an alert that only monitors; one that freezes debits at 40, lifted at 45; a freeze
		// of everything decided at 42 but effective at 60; at 70 two decisions at the same instant,
		// where the greater event id (s6, transfers only) wins over a4 (debits).
		alert("a2", "acc-2", 15, event.SeverityHigh, event.RecommendMonitor),
		alert("a3", "acc-2", 40, event.SeverityMedium, event.RecommendFreeze),
		unfreeze("s5", "acc-2", 45),
		freezeFrom("s4", "acc-2", 42, 60),
		freeze("s6", "acc-2", 70, event.ActionTransfer),
		alert("a4", "acc-2", 70, event.SeverityLow, event.RecommendFreeze),
		check("c2", "acc-2", 1, event.OutcomeReview),
		txn("u1", "acc-2", 20, event.ActionDebit, event.ActionCard),
		txn("u2", "acc-2", 41, event.ActionDebit, event.ActionCard),
		txn("u3", "acc-2", 41, event.ActionCredit, event.ActionCard),
		txn("u4", "acc-2", 45, event.ActionDebit, event.ActionCard),
		txn("u5", "acc-2", 61, event.ActionCredit, event.ActionOnline),
		txn("u6", "acc-2", 75, event.ActionDebit, event.ActionCard),
		txn("u7", "acc-2", 75, event.ActionCredit, event.ActionTransfer),

		// acc-3: monitored, never frozen.
		monitor("s7", "acc-3", 1, event.SeverityCritical),
		check("c3", "acc-3", 2, event.OutcomeFail),
		txn("v1", "acc-3", 3, event.ActionDebit, event.ActionCard),

		// otherbank's acc-1 is another account; its alert reuses the id a1.
		txn("w1", "acc-1", 15, event.ActionDebit, event.ActionCard).in(other),
		alert("a1", "acc-1", 60, event.SeverityMedium, event.RecommendFreeze).in(other),
		txn("w2", "acc-1", 65, event.ActionDebit, event.ActionCard).in(other),
	},
	flags: map[eventKey]string{
		{bank, "t1"}: "", {bank, "t2"}: "s1", {bank, "t3"}: "", {bank, "t4"}: "s1",
		{bank, "t5"}: "", {bank, "t6"}: "a1", {bank, "t7"}: "",
		{bank, "u1"}: "", {bank, "u2"}: "a3", {bank, "u3"}: "", {bank, "u4"}: "",
		{bank, "u5"}: "s4", {bank, "u6"}: "", {bank, "u7"}: "s6",
		{bank, "v1"}:  "",
		{other, "w1"}: "", {other, "w2"}: "a1",
	},
	levels: map[typefn.AccountKey]string{
		{Tenant: bank, Account: "acc-1"}:  event.SeverityCritical,
		{Tenant: bank, Account: "acc-2"}:  event.SeverityHigh,
		{Tenant: bank, Account: "acc-3"}:  event.SeverityCritical,
		{Tenant: other, Account: "acc-1"}: event.SeverityMedium,
	},
}

func byType(evs []ev) map[event.Type][]ev {
	m := map[event.Type][]ev{}
	for _, e := range evs {
		m[e.typ] = append(m[e.typ], e)
	}
	return m
}

func permutations(types []event.Type) [][]event.Type {
	if len(types) <= 1 {
		return [][]event.Type{slices.Clone(types)}
	}
	var out [][]event.Type
	for i, first := range types {
		rest := slices.Concat(types[:i], types[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]event.Type{first}, p...))
		}
	}
	return out
}

// sentBatch is a batch handled once, which may be sent again.
type sentBatch struct {
	typ event.Type
	b   typefn.Batch
}

// deliver handles every type's events, one type after another in order. With rng, each type's
// events are shuffled and split in two batches, a batch may carry a copy of one of its records,
// and batches are sent again, at once or after later types.
func deliver(t *testing.T, order []event.Type, rng *rand.Rand) *memStore {
	t.Helper()
	s := newMemStore()
	groups := byType(history.events)
	var sent []sentBatch
	resend := func(sb sentBatch) {
		for i, r := range handle(t, s, sb.typ, sb.b) {
			if r.Status != typefn.Duplicate {
				t.Fatalf("%s record %d (%s) sent again: %s %s, want duplicate", sb.typ, i, r.ID, r.Status, r.Reason)
			}
		}
	}
	for _, typ := range order {
		evs := slices.Clone(groups[typ])
		var batches [][]typefn.Record
		if rng == nil {
			batches = [][]typefn.Record{recs(evs...)}
		} else {
			rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
			cut := 1 + rng.IntN(len(evs)-1)
			batches = [][]typefn.Record{recs(evs[:cut]...), recs(evs[cut:]...)}
		}
		for _, b := range batches {
			copies := 0
			if rng != nil && rng.IntN(2) == 0 {
				b = append(b, b[rng.IntN(len(b))])
				copies = 1
			}
			res := mustHandle(t, s, typ, batch(b...))
			for i, r := range res {
				want := typefn.Stored
				if i >= len(b)-copies {
					want = typefn.Duplicate // the copy within the batch
				}
				if r.Status != want {
					t.Fatalf("%s record %d (%s): %s, want %s", typ, i, r.ID, r.Status, want)
				}
			}
			sb := sentBatch{typ, batch(b...)}
			sent = append(sent, sb)
			if rng != nil && rng.IntN(3) == 0 {
				resend(sb)
			}
		}
		if rng != nil && len(sent) > 0 {
			resend(sent[rng.IntN(len(sent))]) // a late duplicate of any earlier batch
		}
	}
	if rng != nil {
		resend(sent[rng.IntN(len(sent))])
	}
	return s
}

// TestHandleOrderAndDuplicateIndependence delivers the history with the four type functions in
// every order (4! = 24), each also with shuffled, split and repeated batches, and requires the
// same final account states and transaction flags as the reference run.
func TestHandleOrderAndDuplicateIndependence(t *testing.T) {
	ref := deliver(t, event.Types, nil).snapshot()

	// The reference is right, not only self-consistent.
	if ref.Transaction != len(history.flags) {
		t.Fatalf("reference stored %d transactions, want %d", ref.Transaction, len(history.flags))
	}
	for k, want := range history.flags {
		if got := ref.BlockedBy[k]; got != want {
			t.Errorf("reference: %s/%s blocked by %q, want %q", k.tenant, k.id, got, want)
		}
	}
	for k, want := range history.levels {
		if got := ref.Monitoring[k]; got != want {
			t.Errorf("reference: %s/%s monitoring %q, want %q", k.Tenant, k.Account, got, want)
		}
	}
	if len(ref.Events) != len(history.events) {
		t.Errorf("reference stored %d events, want %d", len(ref.Events), len(history.events))
	}

	perms := permutations(event.Types)
	if len(perms) != 24 {
		t.Fatalf("%d permutations, want 24", len(perms))
	}
	for n, order := range perms {
		names := make([]string, len(order))
		for i, typ := range order {
			names[i] = string(typ)
		}
		for variant := range 3 {
			t.Run(fmt.Sprintf("%s/%d", strings.Join(names, ","), variant), func(t *testing.T) {
				var rng *rand.Rand
				if variant > 0 {
					rng = rand.New(rand.NewPCG(uint64(n), uint64(variant)))
				}
				got := deliver(t, order, rng).snapshot()
				if !reflect.DeepEqual(got, ref) {
					diff(t, got, ref)
				}
			})
		}
	}
}

// diff reports how a snapshot differs from the reference.
func diff(t *testing.T, got, ref snapshot) {
	t.Helper()
	for k, want := range ref.BlockedBy {
		if got.BlockedBy[k] != want {
			t.Errorf("%s/%s blocked by %q, want %q", k.tenant, k.id, got.BlockedBy[k], want)
		}
	}
	for k, want := range ref.FreezeLog {
		if !slices.Equal(got.FreezeLog[k], want) {
			t.Errorf("%s/%s freeze log\n got  %q\n want %q", k.Tenant, k.Account, got.FreezeLog[k], want)
		}
	}
	for k, want := range ref.Monitoring {
		if got.Monitoring[k] != want {
			t.Errorf("%s/%s monitoring %q, want %q", k.Tenant, k.Account, got.Monitoring[k], want)
		}
	}
	if !reflect.DeepEqual(got.Events, ref.Events) {
		t.Errorf("stored events differ: %d stored, want %d", len(got.Events), len(ref.Events))
	}
	if !t.Failed() {
		t.Errorf("snapshots differ:\n got  %+v\n want %+v", got, ref)
	}
}

// ---- transient failures ----

func TestHandleStoreFailures(t *testing.T) {
	statusBatch := []ev{
		freeze("s1", "acc-1", 10, event.ActionDebit),
		monitor("s2", "acc-2", 11, event.SeverityHigh),
		unfreeze("s3", "acc-1", 30),
		freeze("s4", "acc-2", 12),
		monitor("s5", "acc-1", 13, event.SeverityCritical),
	}
	txnBatch := []ev{
		txn("t1", "acc-1", 5, event.ActionDebit, event.ActionCard),
		txn("t2", "acc-1", 15, event.ActionDebit, event.ActionCard),
		txn("t3", "acc-2", 15, event.ActionCredit, event.ActionCard),
		txn("t4", "acc-1", 35, event.ActionDebit, event.ActionCard),
	}
	type step struct {
		typ event.Type
		evs []ev
	}
	cases := []struct {
		name    string
		before  []step // handled first, without failure
		typ     event.Type
		batch   []ev
		inject  func(s *memStore) // arms the failure before the batch
		invalid bool              // the batch ends with a record that can never succeed
		want    []typefn.Status   // first attempt
		again   []typefn.Status   // the batch retried, with the failure gone
	}{
		{
			name:   "Put fails at the first write: everything is retried",
			typ:    event.TypeAccountStatus,
			batch:  statusBatch,
			inject: func(s *memStore) { s.failPutAt = s.puts + 1 },
			want:   []typefn.Status{typefn.Retry, typefn.Retry, typefn.Retry, typefn.Retry, typefn.Retry},
			again:  []typefn.Status{typefn.Stored, typefn.Stored, typefn.Stored, typefn.Stored, typefn.Stored},
		},
		{
			name:   "Put fails at the third write: it and the later ones are retried",
			typ:    event.TypeAccountStatus,
			batch:  statusBatch,
			inject: func(s *memStore) { s.failPutAt = s.puts + 3 },
			want:   []typefn.Status{typefn.Stored, typefn.Stored, typefn.Retry, typefn.Retry, typefn.Retry},
			again:  []typefn.Status{typefn.Duplicate, typefn.Duplicate, typefn.Stored, typefn.Stored, typefn.Stored},
		},
		{
			name:   "Put fails at the last write",
			typ:    event.TypeAccountStatus,
			batch:  statusBatch,
			inject: func(s *memStore) { s.failPutAt = s.puts + 5 },
			want:   []typefn.Status{typefn.Stored, typefn.Stored, typefn.Stored, typefn.Stored, typefn.Retry},
			again:  []typefn.Status{typefn.Duplicate, typefn.Duplicate, typefn.Duplicate, typefn.Duplicate, typefn.Stored},
		},
		{
			name:   "Put fails for transactions after the freezes are stored",
			before: []step{{event.TypeAccountStatus, statusBatch}},
			typ:    event.TypeTransaction,
			batch:  txnBatch,
			inject: func(s *memStore) { s.failPutAt = s.puts + 2 },
			want:   []typefn.Status{typefn.Stored, typefn.Retry, typefn.Retry, typefn.Retry},
			again:  []typefn.Status{typefn.Duplicate, typefn.Stored, typefn.Stored, typefn.Stored},
		},
		{
			name:   "Put fails for freezes after the transactions are stored",
			before: []step{{event.TypeTransaction, txnBatch}},
			typ:    event.TypeAccountStatus,
			batch:  statusBatch,
			inject: func(s *memStore) { s.failPutAt = s.puts + 2 },
			want:   []typefn.Status{typefn.Stored, typefn.Retry, typefn.Retry, typefn.Retry, typefn.Retry},
			again:  []typefn.Status{typefn.Duplicate, typefn.Stored, typefn.Stored, typefn.Stored, typefn.Stored},
		},
		{
			name:    "a record that can never succeed stays rejected after a Put failure",
			typ:     event.TypeAccountStatus,
			batch:   statusBatch[:3],
			invalid: true,
			inject:  func(s *memStore) { s.failPutAt = s.puts + 2 },
			want:    []typefn.Status{typefn.Stored, typefn.Retry, typefn.Retry, typefn.Rejected},
			again:   []typefn.Status{typefn.Duplicate, typefn.Stored, typefn.Stored, typefn.Rejected},
		},
		{
			name:   "reading account states fails: every transaction is retried, none stored",
			before: []step{{event.TypeAccountStatus, statusBatch}},
			typ:    event.TypeTransaction,
			batch:  txnBatch,
			inject: func(s *memStore) { s.failStates = errTransient },
			want:   []typefn.Status{typefn.Retry, typefn.Retry, typefn.Retry, typefn.Retry},
			again:  []typefn.Status{typefn.Stored, typefn.Stored, typefn.Stored, typefn.Stored},
		},
		{
			name:   "re-flagging fails: the freezes are retried, the monitoring is done",
			before: []step{{event.TypeTransaction, txnBatch}},
			typ:    event.TypeAccountStatus,
			batch:  statusBatch,
			inject: func(s *memStore) { s.failSetFlags = errTransient },
			want:   []typefn.Status{typefn.Retry, typefn.Stored, typefn.Retry, typefn.Retry, typefn.Stored},
			again:  []typefn.Status{typefn.Duplicate, typefn.Duplicate, typefn.Duplicate, typefn.Duplicate, typefn.Duplicate},
		},
		{
			name:   "listing transactions to re-flag fails: the freezes are retried",
			before: []step{{event.TypeTransaction, txnBatch}},
			typ:    event.TypeFraudAlert,
			batch:  []ev{alert("a1", "acc-1", 1, event.SeverityHigh, event.RecommendFreeze), alert("a2", "acc-1", 2, event.SeverityLow, event.RecommendMonitor)},
			inject: func(s *memStore) { s.failTransactions = errTransient },
			want:   []typefn.Status{typefn.Retry, typefn.Stored},
			again:  []typefn.Status{typefn.Duplicate, typefn.Duplicate},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := recs(c.batch...)
			if c.invalid {
				b = append(b, freeze("bad", "acc-1", 1).with("data.action", "close"))
			}

			// The reference: the same steps without failure.
			clean := newMemStore()
			for _, st := range c.before {
				mustHandle(t, clean, st.typ, batch(recs(st.evs...)...))
			}
			handle(t, clean, c.typ, batch(b...))

			s := newMemStore()
			for _, st := range c.before {
				mustHandle(t, s, st.typ, batch(recs(st.evs...)...))
			}
			c.inject(s)
			res := handle(t, s, c.typ, batch(b...))
			for i, want := range c.want {
				if res[i].Status != want {
					t.Errorf("first attempt, record %d (%s): %s %q, want %s", i, res[i].ID, res[i].Status, res[i].Reason, want)
				}
				if res[i].Status == typefn.Retry && !strings.Contains(res[i].Reason, errTransient.Error()) {
					t.Errorf("first attempt, record %d: reason %q does not carry the store's error", i, res[i].Reason)
				}
			}

			s.heal()
			res = handle(t, s, c.typ, batch(b...))
			for i, want := range c.again {
				if res[i].Status != want {
					t.Errorf("retry, record %d (%s): %s %q, want %s", i, res[i].ID, res[i].Status, res[i].Reason, want)
				}
			}
			if got, want := s.snapshot(), clean.snapshot(); !reflect.DeepEqual(got, want) {
				diff(t, got, want)
			}
		})
	}
}

// TestHandleCopyWithinBatchFollowsFirst: a second copy of a record within a batch must end as the
// first copy did. Today it is answered Duplicate as soon as it is seen (handler.go, the seen map),
// before Put: when the first copy is then retried or rejected as a conflict, the copy still says
// "duplicate" although nothing is stored.
func TestHandleCopyWithinBatchFollowsFirst(t *testing.T) {
	a1 := alert("a1", "acc-1", 10, event.SeverityHigh, event.RecommendMonitor)
	a1changed := alert("a1", "acc-1", 10, event.SeverityCritical, event.RecommendMonitor)
	a2 := alert("a2", "acc-1", 11, event.SeverityHigh, event.RecommendMonitor)
	cases := []struct {
		name   string
		before []ev
		inject func(s *memStore)
		batch  []ev
		want   []typefn.Status
	}{
		{"the first copy is retried", nil, func(s *memStore) { s.failPutAt = s.puts + 1 },
			[]ev{a1, a2, a1}, []typefn.Status{typefn.Retry, typefn.Retry, typefn.Retry}},
		{"the first copy conflicts with a stored event", []ev{a1}, func(*memStore) {},
			[]ev{a1changed, a1changed}, []typefn.Status{typefn.Rejected, typefn.Rejected}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newMemStore()
			if len(c.before) > 0 {
				mustHandle(t, s, event.TypeFraudAlert, batch(recs(c.before...)...))
			}
			c.inject(s)
			res := handle(t, s, event.TypeFraudAlert, batch(recs(c.batch...)...))
			for i, want := range c.want {
				if res[i].Status != want {
					t.Errorf("record %d (%s): %s, want %s", i, res[i].ID, res[i].Status, want)
				}
			}
		})
	}
}

// TestConflictThenOriginalInOneBatch: the store holds a1; a batch brings a conflicting copy of a1
// and then a1 again. The conflict is rejected, and a1 again is a duplicate, not a conflict with
// the rejected copy (found by the demo with 5,000 generated events).
func TestConflictThenOriginalInOneBatch(t *testing.T) {
	s := newMemStore()
	a1 := alert("a1", "acc-1", 10, event.SeverityHigh, event.RecommendMonitor)
	a1changed := alert("a1", "acc-1", 10, event.SeverityCritical, event.RecommendMonitor)
	mustHandle(t, s, event.TypeFraudAlert, batch(a1.rec()))
	got := handle(t, s, event.TypeFraudAlert, batch(a1changed.rec(), a1.rec(), a1changed.rec()))
	checkResults(t, got, []out{
		{typefn.Rejected, "a1", "conflict:"},
		{typefn.Duplicate, "a1", ""},
		{typefn.Rejected, "a1", "conflict:"},
	})
}
