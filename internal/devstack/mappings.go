package devstack

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/go-event-processor/go-event-processor/internal/esm"
)

// Tables the local stack keeps for the event source mappings: their checkpoints, and the
// OnFailure records that AWS would send to the destination queue.
const (
	CheckpointTable = "devstack-checkpoints"
	FailureTable    = "devstack-onfailure"
)

// mapping is one Kinesis event source mapping of a function.
type mapping struct {
	function string
	event    KinesisEvent
	m        *esm.Mapping
}

// createMappings creates an event source mapping per Kinesis event of every function, with
// checkpoints and OnFailure records kept in DynamoDB.
func (s *Stack) createMappings(ctx context.Context) error {
	if err := esm.CreateCheckpointTable(ctx, s.DynamoDB, CheckpointTable); err != nil {
		return fmt.Errorf("create the checkpoint table: %w", err)
	}
	if err := esm.CreateFailureTable(ctx, s.DynamoDB, FailureTable); err != nil {
		return fmt.Errorf("create the OnFailure table: %w", err)
	}
	s.Failures = esm.NewDynamoFailures(s.DynamoDB, FailureTable)
	checkpoints := esm.NewDynamoCheckpoints(s.DynamoDB, CheckpointTable)
	for _, f := range s.Resources.Functions {
		for _, k := range f.Kinesis {
			cfg := esm.Config{
				ID:                         f.LogicalID + "-" + k.Name,
				StreamName:                 k.Stream,
				StreamARN:                  k.StreamARN,
				FunctionName:               f.Name,
				BatchSize:                  k.BatchSize,
				MaximumBatchingWindow:      k.MaximumBatchingWindow,
				StartingPosition:           k.StartingPosition,
				ParallelizationFactor:      k.ParallelizationFactor,
				ReportBatchItemFailures:    k.ReportBatchItemFailures,
				BisectBatchOnFunctionError: k.BisectBatchOnFunctionError,
				MaximumRetryAttempts:       k.MaximumRetryAttempts,
				MaximumRecordAge:           k.MaximumRecordAge,
				PollInterval:               s.opts.PollInterval,
			}
			var sink esm.FailureSink // none: discarded records are logged as dropped, as AWS drops them
			if k.OnFailure != "" {
				sink = s.Failures
			}
			m, err := esm.New(cfg, s.Kinesis, s.Lambda, checkpoints, sink, s.log)
			if err != nil {
				return fmt.Errorf("event source mapping %s: %w", cfg.ID, err)
			}
			s.mappings = append(s.mappings, mapping{function: f.LogicalID, event: k, m: m})
		}
	}
	return nil
}

// Run runs the event source mappings until ctx is done.
func (s *Stack) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.mappings))
	for i, m := range s.mappings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.m.Run(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Delivered counts the records the mappings have finished with: checkpointed after the function
// succeeded, or discarded to an OnFailure record.
func (s *Stack) Delivered() int {
	n := 0
	for _, m := range s.mappings {
		st := m.m.Stats()
		n += int(st.RecordsSucceeded + st.RecordsDiscarded)
	}
	return n
}

// Stats adds up the counts of every event source mapping.
func (s *Stack) Stats() esm.Stats {
	var sum esm.Stats
	for _, m := range s.mappings {
		st := m.m.Stats()
		sum.Shards += st.Shards
		sum.Batches += st.Batches
		sum.Invocations += st.Invocations
		sum.InvokeErrors += st.InvokeErrors
		sum.FunctionErrors += st.FunctionErrors
		sum.PartialFailures += st.PartialFailures
		sum.RecordsInvoked += st.RecordsInvoked
		sum.RecordsSucceeded += st.RecordsSucceeded
		sum.Retries += st.Retries
		sum.Bisections += st.Bisections
		sum.FailuresSent += st.FailuresSent
		sum.RecordsDiscarded += st.RecordsDiscarded
	}
	return sum
}

// CaughtUp reports whether every mapping has checkpointed the last record of every shard.
func (s *Stack) CaughtUp(ctx context.Context) (bool, error) {
	for _, m := range s.mappings {
		ok, err := m.m.CaughtUp(ctx)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
