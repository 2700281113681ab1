package esm_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/esm"
)

// putSlowly puts n records of one key, one every gap, and returns their
// sequence numbers.
func (e *env) putSlowly(n int, gap time.Duration) []string {
	e.t.Helper()
	var seqs []string
	for i, r := range records("acc-1", "r", n) {
		if i > 0 {
			time.Sleep(gap)
		}
		s, _ := e.put(r)
		seqs = append(seqs, s...)
	}
	return seqs
}

// delivered returns the sequence numbers of every invocation, in order.
func delivered(calls []call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.seqs()...)
	}
	return out
}

// With a batching window, records arriving slowly are gathered: fewer
// invocations than records, and each invocation waits for the window, which
// starts when the previous invocation completed.
func TestBatchingWindowGathersRecords(t *testing.T) {
	const window = 300 * time.Millisecond
	e := newEnv(t, 1, nil)
	m := e.newMapping(e.config(func(c *esm.Config) { c.MaximumBatchingWindow = window }))
	stop := e.start(m)
	seqs := e.putSlowly(12, 50*time.Millisecond)
	waitCaughtUp(t, m)
	stop()

	calls := e.fn.Calls()
	if got := delivered(calls); !slices.Equal(got, seqs) {
		t.Fatalf("delivered %v, want each record once in order %v", got, seqs)
	}
	if len(calls) < 2 || len(calls) > 4 {
		t.Errorf("invocation sizes = %v, want 12 records gathered into 2..4 invocations", sizes(calls))
	}
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].start.Sub(calls[i-1].end); gap < window-50*time.Millisecond {
			t.Errorf("invocation %d started %v after the previous one ended, want about the window %v", i, gap, window)
		}
	}
}

// A full batch does not wait for the batching window.
func TestBatchingWindowFullBatchGoesAtOnce(t *testing.T) {
	e := newEnv(t, 1, nil)
	seqs, _ := e.put(records("acc-1", "r", 10)...)
	m := e.newMapping(e.config(func(c *esm.Config) {
		c.BatchSize = 5
		c.MaximumBatchingWindow = 10 * time.Second
	}))
	begin := time.Now()
	stop := e.start(m)
	waitCaughtUp(t, m)
	took := time.Since(begin)
	stop()

	calls := e.fn.Calls()
	if len(calls) != 2 || !slices.Equal(calls[0].seqs(), seqs[:5]) || !slices.Equal(calls[1].seqs(), seqs[5:]) {
		t.Errorf("invocation sizes = %v, want two full batches of 5", sizes(calls))
	}
	if took > 3*time.Second {
		t.Errorf("two full batches took %v, want them sent at once, not after the 10 s window", took)
	}
}

// Without a batching window, each record read is invoked at once.
func TestNoBatchingWindowInvokesAtOnce(t *testing.T) {
	e := newEnv(t, 1, nil)
	m := e.newMapping(e.config())
	stop := e.start(m)
	seqs := e.putSlowly(5, 150*time.Millisecond)
	waitCaughtUp(t, m)
	stop()

	calls := e.fn.Calls()
	if got := delivered(calls); !slices.Equal(got, seqs) {
		t.Fatalf("delivered %v, want each record once in order %v", got, seqs)
	}
	// One invocation per record; a slow machine may read two puts at once.
	if len(calls) < 4 {
		t.Errorf("invocation sizes = %v, want (about) one invocation per record", sizes(calls))
	}
}

// A batch stops growing before its event would exceed Lambda's 6 MB payload
// limit, whatever BatchSize allows.
func TestBatchPayloadCappedAt6MB(t *testing.T) {
	e := newEnv(t, 1, nil)
	big := strings.Repeat("x", 900_000) // 1.2 MB in base64
	var seqs []string
	for range 5 { // PutRecords takes at most 5 MB a call
		s, _ := e.put([2]string{"acc-1", big}, [2]string{"acc-1", big})
		seqs = append(seqs, s...)
	}
	m := e.newMapping(e.config(func(c *esm.Config) { c.BatchSize = 100 }))
	stop := e.start(m)
	waitCaughtUp(t, m)
	stop()

	calls := e.fn.Calls()
	if got := delivered(calls); !slices.Equal(got, seqs) {
		t.Fatalf("delivered %d records, want each of the %d once in order", len(got), len(seqs))
	}
	if !slices.Equal(sizes(calls), []int{5, 5}) {
		t.Errorf("invocation sizes = %v, want [5 5] (6 records of 1.2 MB exceed 6 MB)", sizes(calls))
	}
	if st := m.Stats(); st.InvokeErrors != 0 {
		t.Errorf("%d invocations were rejected as too large", st.InvokeErrors)
	}
}
