package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/producer"
)

func sendCommand() *cobra.Command {
	var stream, stackDir string
	var generate, rate int
	var raw, useAWS bool
	var g eventgen.Options
	cmd := &cobra.Command{
		Use:   "send [FILE|DIR|-]...",
		Short: "Put events on the stream: from files, a directory, NDJSON on stdin, or generated",
		Long: `send puts events on the Kinesis stream with the producer package: PutRecords batches within
Kinesis' limits, partition key = the account id, refused records retried with backoff.

Input: JSON files holding one event, an array of events, NDJSON (one event per line), or a
sample from events/ (a Kinesis event or a type function batch); a directory (its *.json and
*.ndjson files; API Gateway and authorizer samples in it are skipped); "-" or a pipe for NDJSON
on stdin. The prototype's record shape is accepted.

Every record read is checked with the pipeline's own rules (event.Decode) before anything is
sent: one that the pipeline would quarantine stops the send, with its file, line and reason, and
nothing is sent. --raw sends the records as they are, valid or not: the pipeline quarantines the
invalid ones, which is how to see that happen.

--generate N sends a synthetic stream instead: many accounts with a few hot ones, fraud alerts
followed by freezes, transactions on frozen accounts, and a share of invalid and duplicated
records (sent as they are).

Where it sends, said on stderr before the first call ("target: …"):
  --data-dir DIR or $GEP_DATA_DIR   the local stack started with that data directory, nothing else
  --aws                             AWS, with your AWS configuration (credentials, region, profile)
  AWS_ENDPOINT_URL_KINESIS         (or AWS_ENDPOINT_URL) exported: that endpoint, checked first
  otherwise                         the running ` + "`eventctl local up`" + ` (its default data directory)
With none of these running or given it refuses: send never writes to AWS unless told to with --aws.`,
		Example: `  eventctl send events/transaction/batch.json
  eventctl send --raw events/                   # the samples, their two invalid records included
  eventctl send --generate 10000 --rate 1000
  cat my-events.ndjson | eventctl send -
  eventctl send --raw README.md                 # not events: see them quarantined
  eventctl send --aws --stream my-stack-EventStream-ABC prototype.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			stderr := cmd.ErrOrStderr()
			for name, v := range map[string]int{"--generate": generate, "--rate": rate, "--accounts": g.Accounts} {
				if v < 0 {
					return fmt.Errorf("%s %d: want 0 or more", name, v)
				}
			}
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
			var read []input
			for _, a := range args {
				ins, err := readInputs(cmd.InOrStdin(), a, stderr)
				if err != nil {
					return err
				}
				read = append(read, ins...)
			}
			if !raw {
				if err := validate(stderr, read); err != nil {
					return err
				}
			}
			for _, in := range read {
				records = append(records, in.rec)
			}
			if len(records) == 0 {
				return errors.New("nothing to send: the input holds no records")
			}
			client, target, err := sendTarget(ctx, stackDir, useAWS, stream)
			if err != nil {
				return err
			}
			fmt.Fprintln(stderr, target)
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
	cmd.Flags().BoolVar(&useAWS, "aws", false, "send to AWS with your AWS configuration (credentials, region, profile; checked with STS GetCallerIdentity first), not to a local stack")
	cmd.Flags().BoolVar(&raw, "raw", false, "send the records as they are, without checking them first (invalid ones are quarantined by the pipeline)")
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
