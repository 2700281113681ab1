package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/consumer"
	"github.com/go-event-processor/go-event-processor/event"
)

// feedAPI holds the flags of the commands that call the query API's feed and consumers:
// --api, --data-dir, --key and -o.
type feedAPI struct {
	api, key, output, stackDir string
}

func (f *feedAPI) addFlags(cmd *cobra.Command, outputs string) {
	cmd.Flags().StringVar(&f.api, "api", "", "base URL of the query API (default: the running local stack's)")
	addDataDirFlag(cmd, &f.stackDir)
	cmd.Flags().StringVar(&f.key, "key", "", "API key (default $GEP_API_KEY); it decides the tenant")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", outputs)
}

// config returns the endpoint and key of a consumer.Config: --api, or the query API of the
// running local stack; --key, or $GEP_API_KEY.
func (f *feedAPI) config(outputs ...string) (consumer.Config, error) {
	if !slices.Contains(outputs, f.output) {
		return consumer.Config{}, fmt.Errorf("--output %q: want %s or %s", f.output, strings.Join(outputs[:len(outputs)-1], ", "), outputs[len(outputs)-1])
	}
	endpoint, key, err := queryAPI(f.api, f.key, f.stackDir)
	if err != nil {
		return consumer.Config{}, err
	}
	return consumer.Config{Endpoint: endpoint, Key: key}, nil
}

// retryNotice says on stderr why a request or the output is retried, and when.
func retryNotice(cmd *cobra.Command) func(error, time.Duration) {
	return func(err error, wait time.Duration) {
		fmt.Fprintf(cmd.ErrOrStderr(), "eventctl: %v; again in %s\n", err, wait.Round(time.Millisecond))
	}
}

func consumeCommand() *cobra.Command {
	var f feedAPI
	var name, from, types string
	var follow, reset bool
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "Read the tenant's events in commit order under a named checkpoint",
		Long: `consume reads the feed of the key's tenant (GET /feed of the query API) as the consumer --name,
whose checkpoint the server keeps: it prints the events that consumer has not yet seen, moving
the checkpoint after each page, and exits once it is caught up. With --follow it keeps polling
for new events until Ctrl-C. The next run of the same name carries on where this one stopped.

--from says only where a consumer without a checkpoint starts: start (the tenant's first event),
now (events stored from now on), or an RFC 3339 time (events stored at or after it). --reset moves
an existing consumer back (or forward) to --from. --types reads only these types; the checkpoint
still moves past the others.

Delivery is at least once: a page printed just before a crash may be printed again; the event id
tells them apart. Run one process per name: two share the checkpoint, and events may reach both.

By default it calls the API of the running ` + "`eventctl local up`" + `; --api points it anywhere
(the QueryApiUrl output of a deployed stack). Keys: --key or GEP_API_KEY; the local stack's keys
are in api-keys.local.json.

Output: a table for people, -o ndjson (one event per line) or -o json (one array) for programs.
A summary goes to stderr with the table.`,
		Example: `  eventctl consume --name ledger --key local-bank-a-key
  eventctl consume --name fraud-export --key local-bank-a-key --types fraud_alert -o ndjson > alerts.ndjson
  eventctl consume --name tail --key local-bank-a-key --from now --follow
  eventctl consume --name ledger --key local-bank-a-key --reset --from 2026-11-25T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start, err := consumer.ParseStart(from)
			if err != nil {
				return fmt.Errorf("--from %q: want start, now or an RFC 3339 time such as 2026-11-25T00:00:00Z", from)
			}
			cfg, err := f.config("table", "json", "ndjson")
			if err != nil {
				return err
			}
			for _, t := range strings.Split(types, ",") {
				if t = strings.TrimSpace(t); t != "" {
					cfg.Types = append(cfg.Types, event.Type(t))
				}
			}
			cfg.Name, cfg.Start, cfg.Reset = name, start, reset
			cfg.OnRetry = retryNotice(cmd)
			if !follow {
				cfg.RetryTimeout = time.Minute // a one-off read gives up sooner than a follower
			}
			c, err := consumer.New(cfg)
			if err != nil {
				return err
			}
			out := &eventPrinter{w: cmd.OutOrStdout(), output: f.output}
			handler := func(_ context.Context, page consumer.Page) error {
				if err := out.print(page.Events); err != nil {
					return consumer.Stop(fmt.Errorf("writing the events: %w", err)) // not retried: the checkpoint stays
				}
				return nil
			}
			if follow {
				err = c.Run(cmd.Context(), handler)
			} else {
				err = c.CatchUp(cmd.Context(), handler)
			}
			if cerr := out.close(); err == nil {
				err = cerr
			}
			if err != nil && cmd.Context().Err() != nil {
				// Interrupted before it caught up: the pages printed are checkpointed.
				fmt.Fprintf(cmd.ErrOrStderr(), "eventctl: interrupted before consumer %s caught up, after %d events\n", c.Name(), out.n)
				return exitError(130)
			}
			if err == nil && f.output == "table" {
				lag := c.Lag()
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d events; checkpoint %s, %d events behind\n",
					c.Name(), out.n, shortPosition(lag.Position), lag.Events)
			}
			return err
		},
	}
	f.addFlags(cmd, "table, json or ndjson")
	cmd.Flags().StringVar(&name, "name", "", "the consumer's name, 1-64 of A-Z a-z 0-9 . _ - (required)")
	cmd.Flags().StringVar(&from, "from", "start", "where a consumer without a checkpoint starts: start, now or an RFC 3339 time")
	cmd.Flags().StringVar(&types, "types", "", "only these event types, comma-separated ("+typeNames()+")")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep polling for new events until Ctrl-C")
	cmd.Flags().BoolVar(&reset, "reset", false, "move an existing consumer to --from before reading (backwards too)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func consumersCommand() *cobra.Command {
	var f feedAPI
	cmd := &cobra.Command{
		Use:   "consumers",
		Short: "List the tenant's consumers: position, last move, lag",
		Long: `consumers lists the consumers of the key's tenant (GET /consumers of the query API) by name: the
position of each checkpoint (shortened in the table; -o json shows it whole), when it last moved,
how many events are stored after it (of every type) and the age of the oldest of them.

It finds the API and the key as ` + "`eventctl consume`" + ` does.`,
		Example: `  eventctl consumers --key local-bank-a-key
  eventctl consumers --key local-bank-a-key -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.config("table", "json", "ndjson")
			if err != nil {
				return err
			}
			cfg.OnRetry, cfg.RetryTimeout = retryNotice(cmd), time.Minute
			list, err := consumer.List(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			switch f.output {
			case "json":
				if list == nil {
					list = []consumer.Checkpoint{}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			case "ndjson":
				rows := make([]any, len(list))
				for i, c := range list {
					rows[i] = c
				}
				return writeJSON(cmd.OutOrStdout(), "ndjson", rows)
			}
			var rows [][]string
			for _, c := range list {
				moved := "-"
				if !c.MovedAt.IsZero() {
					moved = c.MovedAt.UTC().Format(time.RFC3339)
				}
				rows = append(rows, []string{c.Name, shortPosition(c.Position), moved,
					strconv.FormatInt(c.LagEvents, 10), strconv.FormatFloat(c.LagSeconds, 'f', 1, 64)})
			}
			if len(rows) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no consumers yet: `eventctl consume --name NAME` creates one")
				return nil
			}
			return writeRows(cmd.OutOrStdout(), "table", []string{"NAME", "POSITION", "MOVED AT", "LAG EVENTS", "LAG SECONDS"}, rows)
		},
	}
	f.addFlags(cmd, "table, json or ndjson")
	return cmd
}

