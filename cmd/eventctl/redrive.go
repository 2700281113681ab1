package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/esm"
	"github.com/go-event-processor/go-event-processor/internal/redrive"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/producer"
)

func redriveCommand() *cobra.Command {
	var stream, table, stackDir string
	var since time.Duration
	var force, onlyQuarantine, onlyFailures bool
	cmd := &cobra.Command{
		Use:   "redrive",
		Short: "Send quarantined records and failed batches through the pipeline again",
		Long: `redrive sends records back through the running local stack's pipeline:

  quarantined records of the last --since (24h) that now decode and validate (after a fix to the
  schema or to the data), each marked as redriven (redrivenAt, redrivenAs, redrivenShard) so it is
  not sent twice; the ones that still fail are listed with their reason and not sent (--force
  sends them anyway, once: a record a redrive sent that was quarantined again is not sent again
  until it validates, so a second --force adds nothing);

  a record a redrive sent and the pipeline quarantined again has a second quarantine item, a
  redrive copy: it names the original (redrivenFromShard, redrivenFromSequence) and is never sent
  itself — the original is;

  the batches the event source mapping gave up on (OnFailure records: retries exhausted or record
  too old), re-read from the stream by their shard and sequence range while the stream still holds
  them, then removed from the OnFailure store.

Sending a record twice is harmless: the pipeline stores an event once.`,
		Example: `  eventctl redrive
  eventctl redrive --quarantine --since 72h
  eventctl redrive --onfailure`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := runningStack(stackDir)
			if err != nil {
				return err
			}
			k := emulators.KinesisClient(st.KinesisEndpoint)
			db := emulators.DynamoDBClient(st.DynamoDBEndpoint)
			out := cmd.OutOrStdout()
			both := !onlyQuarantine && !onlyFailures
			if onlyQuarantine || both {
				now := time.Now()
				sum, err := redrive.Quarantined(cmd.Context(), store.New(db, table), k, stream, now.Add(-since), now, force)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "quarantine: %d records redriven; %d still fail and were not sent\n", sum.Redriven, total(sum.StillFails))
				reasons := make([]string, 0, len(sum.StillFails))
				for r := range sum.StillFails {
					reasons = append(reasons, r)
				}
				sort.Strings(reasons)
				for _, r := range reasons {
					fmt.Fprintf(out, "  %4d  %s\n", sum.StillFails[r], truncate(r, 110))
				}
				if sum.Returned > 0 {
					fmt.Fprintf(out, "  %d of them were sent by an earlier redrive and quarantined again: not sent twice, even with --force, until they validate\n", sum.Returned)
				}
				if sum.Copies > 0 {
					fmt.Fprintf(out, "  %d quarantine items are redrive copies (they name their original: redrivenFromShard, redrivenFromSequence): never sent themselves\n", sum.Copies)
				}
			}
			if onlyFailures || both {
				p, err := producer.New(k, stream)
				if err != nil {
					return err
				}
				sum, err := redrive.OnFailure(cmd.Context(), esm.NewDynamoFailures(db, devstack.FailureTable), k, p, stream)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "OnFailure: %d batches re-read from the stream, %d records redriven, %d batches no longer on the stream\n", sum.Batches, sum.Redriven, sum.Expired)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stream, "stream", "EventStream", "the stream to send to")
	addDataDirFlag(cmd, &stackDir)
	cmd.Flags().StringVar(&table, "table", "EventsTable", "the table holding the quarantine")
	cmd.Flags().DurationVar(&since, "since", 24*time.Hour, "redrive records quarantined this long ago at most")
	cmd.Flags().BoolVar(&force, "force", false, "send quarantined records even if they still fail (the pipeline quarantines them again)")
	cmd.Flags().BoolVar(&onlyQuarantine, "quarantine", false, "only quarantined records")
	cmd.Flags().BoolVar(&onlyFailures, "onfailure", false, "only OnFailure batches")
	return cmd
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
