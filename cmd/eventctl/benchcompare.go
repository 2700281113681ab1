package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/go-event-processor/go-event-processor/internal/bench"
)

// comparedFigure is one figure of a report that --compare and --repeat put side by side.
type comparedFigure struct {
	name   string
	format string
	of     func(bench.Report) float64
}

var comparedFigures = []comparedFigure{
	{"put→persisted p50 (ms)", "%.0f", func(r bench.Report) float64 { return r.LatencyMs.P50 }},
	{"put→persisted p99 (ms)", "%.0f", func(r bench.Report) float64 { return r.LatencyMs.P99 }},
	{"events persisted/s", "%.0f", func(r bench.Report) float64 { return r.EventsPerSecond }},
	{"Lambda invocations per 1,000 valid events", "%.1f", func(r bench.Report) float64 { return r.InvocationsPer1k }},
	{"DynamoDB requests per 1,000 valid events", "%.1f", func(r bench.Report) float64 { return r.DynamoDBPer1000 }},
	{"emulator write ceiling (items/s)", "%.0f", func(r bench.Report) float64 { return r.CeilingItemsPerS }},
	{"throughput / ceiling", "%.2f", func(r bench.Report) float64 { return r.CeilingRatio }},
}

// runComparison runs each setting repeat times, interleaved (so that the machine's changing load
// falls on every setting alike), and prints each figure's range per setting. compare is
// "Key=V1,V2,…", or "" to repeat base alone; jsonOut, when set, receives every report.
func runComparison(out, progress io.Writer, base map[string]string, compare string, repeat int, jsonOut string, run func(map[string]string) (bench.Report, error)) error {
	key, values := "", []string{""}
	if compare != "" {
		k, list, ok := strings.Cut(compare, "=")
		if !ok || k == "" || list == "" {
			return fmt.Errorf("--compare %q: want Key=V1,V2 (e.g. RouterBatchSize=500,1000)", compare)
		}
		key, values = k, strings.Split(list, ",")
	}
	repeat = max(repeat, 1)
	reports := map[string][]bench.Report{}
	for i := 1; i <= repeat; i++ {
		for _, v := range values {
			params := maps.Clone(base)
			if params == nil {
				params = map[string]string{}
			}
			label := "as given"
			if key != "" {
				params[key], label = v, key+"="+v
			}
			fmt.Fprintf(progress, "run %d of %d, %s\n", i, repeat, label)
			rep, err := run(params)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", i, label, err)
			}
			reports[label] = append(reports[label], rep)
		}
	}
	labels := slices.Sorted(maps.Keys(reports))
	if key != "" { // in the order given
		labels = labels[:0]
		for _, v := range values {
			labels = append(labels, key+"="+v)
		}
	}
	fmt.Fprintf(out, "\n%d run(s) of each setting, interleaved; min – max:\n", repeat)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "FIGURE\t%s\n", strings.Join(labels, "\t"))
	for _, f := range comparedFigures {
		cells := make([]string, len(labels))
		for i, l := range labels {
			var xs []float64
			for _, r := range reports[l] {
				xs = append(xs, f.of(r))
			}
			lo, hi := slices.Min(xs), slices.Max(xs)
			cells[i] = fmt.Sprintf(f.format, lo)
			if hi != lo {
				cells[i] += " – " + fmt.Sprintf(f.format, hi)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\n", f.name, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if jsonOut != "" {
		b, _ := json.MarshalIndent(reports, "", "  ")
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(progress, "wrote", jsonOut)
	}
	return nil
}
