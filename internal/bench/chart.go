package bench

import (
	"fmt"
	"io"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/chart"
)

// Chart draws the run's timeline: events persisted per second, and the put→persisted latency
// (p50, p99) of the events put in each second.
func Chart(w io.Writer, rep Report) error {
	var persisted, p50, p99 []chart.Point
	for _, s := range rep.Timeline {
		x := float64(s.T)
		persisted = append(persisted, chart.Point{X: x, Y: float64(s.Persisted)})
		if s.P50Ms > 0 {
			p50 = append(p50, chart.Point{X: x, Y: s.P50Ms})
			p99 = append(p99, chart.Point{X: x, Y: s.P99Ms})
		}
	}
	return chart.Render(w, chart.Chart{
		Title: fmt.Sprintf("%d records at %s on the local stack (%s runtime, shards read every %s): %.0f events/s sustained",
			rep.Records, rateText(rep.Rate), rep.Runtime, time.Duration(rep.PollIntervalMs*float64(time.Millisecond)), rep.EventsPerSecond),
		Panels: []chart.Panel{
			{Title: "Throughput", YLabel: "events persisted / s", Series: []chart.Series{{Name: "persisted", Points: persisted}}},
			{Title: "Put to persisted latency (by second of put)", YLabel: "ms", Series: []chart.Series{{Name: "p50", Points: p50}, {Name: "p99", Points: p99}}},
		},
	})
}

func rateText(rate int) string {
	if rate <= 0 {
		return "full speed"
	}
	return fmt.Sprintf("%d/s", rate)
}
