package event_test

import (
	"fmt"
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/perrecord"
)

// BenchmarkHotPathEvent measures the event package's share of the per-record hot path: a record's
// bytes to a decoded, validated event and its fingerprint. See store's BenchmarkHotPathItem for
// the whole path to the DynamoDB item.
func BenchmarkHotPathEvent(b *testing.B) {
	for _, t := range event.Types {
		for _, n := range eventgen.HotPathBatchSizes {
			records := eventgen.OfType(t, n)
			b.Run(fmt.Sprintf("%s/batch=%d", t, n), func(b *testing.B) {
				perrecord.Measure(b, n, func() {
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
