package e2e_test

import (
	"errors"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// TestMixedStreamEndToEnd puts a mixed stream (every type, valid, duplicated, conflicting,
// invalid, the prototype's shape) through stream → router → type functions → DynamoDB, and reads
// every access pattern back, checking counts exactly.
func TestMixedStreamEndToEnd(t *testing.T) {
	p := newPipeline(t, 2)
	recs := mix(40, 12)
	p.put(t, recs)
	p.dynamo.Reset()
	batches := p.drain(t, 100)
	writeCounts, writeTotal, invocations := p.dynamo.Counts(), p.dynamo.Total(), p.invokes.Invocations()
	ctx := t.Context()

	ex := expect(recs)
	stored, wantQuarantined, perAccount, perType := ex.stored, ex.quarantined, ex.perAccount, ex.perType

	// Event by id: every valid event once, with its flag.
	for _, r := range stored {
		got, err := p.store.GetEvent(ctx, r.tenant, r.id)
		if err != nil {
			t.Fatalf("event %s: %v", r.id, err)
		}
		if got.Type != string(r.typ) || got.AccountID != r.account || got.Source != "urn:bank:test" && got.Source != "application" {
			t.Errorf("event %s read back as %+v", r.id, got)
		}
		if got.BlockedBy != r.blockedBy {
			t.Errorf("event %s blockedBy %q, want %q", r.id, got.BlockedBy, r.blockedBy)
		}
	}
	// Tenant isolation at the key level: bank-b cannot read bank-a's events by id.
	for _, r := range stored {
		if r.tenant == "bank-a" {
			if _, err := p.store.GetEvent(ctx, "bank-b", r.id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("bank-b read bank-a's event %s: %v", r.id, err)
			}
			break
		}
	}
	// An account's events, newest first, in pages of 5.
	for key, want := range perAccount {
		tenant, acc := split(key)
		var all []store.StoredEvent
		cursor := ""
		for pages := 0; ; pages++ {
			page, err := p.store.AccountEvents(ctx, tenant, acc, store.Range{Limit: 5, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.Events...)
			if cursor = page.Cursor; cursor == "" || pages > 100 {
				break
			}
		}
		if len(all) != want {
			t.Errorf("account %s: %d events, want %d", key, len(all), want)
		}
		for i := 1; i < len(all); i++ {
			if all[i].Time > all[i-1].Time {
				t.Errorf("account %s: not newest first at %d", key, i)
			}
		}
	}
	// A time range: account acc-001's events in minutes [5, 19].
	page, err := p.store.AccountEvents(ctx, "bank-a", "acc-001", store.Range{From: base.Add(5 * time.Minute), To: base.Add(19 * time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	wantInRange := 0
	for _, r := range stored {
		if r.account == "acc-001" && !r.at.Before(base.Add(5*time.Minute)) && !r.at.After(base.Add(19*time.Minute)) {
			wantInRange++
		}
	}
	if len(page.Events) != wantInRange || wantInRange == 0 {
		t.Errorf("acc-001 minutes 5-19: %d events, want %d", len(page.Events), wantInRange)
	}
	// A tenant's events by type.
	for key, want := range perType {
		tenant, typ := split(key)
		events, err := p.store.AllTypeEvents(ctx, tenant, event.Type(typ))
		if err != nil {
			t.Fatal(err)
		}
		n := len(events)
		if n != want {
			t.Errorf("%s: %d events, want %d", key, n, want)
		}
	}
	// Account state: acc-001 unfrozen after its freeze, acc-002 frozen by the fraud alert,
	// acc-003 monitored.
	states := map[string]func(*store.AccountView) bool{
		"acc-001": func(v *store.AccountView) bool { return !v.Frozen && v.DecidedBy != "" },
		"acc-002": func(v *store.AccountView) bool {
			return v.Frozen && v.MonitoringLevel == event.SeverityCritical && len(v.BlockedActions) == 1
		},
		"acc-003": func(v *store.AccountView) bool { return !v.Frozen && v.MonitoringLevel == event.SeverityMedium },
	}
	for acc, ok := range states {
		tenant := "bank-a"
		if acc == "acc-003" {
			tenant = "bank-b"
		}
		v, err := p.store.AccountState(ctx, tenant, acc)
		if err != nil || !ok(v) {
			t.Errorf("account %s state %+v, %v", acc, v, err)
		}
	}
	// Quarantined records by time, each with a reason.
	q, err := p.store.QuarantinedBetween(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	gotQuarantined := map[string]int{}
	for _, r := range q {
		gotQuarantined[r.Code]++
		if r.Reason == "" || len(r.Raw) == 0 || r.ShardID == "" || r.SequenceNumber == "" {
			t.Errorf("quarantined record lacks detail: %+v", r)
		}
	}
	for code, want := range wantQuarantined {
		if gotQuarantined[code] != want {
			t.Errorf("quarantined %s: %d, want %d", code, gotQuarantined[code], want)
		}
	}
	if len(q) != len(recs)-len(stored)-countDuplicates(recs) {
		t.Errorf("sent %d = stored %d + quarantined %d + duplicates %d does not hold", len(recs), len(stored), len(q), countDuplicates(recs))
	}

	per1000 := func(n int) float64 { return float64(n) * 1000 / float64(len(stored)) }
	t.Logf("%d records (%d valid events) in %d batches of up to 100: %d DynamoDB requests (%.1f per 1,000 valid events) %v, %d Lambda invocations (%.1f per 1,000)",
		len(recs), len(stored), batches, writeTotal, per1000(writeTotal), writeCounts, invocations, per1000(int(invocations)))
}

func countDuplicates(recs []sent) int {
	n := 0
	for _, r := range recs {
		if r.duplicate {
			n++
		}
	}
	return n
}

func split(key string) (string, string) {
	for i := range key {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}
