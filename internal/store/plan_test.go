package store

import (
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// TestPlanLanes checks the plan's invariants on generated batches with few and many accounts and
// with items large enough for the byte limit to bind: every write in exactly one chunk, chunks
// within DynamoDB's limits, lanes sharing no account, a lane of several chunks holding one
// account only, each account's writes in order.
func TestPlanLanes(t *testing.T) {
	for _, tc := range []struct {
		events, accounts, itemBytes int
	}{
		{1, 1, 500}, {99, 1, 500}, {450, 1, 500}, {450, 40, 500}, {1000, 300, 500}, {1000, 60, 200 << 10},
	} {
		var writes []typefn.Write
		for _, r := range eventgen.Generate(eventgen.Options{Events: tc.events, Accounts: tc.accounts, Seed: 3, InvalidShare: -1, DuplicateShare: -1}) {
			e, err := event.Decode(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			writes = append(writes, typefn.Write{Event: e, Change: account.ChangeOf(e)})
		}
		sizes := make([]int, len(writes))
		for i := range sizes {
			sizes[i] = tc.itemBytes
		}
		lanes := planLanes(writes, sizes)
		seen := make([]bool, len(writes))
		laneOf := map[typefn.AccountKey]int{}
		last := map[typefn.AccountKey]int{}
		chunks := 0
		for l, lane := range lanes {
			if len(lane) > 1 { // a spanning account's lane: no other account in it
				accounts := map[typefn.AccountKey]bool{}
				for _, chunk := range lane {
					for _, i := range chunk {
						accounts[typefn.KeyOf(writes[i].Event)] = true
					}
				}
				if len(accounts) != 1 {
					t.Fatalf("%+v: lane %d of %d chunks holds %d accounts", tc, l, len(lane), len(accounts))
				}
			}
			for _, chunk := range lane {
				chunks++
				actions, bytes, updates := 0, 0, map[typefn.AccountKey]bool{}
				for _, i := range chunk {
					if seen[i] {
						t.Fatalf("%+v: write %d in two chunks", tc, i)
					}
					seen[i] = true
					k := typefn.KeyOf(writes[i].Event)
					if prev, ok := laneOf[k]; ok && prev != l {
						t.Fatalf("%+v: account %s in lanes %d and %d", tc, k.Account, prev, l)
					}
					laneOf[k] = l
					if p, ok := last[k]; ok && p > i {
						t.Fatalf("%+v: account %s: write %d planned after write %d", tc, k.Account, p, i)
					}
					last[k] = i
					actions, bytes = actions+1, bytes+sizes[i]
					if writes[i].Change != nil && !updates[k] {
						updates[k] = true
						actions++
					}
				}
				if actions > maxTransactActions || (len(chunk) > 1 && bytes > maxTransactBytes) {
					t.Fatalf("%+v: a chunk of %d actions, %d bytes", tc, actions, bytes)
				}
			}
		}
		for i, ok := range seen {
			if !ok {
				t.Fatalf("%+v: write %d in no chunk", tc, i)
			}
		}
		t.Logf("%d events, %d accounts, items of %d bytes: %d chunks in %d lanes", len(writes), tc.accounts, tc.itemBytes, chunks, len(lanes))
	}
}
