package esm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Mapping is one running Kinesis event source mapping. Create it with New and
// start it with Run; Stats and CaughtUp may be called from any goroutine.
type Mapping struct {
	cfg  Config
	kin  KinesisAPI
	lam  LambdaAPI
	cps  Checkpoints
	sink FailureSink
	log  *slog.Logger

	running atomic.Bool
	counts  counters

	mu          sync.Mutex
	streamARN   string            // resolved by Run
	region      string            // of streamARN: the records' awsRegion
	functionARN string            // for OnFailure records
	shards      map[string]*shard // shards seen by the current Run, by id
}

// Stats counts what a mapping did since New. Invocations that fail and are
// retried count each time.
type Stats struct {
	Shards           int   // shards being read now
	Batches          int64 // batches gathered from the shards (retries and bisected halves not counted)
	Invocations      int64 // Invoke calls that ran the function
	InvokeErrors     int64 // Invoke calls that failed before the function ran (throttling, connection, unknown function)
	FunctionErrors   int64 // invocations that failed the whole batch: a function error or an unusable response
	PartialFailures  int64 // invocations that reported batch item failures
	RecordsInvoked   int64 // records sent to the function, redeliveries included
	RecordsSucceeded int64 // records the function processed successfully
	Retries          int64 // retry attempts after function errors and batch item failures
	Bisections       int64 // failed batches split in two
	FailuresSent     int64 // OnFailure records sent to the FailureSink
	RecordsDiscarded int64 // records covered by those OnFailure records
}

// counters holds Stats' counts.
type counters struct {
	batches, invocations, invokeErrors, functionErrors, partialFailures atomic.Int64
	recordsInvoked, recordsSucceeded, retries, bisections, failuresSent atomic.Int64
	recordsDiscarded                                                    atomic.Int64
}

// New returns a mapping of cfg that reads the stream with k, invokes the
// function with l, keeps checkpoints in checkpoints and sends OnFailure
// records to failures. failures may be nil: discarded batches are then only
// logged, as in AWS without an OnFailure destination. log may be nil. New
// fails on an invalid cfg or a missing client; it calls no API.
func New(cfg Config, k KinesisAPI, l LambdaAPI, checkpoints Checkpoints, failures FailureSink, log *slog.Logger) (*Mapping, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if k == nil || l == nil || checkpoints == nil {
		return nil, fmt.Errorf("esm: mapping %q: New needs a Kinesis client, a Lambda client and checkpoints", cfg.ID)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Mapping{
		cfg: cfg, kin: k, lam: l, cps: checkpoints, sink: failures,
		log: log.With("mapping", cfg.ID, "function", cfg.FunctionName, "stream", cfg.StreamName),
	}, nil
}

// Config returns the mapping's configuration, with defaults filled in.
func (m *Mapping) Config() Config { return m.cfg }

// ErrRunning is returned by Run when the mapping is already running.
var ErrRunning = errors.New("esm: mapping is already running")

// Run reads every shard of the stream and invokes the function until ctx is
// canceled, then waits for its goroutines to end and returns nil. It never
// gives up on an AWS error: it logs it and retries with backoff. A shard
// without a checkpoint is read from StartingPosition, one with a checkpoint
// from just after it; a shard split or merged is read to its end before its
// children are read. Run returns ErrRunning if the mapping is already running;
// it may be run again after it returns.
func (m *Mapping) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer m.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		m.log.Info("mapping stopped")
	}()
	m.mu.Lock()
	m.shards = map[string]*shard{}
	m.mu.Unlock()
	if !m.resolveStream(ctx) {
		return nil
	}
	m.log.Info("mapping started", "streamArn", m.streamARN, "batchSize", m.cfg.BatchSize,
		"window", m.cfg.MaximumBatchingWindow, "startingPosition", m.cfg.StartingPosition,
		"parallelizationFactor", m.cfg.ParallelizationFactor)
	refresh := make(chan struct{}, 1)
	for {
		m.discover(ctx, &wg, refresh)
		t := time.NewTimer(m.cfg.ShardRefresh)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-refresh:
			t.Stop()
		}
	}
}

