// Package perrecord reports a benchmark's cost per record rather than per operation, for the
// hot-path benchmarks of event and store, whose operations are batches of records.
package perrecord

import (
	"runtime"
	"testing"
)

// Measure runs batch once per iteration and reports time, bytes and allocations per record, a
// batch being records records.
func Measure(b *testing.B, records int, batch func()) {
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
