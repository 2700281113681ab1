package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/demo"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/producer"
)

func sendCommand() *cobra.Command {
	var stream, stackDir string
	var generate, rate int
	var g eventgen.Options
	cmd := &cobra.Command{
		Use:   "send [FILE|DIR|-]...",
		Short: "Put events on the stream: from files, a directory, NDJSON on stdin, or generated",
		Long: `send puts events on the Kinesis stream with the producer package: PutRecords batches within
Kinesis' limits, partition key = the account id, refused records retried with backoff.

Input: JSON files holding one event, an array of events, NDJSON (one event per line), or a
sample from events/ (a Kinesis event or a type function batch); a directory (its *.json and
*.ndjson files); "-" or a pipe for NDJSON on stdin. The prototype's record shape is accepted as it
is, and so are invalid records: the pipeline quarantines them, which is how to see that happen.

--generate N sends a synthetic stream instead: many accounts with a few hot ones, fraud alerts
followed by freezes, transactions on frozen accounts, and a share of invalid and duplicated records.

By default it sends to the running ` + "`eventctl local up`" + `; with AWS_ENDPOINT_URL_KINESIS or your
AWS configuration it sends wherever the SDK points.`,
		Example: `  eventctl send events/
  eventctl send --generate 10000 --rate 1000
  cat my-events.ndjson | eventctl send -
  eventctl send --stream my-stack-EventStream-ABC prototype.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var records []producer.Record
			if generate > 0 {
				g.Events = generate
				for _, r := range eventgen.Generate(g) {
					records = append(records, producer.Record(r))
				}
			}
			if len(args) == 0 && generate == 0 {
				if st, _ := os.Stdin.Stat(); st.Mode()&os.ModeCharDevice == 0 {
					args = []string{"-"}
				} else {
					return fmt.Errorf("nothing to send: name files or a directory, pipe NDJSON, or use --generate N")
				}
			}
			for _, a := range args {
				recs, err := readRecords(cmd.InOrStdin(), a)
				if err != nil {
					return err
				}
				records = append(records, recs...)
			}
			client, err := kinesisClient(ctx, stackDir)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			start := time.Now()
			total := len(records)
			sent := 0
			result := producer.Result{Shards: map[string]int{}}
			chunk := total
			if rate > 0 {
				chunk = max(1, rate/10) // ten sends a second
			}
			for from := 0; from < total; from += chunk {
				batch := records[from:min(from+chunk, total)]
				p, err := producer.New(client, stream, producer.WithProgress(func(n, _ int) { bar(stderr, sent+n, total, start) }))
				if err != nil {
					return err
				}
				res, _ := p.SendRaw(ctx, batch...)
				sent += res.Sent
				merge(&result, res, from)
				if rate > 0 {
					due := start.Add(time.Duration(float64(from+len(batch)) / float64(rate) * float64(time.Second)))
					select {
					case <-ctx.Done():
					case <-time.After(time.Until(due)):
					}
				}
				if ctx.Err() != nil {
					break
				}
			}
			fmt.Fprintln(stderr)
			elapsed := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "sent %d of %d records to %s in %s (%.0f records/s, %d PutRecords calls, %d retried)\n",
				sent, total, stream, elapsed.Round(time.Millisecond), float64(sent)/elapsed.Seconds(), result.Calls, result.Retries)
			if len(result.Failed) > 0 {
				codes := map[string]int{}
				for _, f := range result.Failed {
					codes[f.Code]++
				}
				keys := make([]string, 0, len(codes))
				for k := range codes {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(cmd.OutOrStdout(), "not sent: %d %s\n", codes[k], k)
				}
				f := result.Failed[0]
				return fmt.Errorf("%d records not sent; first: record %d (key %s): %s", len(result.Failed), f.Index, f.PartitionKey, f.Message)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stream, "stream", "EventStream", "stream name or ARN")
	addDataDirFlag(cmd, &stackDir)
	cmd.Flags().IntVar(&generate, "generate", 0, "send N generated records")
	cmd.Flags().IntVar(&rate, "rate", 0, "records per second at most (0: as fast as the stream takes them)")
	cmd.Flags().IntVar(&g.Accounts, "accounts", 0, "accounts in the generated stream (default N/8)")
	cmd.Flags().Float64Var(&g.InvalidShare, "invalid-share", 0, "share of invalid generated records (default 0.03; negative for none)")
	cmd.Flags().Float64Var(&g.DuplicateShare, "duplicate-share", 0, "share of duplicated generated records (default 0.05; negative for none)")
	cmd.Flags().Uint64Var(&g.Seed, "seed", uint64(time.Now().UnixNano()), "seed of the generated stream")
	cmd.Flags().StringSliceVar(&g.Tenants, "tenants", nil, "tenants of the generated stream (default bank-a,bank-b)")
	return cmd
}

// merge adds a chunk's result to the total, with indexes relative to all records.
func merge(total *producer.Result, r producer.Result, offset int) {
	total.Calls += r.Calls
	total.Retries += r.Retries
	for _, f := range r.Failed {
		f.Index += offset
		total.Failed = append(total.Failed, f)
	}
}

// kinesisClient reaches the running local stack (its data in stackDir, a --data-dir value),
// unless the SDK's configuration names an endpoint. Without a stack it falls back to the SDK's
// configuration (AWS) only when no data directory was named: a named one that holds no running
// stack is an error, never a reason to send development events elsewhere.
func kinesisClient(ctx context.Context, stackDir string) (*kinesis.Client, error) {
	if os.Getenv("AWS_ENDPOINT_URL_KINESIS") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
		st, named, err := runningStack(stackDir)
		if err == nil {
			return emulators.KinesisClient(st.KinesisEndpoint), nil
		}
		if named {
			return nil, err
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("no running local stack, and the AWS configuration does not load: %w", err)
	}
	return kinesis.NewFromConfig(cfg), nil
}

// readRecords reads a file, a directory or stdin ("-").
func readRecords(stdin io.Reader, arg string) ([]producer.Record, error) {
	if arg == "-" {
		return parseRecords(stdin, "stdin")
	}
	info, err := os.Stat(arg)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		f, err := os.Open(arg)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return parseRecords(f, arg)
	}
	var out []producer.Record
	err = filepath.WalkDir(arg, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".ndjson")) {
			return err
		}
		recs, err := readRecords(stdin, path)
		out = append(out, recs...)
		return err
	})
	return out, err
}

// parseRecords reads one JSON value (an event, an array of events, a Kinesis event or a type
// function batch) or NDJSON.
func parseRecords(r io.Reader, name string) ([]producer.Record, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	var whole any
	if json.Unmarshal(raw, &whole) == nil {
		switch v := whole.(type) {
		case []any:
			var out []producer.Record
			for _, item := range v {
				b, _ := json.Marshal(item)
				out = append(out, record(b))
			}
			return out, nil
		case map[string]any:
			if _, ok := v["Records"]; ok {
				return samples(raw, name)
			}
			if _, ok := v["records"]; ok {
				return samples(raw, name)
			}
			return []producer.Record{record(raw)}, nil
		}
	}
	var out []producer.Record
	s := bufio.NewScanner(bytes.NewReader(raw))
	s.Buffer(make([]byte, 0, 64<<10), 2<<20)
	for line := 1; s.Scan(); line++ {
		if t := bytes.TrimSpace(s.Bytes()); len(t) > 0 {
			out = append(out, record(append([]byte(nil), t...)))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no JSON event, array of events or NDJSON", name)
	}
	return out, s.Err()
}

// samples reads the records of a sample file from events/.
func samples(raw []byte, name string) ([]producer.Record, error) {
	recs, err := demo.SampleRecords(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make([]producer.Record, len(recs))
	for i, r := range recs {
		out[i] = producer.Record(r)
	}
	return out, nil
}

// record keys a record by the account its envelope (or prototype shape) names.
func record(b []byte) producer.Record {
	pk := "unknown"
	if e, err := event.Decode(b); err == nil {
		pk = e.Subject
	} else {
		var w struct {
			Subject string `json:"subject"`
		}
		if json.Unmarshal(b, &w) == nil && w.Subject != "" {
			pk = w.Subject
		}
	}
	return producer.Record{Data: b, PartitionKey: pk}
}

// bar draws the progress of a send.
func bar(w io.Writer, done, total int, start time.Time) {
	if total == 0 {
		return
	}
	const width = 30
	n := min(width, done*width/total)
	rate := float64(done) / max(time.Since(start).Seconds(), 0.001)
	fmt.Fprintf(w, "\r[%s%s] %d/%d records sent (%.0f/s)", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total, rate)
}