// resolveStream sets the stream's ARN (asking Kinesis if the config has
// none), region and the function's ARN. It returns false if ctx ends first.
func (m *Mapping) resolveStream(ctx context.Context) bool {
	arn := m.cfg.StreamARN
	bo := m.newBackoff()
	for arn == "" {
		out, err := m.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(m.cfg.StreamName)})
		if err == nil && out.StreamDescriptionSummary != nil {
			arn = aws.ToString(out.StreamDescriptionSummary.StreamARN)
			break
		}
		if ctx.Err() != nil {
			return false
		}
		m.log.Warn("describe stream", "error", err)
		if !bo.wait(ctx) {
			return false
		}
	}
	region, _ := arnRegionAccount(arn)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.streamARN, m.region, m.functionARN = arn, region, functionARN(m.cfg.FunctionName, arn)
	return true
}

// discover lists the shards, loads the checkpoints of new ones and starts a
// reader for each unfinished shard whose parents are finished.
func (m *Mapping) discover(ctx context.Context, wg *sync.WaitGroup, refresh chan<- struct{}) {
	listed, err := m.listShards(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("list shards", "error", err)
		}
		return
	}
	for _, sh := range listed {
		id := aws.ToString(sh.ShardId)
		m.mu.Lock()
		_, known := m.shards[id]
		m.mu.Unlock()
		if known {
			continue
		}
		cp, err := m.cps.Get(ctx, m.cfg.ID, id)
		if err != nil && !errors.Is(err, ErrNoCheckpoint) {
			if ctx.Err() == nil {
				m.log.Warn("read checkpoint", "shard", id, "error", err)
			}
			continue
		}
		s := newShard(m, id, cp, aws.ToString(sh.ParentShardId), aws.ToString(sh.AdjacentParentShardId))
		m.mu.Lock()
		m.shards[id] = s
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.shards {
		if s.started || s.finished.Load() || !m.parentsFinished(s) {
			continue
		}
		s.started = true
		wg.Go(func() {
			if s.run(ctx) {
				select {
				case refresh <- struct{}{}:
				default:
				}
			}
		})
	}
}

// parentsFinished reports whether every parent of s that is still listed
// has been read to its end. The caller holds m.mu.
func (m *Mapping) parentsFinished(s *shard) bool {
	for _, p := range s.parents {
		if ps, ok := m.shards[p]; ok && !ps.finished.Load() {
			return false
		}
	}
	return true
}

// listShards returns every shard of the stream.
func (m *Mapping) listShards(ctx context.Context) ([]kintypes.Shard, error) {
	var (
		shards []kintypes.Shard
		next   *string
	)
	for {
		in := &kinesis.ListShardsInput{NextToken: next}
		if next == nil {
			in.StreamName = aws.String(m.cfg.StreamName)
		}
		out, err := m.kin.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", m.cfg.StreamName, err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil || *out.NextToken == "" {
			return shards, nil
		}
		next = out.NextToken
	}
}

// Stats returns the mapping's counts so far.
func (m *Mapping) Stats() Stats {
	c := &m.counts
	st := Stats{
		Batches: c.batches.Load(), Invocations: c.invocations.Load(), InvokeErrors: c.invokeErrors.Load(),
		FunctionErrors: c.functionErrors.Load(), PartialFailures: c.partialFailures.Load(),
		RecordsInvoked: c.recordsInvoked.Load(), RecordsSucceeded: c.recordsSucceeded.Load(),
		Retries: c.retries.Load(), Bisections: c.bisections.Load(), FailuresSent: c.failuresSent.Load(),
		RecordsDiscarded: c.recordsDiscarded.Load(),
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running.Load() {
		for _, s := range m.shards {
			if s.started && !s.finished.Load() {
				st.Shards++
			}
		}
	}
	return st
}

// maxBackoff bounds the delay between retries.
const maxBackoff = 5 * time.Second

// backoff is an exponential delay: base, doubling up to maxBackoff.
type backoff struct{ base, next time.Duration }

func (m *Mapping) newBackoff() *backoff { return &backoff{base: m.cfg.RetryDelay} }

// wait sleeps for the next delay; it returns false if ctx ends first.
func (b *backoff) wait(ctx context.Context) bool {
	if b.next == 0 {
		b.next = b.base
	}
	d := b.next
	b.next = min(2*b.next, maxBackoff)
	return sleep(ctx, d)
}

// reset starts the delays again from base.
func (b *backoff) reset() { b.next = 0 }

// sleep waits d; it returns false if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
