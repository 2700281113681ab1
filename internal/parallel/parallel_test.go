package parallel

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestDoRunsEachOnceWithinTheBound(t *testing.T) {
	var inFlight, most atomic.Int32
	done := make([]int, 50)
	Do(len(done), 3, func(i int) {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		done[i]++
		inFlight.Add(-1)
	})
	for i, n := range done {
		if n != 1 {
			t.Fatalf("f(%d) ran %d times", i, n)
		}
	}
	if most.Load() > 3 {
		t.Fatalf("%d calls at once, want at most 3", most.Load())
	}
}
