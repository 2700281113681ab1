package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/bench"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/esm"
)

func benchCommand() *cobra.Command {
	var events, rate, warmup, repeat, accounts, consumerRecords int
	var runtime, jsonOut, chartOut, compare string
	var seed uint64
	var sizes bool
	var pollInterval time.Duration
	var overrides []string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the pipeline on the local stack: throughput, latency, requests, durations, cost",
		Long: `bench starts a fresh local stack, measures the DynamoDB emulator's own transactional write
ceiling for the pipeline's item shape, then sends a generated stream at --rate (or as fast as it
goes) and reports:
  sustained events/s and its ratio to that ceiling; put→persisted latency p50/p95/p99, over the
  whole run and while the stream flows (without the last second's records, which end the stream);
  DynamoDB requests and Lambda invocations per 1,000 valid events (counted by an SDK middleware
  and by the local Invoke API); router and type function durations; init durations (rie runtime)
  and stripped bootstrap sizes; $ per million events at AWS list prices next to the prototype's.
A table for people on stdout; --json writes the whole report for machines.`,
		Example: `  eventctl bench
  eventctl bench --events 20000 --rate 1000 --json bench.json
  eventctl bench --runtime rie
  eventctl bench --compare RouterBatchSize=500,1000 --repeat 3 --sizes=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case events <= 0:
				return fmt.Errorf("--events %d: want 1 or more", events)
			case rate < 0:
				return fmt.Errorf("--rate %d: want 0 (as fast as it goes) or more", rate)
			case warmup < 0:
				return fmt.Errorf("--warmup %d: want 0 (none) or more", warmup)
			case accounts < 0:
				return fmt.Errorf("--accounts %d: want 0 (the default) or more", accounts)
			case repeat < 1:
				return fmt.Errorf("--repeat %d: want 1 or more", repeat)
			case pollInterval < 0:
				return fmt.Errorf("--poll-interval %s: want 0 (the local default) or more", pollInterval)
			}
			root, tools, home, err := repoAndHome()
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			if sizes && root == "" {
				if cmd.Flags().Changed("sizes") {
					return devstack.NeedsRepository("--sizes")
				}
				sizes = false
				fmt.Fprintln(stderr, "no bootstrap sizes (--sizes builds functions/, which needs a clone of the repository)")
			}
			params, err := parseOverrides(overrides)
			if err != nil {
				return err
			}
			if warmup <= 0 {
				warmup = -1 // none
			}
			if consumerRecords <= 0 {
				consumerRecords = -1 // no consumer phase
			}
			// one starts a fresh stack with the template parameters p, measures it, and stops it.
			one := func(p map[string]string) (bench.Report, *devstack.Stack, func(), error) {
				st, err := devstack.Start(cmd.Context(), devstack.Options{Root: root, ToolsDir: tools, Runtime: runtime, Mappings: true, Parameters: p,
					LogDir: filepath.Join(home, ".cache", "devstack", "bench-logs"), Log: stackLogger(stderr), PollInterval: pollInterval})
				if err != nil {
					return bench.Report{}, nil, nil, err
				}
				runCtx, cancelRun := contextWithCancel(cmd)
				stop := func() { cancelRun(); _ = st.Stop() }
				go st.Run(runCtx)
				fmt.Fprintf(stderr, "Measuring the emulator's write ceiling, warming the pipeline up with %d records, then sending %d records (rate %s)…\n",
					max(warmup, 0), events, rateText(rate))
				rep, err := bench.Run(cmd.Context(), st, bench.Options{Events: events, Accounts: accounts, Rate: rate, Seed: seed, Warmup: warmup, ConsumerRecords: consumerRecords,
					Progress: func(sent, persisted, total int) {
						fmt.Fprintf(stderr, "\r%d/%d sent, %d checkpointed", sent, total, persisted)
					}})
				fmt.Fprintln(stderr)
				if err != nil {
					stop()
					return rep, nil, nil, err
				}
				inEffect := pollInterval
				if inEffect <= 0 {
					inEffect = esm.DefaultPollInterval
				}
				rep.Runtime, rep.Parameters, rep.PollIntervalMs = runtime, p, float64(inEffect)/float64(time.Millisecond)
				return rep, st, stop, nil
			}
			if compare != "" || repeat > 1 {
				return runComparison(cmd.OutOrStdout(), stderr, params, compare, repeat, jsonOut, func(p map[string]string) (bench.Report, error) {
					rep, _, stop, err := one(p)
					if stop != nil {
						stop()
					}
					return rep, err
				})
			}
			rep, st, stop, err := one(params)
			if err != nil {
				return err
			}
			defer stop()
			if sizes {
				var uris []string
				for _, f := range st.Resources.Functions {
					uris = append(uris, f.CodeURI)
				}
				if rep.BootstrapBytes, err = bench.BootstrapSizes(cmd.Context(), root, uris); err != nil {
					return err
				}
			}
			printReport(cmd.OutOrStdout(), rep)
			costs, err := bench.Costs(rep, st)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nCost at AWS list prices (docs/cost-model.md), $ per million valid events:\n")
			if err := costs.Ours.WriteTable(cmd.OutOrStdout()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nThe prototype's design (batch size 1, one invocation and one PutItem per event) in the same model:\n")
			if err := costs.Prototype.WriteTable(cmd.OutOrStdout()); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout())
			if err := costs.WriteTable(cmd.OutOrStdout()); err != nil {
				return err
			}
			if chartOut != "" {
				f, err := os.Create(chartOut)
				if err != nil {
					return err
				}
				if err := bench.Chart(f, rep); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintln(stderr, "wrote", chartOut)
			}
			if jsonOut != "" {
				b, _ := json.MarshalIndent(struct {
					bench.Report
					Cost any `json:"cost"`
				}{rep, costs}, "", "  ")
				if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
					return err
				}
				fmt.Fprintln(stderr, "wrote", jsonOut)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&events, "events", 10000, "records to send")
	cmd.Flags().IntVar(&accounts, "accounts", 0, "accounts the generated stream spreads over (default: a record in eight); 100000 leaves most accounts one event per batch, as a bank's traffic does")
	cmd.Flags().IntVar(&warmup, "warmup", 2000, "records sent first and not measured (tenants of their own), so that cold starts are not measured; 0 for none")
	cmd.Flags().IntVar(&consumerRecords, "consumer-records", 1000, "records sent after the measured run while consumers follow the feed through the query API (put→consumed latency, then feed read throughput); 0 for none")
	cmd.Flags().IntVar(&rate, "rate", 1000, "records per second (0: as fast as the stream takes them)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the generated stream")
	cmd.Flags().StringVar(&runtime, "runtime", devstack.RuntimeInproc, "inproc or rie")
	cmd.Flags().StringVar(&jsonOut, "json", "", "write the report as JSON to this file")
	cmd.Flags().StringVar(&chartOut, "chart", "", "write a PNG chart of throughput and latency over the run to this file")
	cmd.Flags().StringSliceVar(&overrides, "parameter-overrides", nil, "template parameters, Key=Value (e.g. RouterBatchSize=100)")
	cmd.Flags().BoolVar(&sizes, "sizes", true, "build each function for linux/arm64 and report its stripped bootstrap size")
	cmd.Flags().StringVar(&compare, "compare", "", "compare values of one template parameter, Key=V1,V2,… (e.g. RouterBatchSize=500,1000): a fresh stack per run, runs interleaved, ranges printed")
	cmd.Flags().IntVar(&repeat, "repeat", 1, "runs of each setting (with --compare, or alone to see how much a figure moves)")
	cmd.Flags().DurationVar(&pollInterval, "poll-interval", time.Second, "how long a caught-up shard waits before it is read again: AWS reads a shard about once a second (the local stack's own default is 50ms)")
	return cmd
}

func rateText(rate int) string {
	if rate <= 0 {
		return "as fast as it goes"
	}
	return fmt.Sprintf("%d/s", rate)
}

func printReport(w io.Writer, r bench.Report) {
	fmt.Fprintf(w, "\n%d records (%d valid events) at %s, %s runtime, in %.1f s\n", r.Records, r.ValidEvents, rateText(r.Rate), r.Runtime, r.WallSeconds)
	fmt.Fprintf(w, "sustained: %.0f events/s; the emulator's write ceiling for this item shape: %.0f items/s (ratio %.2f)\n",
		r.EventsPerSecond, r.CeilingItemsPerS, r.CeilingRatio)
	fmt.Fprintf(w, "put→persisted latency: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms\n", r.LatencyMs.P50, r.LatencyMs.P95, r.LatencyMs.P99, r.LatencyMs.Max)
	if f := r.FlowingLatencyMs; f != nil {
		fmt.Fprintf(w, "  while the stream flowed (without the last second's events, which end the stream): p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
			f.P50, f.P99, f.Max)
	}
	requests := fmt.Sprintf("%.1f DynamoDB requests", r.DynamoDBPer1000)
	if r.DynamoDBPer1000 < 0 {
		requests = "DynamoDB requests not counted (the functions ran in their own processes; use --runtime inproc)"
	}
	fmt.Fprintf(w, "per 1,000 valid events: %s, %.1f Lambda invocations; DynamoDB write units per valid event: %.2f\n\n", requests, r.InvocationsPer1k, r.WriteUnitsPerEvent)
	if c := r.Consumers; c != nil {
		fmt.Fprintf(w, "consumers (query API, apart from the figures above): put→consumed p50 %.0f ms, p99 %.0f ms (%d records, %d followers polling every %.0f ms);\n  one consumer reads a feed of %d events from the start at %.0f events/s (pages of 100), %.0f events/s (pages of 1,000)\n\n",
			c.PutToConsumedMs.P50, c.PutToConsumedMs.P99, c.Records, c.Followers, c.PollIntervalMs, c.FeedReadEvents, c.FeedReadPerS, c.FeedReadPerS1k)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tINVOCATIONS\tP50 MS\tP99 MS\tAVG BILLED MS\tINIT MS")
	names := make([]string, 0, len(r.FunctionMs))
	for n := range r.FunctionMs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := r.FunctionMs[n]
		init := "-"
		if v, ok := r.InitMs[n]; ok {
			init = fmt.Sprintf("%.1f", v)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%s\n", n, r.Invocations[n], p.P50, p.P99, r.BilledMsPerInvoke[n], init)
	}
	tw.Flush()
	ops := make([]string, 0, len(r.DynamoDBRequests))
	for op := range r.DynamoDBRequests {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	fmt.Fprint(w, "\nDynamoDB requests:")
	for _, op := range ops {
		fmt.Fprintf(w, " %s %d", op, r.DynamoDBRequests[op])
	}
	fmt.Fprintln(w)
	if len(r.BootstrapBytes) > 0 {
		fmt.Fprint(w, "stripped bootstrap (linux/arm64):")
		uris := make([]string, 0, len(r.BootstrapBytes))
		for u := range r.BootstrapBytes {
			uris = append(uris, u)
		}
		sort.Strings(uris)
		for _, u := range uris {
			fmt.Fprintf(w, " %s %.1f MB", filepath.Base(u), float64(r.BootstrapBytes[u])/1e6)
		}
		fmt.Fprintln(w)
	}
}
