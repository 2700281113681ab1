package account_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
)

var t0 = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func status(id string, min int, action string, blocked ...string) *event.Event {
	return &event.Event{ID: id, Time: at(min), Type: event.TypeAccountStatus,
		Data: &event.AccountStatus{AccountID: "acc-1", Action: action, BlockedActions: blocked, Reason: "test"}}
}

func alert(id string, min int, severity, action string) *event.Event {
	return &event.Event{ID: id, Time: at(min), Type: event.TypeFraudAlert,
		Data: &event.FraudAlert{AccountID: "acc-1", Severity: severity, RecommendedAction: action, Reason: "test"}}
}

func TestDecisionAt(t *testing.T) {
	var s account.State
	for _, e := range []*event.Event{
		status("f1", 10, event.StatusFreeze, event.ActionCard),
		status("u1", 20, event.StatusUnfreeze),
		alert("a1", 30, event.SeverityCritical, event.RecommendFreeze),
	} {
		s.Apply(account.ChangeOf(e))
	}
	card := &event.Transaction{Direction: event.ActionDebit, Channel: event.ActionCard}
	credit := &event.Transaction{Direction: event.ActionCredit, Channel: event.ActionTransfer}
	cases := []struct {
		min  int
		txn  *event.Transaction
		want string
	}{
		{5, card, ""}, {10, card, "f1"}, {15, card, "f1"}, {15, credit, ""}, {25, card, ""},
		{30, card, "a1"}, {45, card, "a1"}, {45, credit, ""},
	}
	for _, c := range cases {
		if got := s.BlockedBy(c.txn, at(c.min)); got != c.want {
			t.Errorf("minute %d %+v: blocked by %q, want %q", c.min, c.txn, got, c.want)
		}
	}
	if got := s.MonitoringLevel(); got != event.SeverityCritical {
		t.Errorf("monitoring level %q", got)
	}
}

func TestFreezeWithoutActionsBlocksAll(t *testing.T) {
	var s account.State
	s.Apply(account.ChangeOf(status("f1", 0, event.StatusFreeze)))
	d := s.DecisionAt(at(1))
	if !d.Frozen || !slices.Equal(d.Blocked, []string{"atm", "card", "credit", "debit", "online", "transfer"}) {
		t.Errorf("decision %+v", d)
	}
}

// TestStateIgnoresOrderAndDuplicates applies the same events in many orders, some of them more
// than once, and checks that the state and every transaction's flag come out the same.
func TestStateIgnoresOrderAndDuplicates(t *testing.T) {
	events := []*event.Event{
		status("f1", 10, event.StatusFreeze, event.ActionDebit),
		status("u1", 20, event.StatusUnfreeze),
		status("m1", 5, event.StatusMonitor),
		alert("a1", 30, event.SeverityHigh, event.RecommendFreeze),
		alert("a2", 30, event.SeverityLow, event.RecommendMonitor),
		status("u2", 40, event.StatusUnfreeze),
		status("f2", 40, event.StatusFreeze), // same time as u2: the greater id decides
	}
	txn := &event.Transaction{Direction: event.ActionDebit, Channel: event.ActionATM}
	flags := func(s account.State) []string {
		var out []string
		for min := 0; min < 50; min++ {
			out = append(out, s.BlockedBy(txn, at(min)))
		}
		return out
	}
	var want account.State
	for _, e := range events {
		want.Apply(account.ChangeOf(e))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		order := slices.Clone(events)
		for _, i := range rng.Perm(len(events))[:rng.IntN(len(events))] {
			order = append(order, events[i]) // duplicates
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var got account.State
		for _, e := range order {
			got.Apply(account.ChangeOf(e))
		}
		if !slices.Equal(got.FreezeLog, want.FreezeLog) || got.MonitoringLevel() != want.MonitoringLevel() ||
			!slices.Equal(flags(got), flags(want)) {
			t.Fatalf("round %d: state %+v, want %+v", round, got, want)
		}
	}
	if d := want.DecisionAt(at(45)); d.EventID != "u2" || d.Frozen {
		t.Errorf("tie at minute 40: %+v, want u2 (greater id) in force", d)
	}
}
