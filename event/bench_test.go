package event_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/gen"
)

// batchSizes are the batch sizes the hot path is measured at: one record (the prototype's batch),
// a typical batch, and the event source mapping's BatchSize.
var batchSizes = []int{1, 100, 1000}

var (
	benchOnce    sync.Once
	benchRecords map[event.Type][][]byte
)

// recordsOf returns n valid generated records of type t (realistic ids, amounts, merchants,
// freezes), cycling through the distinct ones when the stream holds fewer.
func recordsOf(b *testing.B, t event.Type, n int) [][]byte {
	benchOnce.Do(func() {
		benchRecords = map[event.Type][][]byte{}
		for _, r := range gen.Generate(gen.Options{Events: 40000, InvalidShare: -1, DuplicateShare: -1, Seed: 5}) {
			e, err := event.Decode(r.Data)
			if err != nil {
				continue
			}
			benchRecords[e.Type] = append(benchRecords[e.Type], r.Data)
		}
	})
	all := benchRecords[t]
	if len(all) == 0 {
		b.Fatalf("no generated records of type %s", t)
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = all[i%len(all)]
	}
	return out
}

// BenchmarkHotPathEvent measures the event package's share of the per-record hot path: a record's
// bytes to a decoded, validated event and its fingerprint. See store's BenchmarkHotPathItem for
// the whole path to the DynamoDB item.
func BenchmarkHotPathEvent(b *testing.B) {
	for _, t := range event.Types {
		for _, n := range batchSizes {
			records := recordsOf(b, t, n)
			b.Run(fmt.Sprintf("%s/batch=%d", t, n), func(b *testing.B) {
				measure(b, n, func() {
					for _, raw := range records {
						e, err := event.Decode(raw)
						if err != nil {
							b.Fatal(err)
						}
						sink = e.Fingerprint()
					}
				})
			})
		}
	}
}

var sink string

// measure runs batch once per iteration and reports time, bytes and allocations per record.
func measure(b *testing.B, records int, batch func()) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		batch()
	}
	runtime.ReadMemStats(&after)
	n := float64(b.N) * float64(records)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/record")
}
