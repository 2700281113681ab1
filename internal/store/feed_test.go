package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// TestFeedPositions: a tenant's feed over two shards reads back in commit order; a position is
// stable (reading from it again gives the same events), events appended after it come after it
// and only they; a redelivered batch is appended once; a type filter and a storage time select.
func TestFeedPositions(t *testing.T) {
	s, _ := newStore(t, nil)
	writes := writesOf(t, 120, 30)
	var tenant string
	var mine []typefn.Write
	for _, w := range writes {
		if tenant == "" {
			tenant = w.Event.Tenant
		}
		if w.Event.Tenant == tenant {
			mine = append(mine, w)
		}
	}
	for i, r := range s.Put(t.Context(), mine) {
		if r.Outcome != typefn.OutcomeStored {
			t.Fatalf("write %d: %d (%v)", i, r.Outcome, r.Err)
		}
	}
	entries := func(ws []typefn.Write) []routing.FeedEntry {
		var out []routing.FeedEntry
		for _, w := range ws {
			out = append(out, routing.FeedEntry{Type: w.Event.Type, ID: w.Event.ID, SequenceNumber: fmt.Sprintf("%056s", w.SequenceNumber)})
		}
		return out
	}
	readAll := func(q store.FeedQuery) ([]string, string) { return readFeed(t, s, tenant, q) }
	half := len(mine) / 2
	for i, part := range [][]typefn.Write{mine[:half/2], mine[half/2 : half]} {
		if err := s.AppendFeed(t.Context(), tenant, fmt.Sprintf("shardId-00000000000%d", i), entries(part)); err != nil {
			t.Fatal(err)
		}
	}
	first, pos := readAll(store.FeedQuery{Limit: 7})
	if len(first) != half {
		t.Fatalf("%d events in the feed, want %d", len(first), half)
	}
	if again, _ := readAll(store.FeedQuery{Limit: 1000}); !slices.Equal(again, first) {
		t.Errorf("the feed read in pages of 1,000 differs from pages of 7")
	}
	empty, err := s.Feed(t.Context(), tenant, store.FeedQuery{After: pos})
	if err != nil || len(empty.Events) != 0 || !empty.CaughtUp || empty.Position != pos {
		t.Errorf("reading on from the end: %d events, caught up %v, same position %v (%v)", len(empty.Events), empty.CaughtUp, empty.Position == pos, err)
	}
	later := time.Now()
	time.Sleep(10 * time.Millisecond)
	rest := mine[half:]
	if err := s.AppendFeed(t.Context(), tenant, "shardId-000000000000", entries(rest)); err != nil {
		t.Fatal(err)
	}
	// The same records again, as after a lost answer: appended once.
	again := entries(rest)
	for i := range again {
		again[i].StoredBefore = later
	}
	if err := s.AppendFeed(t.Context(), tenant, "shardId-000000000000", again); err != nil {
		t.Fatal(err)
	}
	next, _ := readAll(store.FeedQuery{After: pos, Limit: 5})
	var want []string
	for _, w := range rest {
		want = append(want, w.Event.ID)
	}
	if !slices.Equal(next, want) {
		t.Errorf("from the position: %d events %v, want the %d appended since, once each", len(next), next, len(want))
	}
	if fromTime, _ := readAll(store.FeedQuery{From: later}); !slices.Equal(fromTime, want) {
		t.Errorf("from a storage time: %d events, want the %d appended since", len(fromTime), len(want))
	}
	txns, _ := readAll(store.FeedQuery{Types: []event.Type{event.TypeTransaction}})
	for _, id := range txns {
		if e, err := s.GetEvent(t.Context(), tenant, id); err != nil || e.Type != string(event.TypeTransaction) {
			t.Errorf("type filter let %s (%v) through", id, err)
		}
	}
	if _, err := s.Feed(t.Context(), "another-tenant", store.FeedQuery{After: pos}); err != store.ErrBadCursor {
		t.Errorf("another tenant's position: %v, want ErrBadCursor", err)
	}
}

// TestFeedAppendOutgrowsAnItem: a batch whose pointers outgrow one item (4,000 ids of 125 bytes,
// 500 KB, above DynamoDB's 400 KB) is appended as several items at consecutive counters, each
// entry once, also when the batch is appended again after a lost answer.
func TestFeedAppendOutgrowsAnItem(t *testing.T) {
	s, _ := newStore(t, nil)
	before := time.Now()
	var entries []routing.FeedEntry
	for i := range 4000 {
		entries = append(entries, routing.FeedEntry{Type: event.TypeTransaction, ID: fmt.Sprintf("%0125d", i), SequenceNumber: fmt.Sprintf("%056d", i)})
	}
	shard := "shardId-000000000000"
	if err := s.AppendFeed(t.Context(), "big", shard, entries); err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		entries[i].StoredBefore = before
	}
	if err := s.AppendFeed(t.Context(), "big", shard, entries); err != nil {
		t.Fatal(err)
	}
	c, err := s.MoveCheckpoint(t.Context(), "big", "all", store.Checkpoint{Start: &store.FeedStart{}})
	if err != nil || c.LagEvents != 4000 {
		t.Errorf("a consumer from the start: %+v, %v; want 4,000 events behind, each once", c, err)
	}
}

// readFeed reads a tenant's feed from q to its end: the ids in order, and the last position.
func readFeed(t *testing.T, s *store.Store, tenant string, q store.FeedQuery) ([]string, string) {
	t.Helper()
	var ids []string
	for range 1000 {
		page, err := s.Feed(t.Context(), tenant, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			ids = append(ids, e.ID)
		}
		if page.CaughtUp {
			return ids, page.Position
		}
		q.After = page.Position
	}
	t.Fatal("the feed never caught up")
	return nil, ""
}
