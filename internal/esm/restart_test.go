package esm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/internal/esm"
)

// A mapping stopped mid-stream and a new one with the same ID and checkpoint
// table deliver every record at least once: the new one starts after the
// stored checkpoints, so only the batches in flight at the stop are
// delivered twice.
func TestRestartResumesAfterCheckpoint(t *testing.T) {
	const batchSize = 10
	e := newEnv(t, 2, func(int, events.KinesisEvent) ([]byte, error) {
		time.Sleep(15 * time.Millisecond)
		return nil, nil
	})
	var recs [][2]string
	for i := range 200 {
		recs = append(recs, [2]string{fmt.Sprintf("acc-%d", i%20), fmt.Sprintf("r%d", i)})
	}
	seqs, shards := e.put(recs...)
	shardOf := map[string]string{}
	for i, s := range seqs {
		shardOf[s] = shards[i]
	}

	// Run 1 invokes fn-run1 and is stopped after a few batches.
	cfg := e.config(func(c *esm.Config) {
		c.BatchSize = batchSize
		c.FunctionName = "fn-run1"
		c.StreamARN = "" // resolved by Run
	})
	m1 := e.newMapping(cfg)
	stop1 := e.start(m1)
	waitFor(t, "run 1 to invoke 6 batches", func() bool { return len(e.fn.Calls()) >= 6 })
	stop1()
	checkpoints := map[string]string{}
	for _, sh := range []string{"shardId-000000000000", "shardId-000000000001"} {
		checkpoints[sh] = e.checkpoint(cfg.ID, sh)
	}
	run1 := len(e.fn.Calls())

	// Run 2: a new Mapping with the same ID invokes fn-run2.
	cfg.FunctionName = "fn-run2"
	m2 := e.newMapping(cfg)
	stop2 := e.start(m2)
	waitCaughtUp(t, m2)
	stop2()

	seen := map[string]int{}
	again := 0
	for _, c := range e.fn.Calls() {
		for _, s := range c.seqs() {
			if c.function == "fn-run2" {
				if cp := checkpoints[shardOf[s]]; cp != "" && !seqLess(cp, s) {
					t.Errorf("run 2 delivered %s, at or before run 1's checkpoint %s of its shard", s, cp)
				}
				if seen[s] > 0 {
					again++
				}
			}
			seen[s]++
		}
	}
	for _, s := range seqs {
		if seen[s] == 0 {
			t.Errorf("record %s was never delivered", s)
		}
	}
	if again > 2*batchSize {
		t.Errorf("run 2 delivered %d records again, want at most the 2 batches in flight (%d records)", again, 2*batchSize)
	}
	t.Logf("run 1: %d invocations, checkpoints %v; run 2 delivered %d records again", run1, checkpoints, again)
}
