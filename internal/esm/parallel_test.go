package esm_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/internal/esm"
)

// With ParallelizationFactor 2, two batches of one shard are in flight at
// once, yet each partition key's records arrive in order and never in two
// invocations at the same time.
func TestParallelizationFactorKeepsKeyOrder(t *testing.T) {
	const keys, perKey = 8, 15
	var (
		mu          sync.Mutex
		inFlight    = map[string]bool{}
		concurrent  int
		maxInFlight int
		overlaps    []string
	)
	e := newEnv(t, 1, func(_ int, ev events.KinesisEvent) ([]byte, error) {
		mu.Lock()
		concurrent++
		maxInFlight = max(maxInFlight, concurrent)
		batchKeys := map[string]bool{}
		for _, r := range ev.Records {
			k := r.Kinesis.PartitionKey
			if inFlight[k] && !batchKeys[k] {
				overlaps = append(overlaps, k)
			}
			inFlight[k], batchKeys[k] = true, true
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		for k := range batchKeys {
			inFlight[k] = false
		}
		concurrent--
		mu.Unlock()
		return nil, nil
	})
	var recs [][2]string
	for i := range perKey {
		for k := range keys {
			recs = append(recs, [2]string{fmt.Sprintf("key-%d", k), fmt.Sprintf("key-%d/%d", k, i)})
		}
	}
	seqs, shards := e.put(recs...)
	cfg := e.config(func(c *esm.Config) {
		c.BatchSize = 5
		c.ParallelizationFactor = 2
	})
	m := e.newMapping(cfg)
	stop := e.start(m)
	waitCaughtUp(t, m)
	stop()

	next := map[string]int{}
	for _, c := range e.fn.Calls() {
		for _, r := range c.records {
			key, n, _ := strings.Cut(string(r.Kinesis.Data), "/")
			i, _ := strconv.Atoi(n)
			if i != next[key] {
				t.Errorf("%s: record %d delivered when %d was next", key, i, next[key])
			}
			next[key] = i + 1
		}
	}
	for k := range keys {
		if key := fmt.Sprintf("key-%d", k); next[key] != perKey {
			t.Errorf("%s: %d records delivered, want %d", key, next[key], perKey)
		}
	}
	if len(overlaps) > 0 {
		t.Errorf("keys %v were in two invocations at once", slices.Compact(slices.Sorted(slices.Values(overlaps))))
	}
	if maxInFlight < 2 {
		t.Errorf("at most %d invocation in flight, want 2 with ParallelizationFactor 2", maxInFlight)
	}
	if cp := e.checkpoint(cfg.ID, shards[0]); cp != seqs[len(seqs)-1] {
		t.Errorf("checkpoint = %s, want the last record %s", cp, seqs[len(seqs)-1])
	}
}
