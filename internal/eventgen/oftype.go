package eventgen

import (
	"sync"

	"github.com/go-event-processor/go-event-processor/event"
)

var (
	poolOnce sync.Once
	pool     map[event.Type][][]byte
)

// HotPathBatchSizes are the batch sizes the hot path is measured at: one record (the prototype's
// batch), a typical batch, and the event source mapping's largest default BatchSize.
var HotPathBatchSizes = []int{1, 100, 1000}

// OfType returns n valid generated records of type t, cycling through the distinct ones of a
// fixed 40,000-record stream (realistic ids, amounts, merchants, freezes). Benchmarks use it, so
// every package measures the same records. It panics for a type the stream never holds: every
// type of event.Types is there.
func OfType(t event.Type, n int) [][]byte {
	poolOnce.Do(func() {
		pool = map[event.Type][][]byte{}
		for _, r := range Generate(Options{Events: 40000, InvalidShare: -1, DuplicateShare: -1, Seed: 5}) {
			if e, err := event.Decode(r.Data); err == nil {
				pool[e.Type] = append(pool[e.Type], r.Data)
			}
		}
	})
	all := pool[t]
	if len(all) == 0 {
		panic("gen: the generated stream holds no records of type " + string(t))
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = all[i%len(all)]
	}
	return out
}
