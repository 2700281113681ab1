package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/demo"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
)

func demoCommand() *cobra.Command {
	var events int
	var seed uint64
	var runtime string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Send samples and a generated stream through the local pipeline and check the table",
		Long: `demo starts a fresh local stack (in memory), sends every sample in events/ and a generated
stream — hundreds of events over many accounts, every type, some invalid, some duplicated,
some reusing an id with other content — waits until the event source mapping has checkpointed
every record, and prints what the table holds: events persisted per type, records quarantined
with their reasons, accounts whose state changed, what a consumer of each tenant reads from its
feed through the query API, and the check
  sent = persisted + quarantined + duplicates.
It exits with status 1 when any count differs from what the stream demands.`,
		Example: `  eventctl demo
  eventctl demo --events 5000 --runtime rie`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events < 0 {
				return fmt.Errorf("--events %d: want 0 or more", events)
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout %s: want a positive duration", timeout)
			}
			root, tools, home, err := repoAndHome()
			if err != nil {
				return err
			}
			samples, removeSamples, err := devstack.Samples(root)
			if err != nil {
				return err
			}
			defer removeSamples()
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "Starting the local stack (%s runtime)…\n", runtime)
			_, keys, err := devstack.LocalAPIKeys(root)
			if err != nil {
				return err
			}
			st, err := devstack.Start(cmd.Context(), devstack.Options{Root: root, ToolsDir: tools, Runtime: runtime, Mappings: true, APIKeys: keys,
				LogDir: filepath.Join(home, ".cache", "devstack", "demo-logs"), Log: stackLogger(stderr)})
			if err != nil {
				return err
			}
			defer st.Stop()
			runCtx, cancelRun := context.WithCancel(cmd.Context())
			defer cancelRun()
			go st.Run(runCtx)
			fmt.Fprintf(stderr, "Sending the samples in events/ and %d generated records to %s…\n", events, st.Resources.Streams[0].Name)
			sum, err := demo.Run(cmd.Context(), st, demo.Options{SamplesDir: samples,
				Generate: eventgen.Options{Events: events, Seed: seed}, Timeout: timeout, Progress: stderr, APIKeys: keys})
			if err != nil {
				return err
			}
			printSummary(cmd.OutOrStdout(), sum)
			if err := sum.Check(); err != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "\nCHECK FAILED:\n%v\n", err)
				return exitError(1)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "\nCHECK PASSED: every record is persisted once, quarantined, or a duplicate.")
			return nil
		},
	}
	cmd.Flags().IntVar(&events, "events", 600, "generated records to send, invalid and duplicated ones included")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the generated stream (the same seed sends the same stream)")
	cmd.Flags().StringVar(&runtime, "runtime", devstack.RuntimeInproc, "where functions run: inproc (in this process) or rie (each bootstrap under the Lambda runtime interface emulator)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for the pipeline to checkpoint every record")
	return cmd
}

func printSummary(w io.Writer, s demo.Summary) {
	requests := fmt.Sprintf("%d DynamoDB requests by the functions", s.DynamoDBRequests)
	if s.DynamoDBRequests < 0 {
		requests = "DynamoDB requests not counted: the functions ran in their own processes"
	}
	fmt.Fprintf(w, "\nSent %d records in %s (%.0f records/s, %d Lambda invocations, %s)\n\n",
		s.Sent, s.Elapsed.Round(time.Millisecond), s.EventsPerSecond, s.Invocations, requests)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tPERSISTED\tEXPECTED")
	total := 0
	for _, t := range event.Types {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", t, s.Persisted[t], s.WantPersisted[t])
		total += s.Persisted[t]
	}
	fmt.Fprintf(tw, "total\t%d\t\n", total)
	tw.Flush()
	fmt.Fprintf(w, "\n%d transactions flagged as made while their action was blocked.\n\n", s.Flagged)
	codes := make([]string, 0, len(s.Quarantined))
	for c := range s.Quarantined {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUARANTINED\tCOUNT\tEXPECTED\tEXAMPLE REASON")
	quarantined := 0
	for _, c := range codes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", c, s.Quarantined[c], s.WantQuarantined[c], truncate(s.Reasons[c], 90))
		quarantined += s.Quarantined[c]
	}
	tw.Flush()
	frozen, monitored := 0, 0
	var lines []string
	for _, a := range s.Accounts {
		if a.Frozen {
			frozen++
		}
		if a.MonitoringLevel != "" {
			monitored++
		}
		if len(lines) < 8 {
			state := "active"
			if a.Frozen {
				state = "frozen (" + strings.Join(a.BlockedActions, ",") + ")"
			}
			lines = append(lines, fmt.Sprintf("  %s/%s: %s, monitoring %s", a.Tenant, a.AccountID, state, orNone(a.MonitoringLevel)))
		}
	}
	fmt.Fprintf(w, "\n%d accounts changed state: %d frozen now, %d under monitoring. First ones:\n%s\n", len(s.Accounts), frozen, monitored, strings.Join(lines, "\n"))
	if len(s.WantConsumed) > 0 {
		fmt.Fprintln(w, "\nA new consumer of each tenant read its feed through the query API (eventctl consume):")
		for _, tenant := range slices.Sorted(maps.Keys(s.WantConsumed)) {
			fmt.Fprintf(w, "  %s: %d events read, %d stored\n", tenant, s.Consumed[tenant], s.WantConsumed[tenant])
		}
	}
	fmt.Fprintf(w, "\nsent %d = persisted %d + quarantined %d + duplicates %d\n", s.Sent, total, quarantined, s.Duplicates)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// stackLogger prints the stack's own messages as short lines.
func stackLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// repoAndHome returns the repository root ("" outside a clone), the tools directory (see
// emulators.ToolsDir) and the directory whose .cache/devstack holds the local stack's files (see
// devstack.Home).
func repoAndHome() (root, tools, home string, err error) {
	root, err = emulators.RepoRoot()
	if err != nil && !errors.Is(err, emulators.ErrNoRepository) {
		return "", "", "", err
	}
	if tools, err = emulators.ToolsDir(); err != nil {
		return "", "", "", err
	}
	if root != "" {
		return root, tools, root, nil
	}
	return "", tools, tools, nil
}
