package event_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/gen"
)

// BenchmarkHotPathEvent measures the event package's share of the per-record hot path: a record's
// bytes to a decoded, validated event and its fingerprint. See store's BenchmarkHotPathItem for
// the whole path to the DynamoDB item.
func BenchmarkHotPathEvent(b *testing.B) {
	for _, t := range event.Types {
		for _, n := range gen.HotPathBatchSizes {
			records := gen.OfType(t, n)
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