// eventPrinter writes events as consume prints them, page after page: a table with one header,
// one JSON object per line, or one JSON array closed by close.
type eventPrinter struct {
	w      io.Writer
	output string
	n      int // events printed
}

func (p *eventPrinter) print(events []consumer.Event) error {
	var b strings.Builder
	for _, e := range events {
		switch p.output {
		case "ndjson":
			line, err := json.Marshal(e)
			if err != nil {
				return err
			}
			b.Write(line)
			b.WriteByte('\n')
		case "json":
			obj, err := json.MarshalIndent(e, "  ", "  ")
			if err != nil {
				return err
			}
			if p.n == 0 {
				b.WriteString("[\n  ")
			} else {
				b.WriteString(",\n  ")
			}
			b.Write(obj)
		default:
			if p.n == 0 {
				b.WriteString(tableLine("STORED AT", "TYPE", "ID", "ACCOUNT", "TIME"))
			}
			b.WriteString(tableLine(e.StoredAt, string(e.Type), e.ID, e.AccountID, e.Time))
		}
		p.n++
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

// close ends the output: the JSON array's closing bracket (or an empty array).
func (p *eventPrinter) close() error {
	if p.output != "json" {
		return nil
	}
	end := "\n]\n"
	if p.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(p.w, end)
	return err
}

// tableLine is a row of consume's table. Its columns have fixed widths, since pages come one at
// a time: an RFC 3339 time with nanoseconds, the longest type, a UUID.
func tableLine(storedAt, typ, id, account, at string) string {
	return fmt.Sprintf("%-30s  %-14s  %-36s  %-12s  %s\n", storedAt, typ, id, account, at)
}

// shortPosition shortens an opaque position for a table: its end, which differs between
// positions more than its start.
func shortPosition(p string) string {
	if len(p) <= 16 {
		return p
	}
	return "…" + p[len(p)-12:]
}

// typeNames lists the event types for help texts.
func typeNames() string {
	names := make([]string, len(event.Types))
	for i, t := range event.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
