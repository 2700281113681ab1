package typefn_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

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
