package esm

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// probeHops bounds how many empty GetRecords pages CaughtUp follows on a
// shard that Kinesis reports as behind (real Kinesis may return empty pages
// before records).
const probeHops = 5

// CaughtUp reports whether every record of the stream has been processed and
// checkpointed: for every shard the stored checkpoint is ShardEnd, or no
// record follows it (or, without a checkpoint, no record follows the
// starting position), and no record read by the running mapping is waiting
// for its checkpoint. Poll it to wait until records put earlier have all been
// handled. It calls Kinesis and the checkpoint store, and works whether or
// not Run is running, except for a shard without a checkpoint read from
// LATEST: that one counts as caught up only once the running mapping has
// read it.
func (m *Mapping) CaughtUp(ctx context.Context) (bool, error) {
	shards, err := m.listShards(ctx)
	if err != nil {
		return false, err
	}
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		m.mu.Lock()
		s := m.shards[id]
		running := m.running.Load() && s != nil && s.started
		m.mu.Unlock()
		if running && s.uncommitted() > 0 {
			return false, nil
		}
		in := &kinesis.GetShardIteratorInput{StreamName: aws.String(m.cfg.StreamName), ShardId: aws.String(id)}
		cp, err := m.cps.Get(ctx, m.cfg.ID, id)
		switch {
		case err == nil && cp == ShardEnd:
			continue
		case err == nil:
			in.ShardIteratorType, in.StartingSequenceNumber = kintypes.ShardIteratorTypeAfterSequenceNumber, aws.String(cp)
		case !errors.Is(err, ErrNoCheckpoint):
			return false, err
		case m.cfg.StartingPosition == Latest:
			if running && s.polled.Load() {
				continue
			}
			return false, nil
		case m.cfg.StartingPosition == AtTimestamp:
			in.ShardIteratorType, in.Timestamp = kintypes.ShardIteratorTypeAtTimestamp, aws.Time(m.cfg.StartingPositionTimestamp)
		default:
			in.ShardIteratorType = kintypes.ShardIteratorTypeTrimHorizon
		}
		more, err := m.recordsAt(ctx, in)
		if err != nil || more {
			return false, err
		}
	}
	return true, nil
}

// recordsAt reports whether the shard has a record at the iterator position in.
func (m *Mapping) recordsAt(ctx context.Context, in *kinesis.GetShardIteratorInput) (bool, error) {
	it, err := m.kin.GetShardIterator(ctx, in)
	if err != nil {
		return false, fmt.Errorf("probe shard %s: %w", aws.ToString(in.ShardId), err)
	}
	next := it.ShardIterator
	for range probeHops {
		if next == nil {
			return false, nil
		}
		out, err := m.kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next, Limit: aws.Int32(1)})
		if err != nil {
			return false, fmt.Errorf("probe shard %s: %w", aws.ToString(in.ShardId), err)
		}
		if len(out.Records) > 0 {
			return true, nil
		}
		if aws.ToInt64(out.MillisBehindLatest) == 0 {
			return false, nil
		}
		next = out.NextShardIterator
	}
	return true, nil // still behind after probeHops empty pages: assume records follow
}
