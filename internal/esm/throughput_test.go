package esm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/esm"
)

// Every record reaches a no-op function exactly once; the test logs the
// throughput (records read, invoked and checkpointed per second).
func TestThroughputNoopFunction(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the throughput run")
	}
	const n = 10000
	for _, batchSize := range []int32{100, 1000} {
		t.Run(fmt.Sprintf("BatchSize=%d", batchSize), func(t *testing.T) {
			e := newEnv(t, 2, nil)
			var recs [][2]string
			for i := range n {
				recs = append(recs, [2]string{fmt.Sprintf("acc-%d", i%100), fmt.Sprintf(`{"i":%d}`, i)})
			}
			putStart := time.Now()
			e.put(recs...)
			putTook := time.Since(putStart)
			m := e.newMapping(e.config(func(c *esm.Config) { c.BatchSize = batchSize }))
			start := time.Now()
			stop := e.start(m)
			waitCaughtUp(t, m)
			took := time.Since(start)
			stop()

			seen := map[string]bool{}
			for _, s := range delivered(e.fn.Calls()) {
				if seen[s] {
					t.Errorf("record %s delivered twice", s)
				}
				seen[s] = true
			}
			if len(seen) != n {
				t.Errorf("%d records delivered, want %d", len(seen), n)
			}
			st := m.Stats()
			t.Logf("%d records, 2 shards, batch size %d: %d invocations in %v = %.0f records/s (PutRecords: %.0f records/s)",
				n, batchSize, st.Invocations, took.Round(time.Millisecond), n/took.Seconds(), n/putTook.Seconds())
		})
	}
}
