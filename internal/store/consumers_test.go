package store_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// TestConsumerCheckpoints: starts (beginning, now, a storage time found by binary search), lag in
// events, a checkpoint that moves forward only unless reset, pages cut by a byte budget, and
// tenants kept apart.
func TestConsumerCheckpoints(t *testing.T) {
	s, _ := newStore(t, nil)
	ctx := t.Context()
	var tenant string
	var mine []typefn.Write
	for _, w := range writesOf(t, 200, 40) {
		if tenant == "" {
			tenant = w.Event.Tenant
		}
		if w.Event.Tenant == tenant {
			mine = append(mine, w)
		}
	}
	for i, r := range s.Put(ctx, mine) {
		if r.Outcome != typefn.OutcomeStored {
			t.Fatalf("write %d: %d (%v)", i, r.Outcome, r.Err)
		}
	}
	// Eleven appends over two shards, a few milliseconds apart; the storage time of the ninth
	// is where a start "at" resolves.
	var order []string
	var at time.Time
	batches := 11
	per := len(mine) / batches
	for b := range batches {
		if b == 8 {
			at = time.Now()
		}
		var entries []routing.FeedEntry
		for _, w := range mine[b*per : (b+1)*per] {
			entries = append(entries, routing.FeedEntry{Type: w.Event.Type, ID: w.Event.ID, SequenceNumber: fmt.Sprintf("%056s", w.SequenceNumber)})
			order = append(order, w.Event.ID)
		}
		if err := s.AppendFeed(ctx, tenant, fmt.Sprintf("shardId-00000000000%d", b%2), entries); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	total := int64(len(order))

	ledger, err := s.MoveCheckpoint(ctx, tenant, "ledger", store.Checkpoint{Start: &store.FeedStart{}})
	if err != nil || ledger.LagEvents != total || ledger.LagSeconds <= 0 {
		t.Fatalf("a consumer from the start: %+v, %v; want lag %d events", ledger, err, total)
	}
	page, err := s.Feed(ctx, tenant, store.FeedQuery{After: ledger.Position, Limit: 25})
	if err != nil || len(page.Events) != 25 {
		t.Fatalf("first page: %d events, %v", len(page.Events), err)
	}
	moved, err := s.MoveCheckpoint(ctx, tenant, "ledger", store.Checkpoint{Position: page.Position})
	if err != nil || moved.LagEvents != total-25 {
		t.Fatalf("after a page of 25: %+v, %v; want lag %d", moved, err, total-25)
	}
	if again, err := s.MoveCheckpoint(ctx, tenant, "ledger", store.Checkpoint{Position: page.Position}); err != nil || again.MovedAt != moved.MovedAt {
		t.Errorf("the same position again: %+v, %v; want no change", again, err)
	}
	if _, err := s.MoveCheckpoint(ctx, tenant, "ledger", store.Checkpoint{Position: ledger.Position}); !errors.Is(err, store.ErrCheckpointBehind) {
		t.Errorf("moving back without reset: %v, want ErrCheckpointBehind", err)
	}
	if _, err := s.MoveCheckpoint(ctx, tenant, "ledger", store.Checkpoint{Start: &store.FeedStart{Now: true}}); !errors.Is(err, store.ErrConsumerExists) {
		t.Errorf("a start for an existing consumer: %v, want ErrConsumerExists", err)
	}
	if back, err := s.MoveCheckpoint(ctx, tenant, "ledger", store.Checkpoint{Start: &store.FeedStart{}, Reset: true}); err != nil || back.LagEvents != total {
		t.Errorf("reset to the start: %+v, %v; want lag %d", back, err, total)
	}

	now, err := s.MoveCheckpoint(ctx, tenant, "alerts", store.Checkpoint{Start: &store.FeedStart{Now: true}})
	if err != nil || now.LagEvents != 0 || now.LagSeconds != 0 {
		t.Errorf("a consumer from now: %+v, %v; want no lag", now, err)
	}
	if p, err := s.Feed(ctx, tenant, store.FeedQuery{After: now.Position}); err != nil || len(p.Events) != 0 || !p.CaughtUp || p.Position != now.Position {
		t.Errorf("reading from now: %d events, caught up %v, same position %v (%v)", len(p.Events), p.CaughtUp, p.Position == now.Position, err)
	}

	late, err := s.MoveCheckpoint(ctx, tenant, "late", store.Checkpoint{Start: &store.FeedStart{At: at}})
	if err != nil || late.LagEvents != int64(3*per) {
		t.Fatalf("a consumer from a storage time: %+v, %v; want lag %d", late, err, 3*per)
	}
	readAll := func(q store.FeedQuery) []string {
		ids, _ := readFeed(t, s, tenant, q)
		return ids
	}
	if got := readAll(store.FeedQuery{After: late.Position}); !sameSet(got, order[8*per:]) {
		t.Errorf("from a storage time: %d events, want the %d appended since", len(got), 3*per)
	}
	if got := readAll(store.FeedQuery{From: at}); !sameSet(got, order[8*per:]) {
		t.Errorf("GET /feed?from: %d events, want the %d appended since", len(got), 3*per)
	}
	whole := readAll(store.FeedQuery{})
	if small := readAll(store.FeedQuery{MaxBytes: 1}); !slices.Equal(small, whole) || len(whole) != len(order) {
		t.Errorf("pages of one event by a byte budget: %d events, want the %d of the whole feed in its order", len(small), len(whole))
	}
	if one := readAll(store.FeedQuery{Limit: 1}); !slices.Equal(one, whole) {
		t.Errorf("pages of one event: %d events, want the %d of the whole feed in its order", len(one), len(whole))
	}

	list, err := s.Consumers(ctx, tenant)
	if err != nil || len(list) != 3 || list[0].Name != "alerts" || list[1].Name != "late" || list[2].Name != "ledger" {
		t.Errorf("consumers: %+v, %v", list, err)
	}
	if _, err := s.Consumer(ctx, "another-tenant", "ledger"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant's consumer: %v, want ErrNotFound", err)
	}
	if _, err := s.MoveCheckpoint(ctx, "another-tenant", "ledger", store.Checkpoint{Position: page.Position}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("another tenant's position: %v, want ErrBadCursor", err)
	}
	if other, err := s.Consumers(ctx, "another-tenant"); err != nil || len(other) != 0 {
		t.Errorf("another tenant's consumers: %+v, %v", other, err)
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
