// Package redrive sends records back through the pipeline: quarantined records (after a schema
// or data fix) and the batches the event source mapping gave up on (OnFailure records, re-read
// from the stream by their KinesisBatchInfo while the stream still holds them). Sending a record
// twice is harmless: the pipeline is idempotent.
package redrive

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/esm"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/producer"
)

// Summary says what a redrive did.
type Summary struct {
	Redriven   int            // records sent again
	StillFails map[string]int // quarantined records not sent, by the reason they still fail
	Batches    int            // OnFailure batches re-read from the stream
	Expired    int            // OnFailure batches the stream no longer holds
}

// Quarantine is the store the quarantined records are read from and marked in.
type Quarantine interface {
	QuarantinedBetween(ctx context.Context, from, to time.Time) ([]store.QuarantinedRecord, error)
	MarkRedriven(ctx context.Context, shard, seq, newSeq string) error
}

// Sender puts records on the stream and says where each landed.
type Sender interface {
	PutRecord(ctx context.Context, in *kinesis.PutRecordInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error)
}

// Quarantined sends again every quarantined record of [from, to] not redriven before that now
// decodes and validates and is no id conflict; the others are counted with the reason they still
// fail. With force,
// every record is sent, and the pipeline quarantines again what still fails.
func Quarantined(ctx context.Context, q Quarantine, k Sender, stream string, from, to time.Time, force bool) (Summary, error) {
	sum := Summary{StillFails: map[string]int{}}
	recs, err := q.QuarantinedBetween(ctx, from, to)
	if err != nil {
		return sum, err
	}
	for _, r := range recs {
		if r.RedrivenAt != "" {
			continue
		}
		if r.Minimal {
			sum.StillFails[fmt.Sprintf("%s: DynamoDB refused its full item, so only its length and SHA-256 are kept; the whole record is in the stream at its shard and sequence number until retention ends", r.Code)]++
			continue
		}
		if r.RawTruncated {
			// Even with force: sending the kept prefix would send another record.
			sum.StillFails[fmt.Sprintf("%s: only the first %d bytes are kept; the whole record is in the stream at its shard and sequence number until retention ends", event.CodeOversize, len(r.Raw))]++
			continue
		}
		if !force {
			if _, err := event.Decode(r.Raw); err != nil {
				sum.StillFails[err.Error()]++
				continue
			}
			if r.Code == event.CodeConflict {
				// Only the table can tell, and it would say the same: the id holds other content.
				sum.StillFails[r.Reason]++
				continue
			}
		}
		out, err := k.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), Data: r.Raw, PartitionKey: aws.String(r.PartitionKey)})
		if err != nil {
			return sum, fmt.Errorf("redrive %s/%s: %w", r.ShardID, r.SequenceNumber, err)
		}
		if err := q.MarkRedriven(ctx, r.ShardID, r.SequenceNumber, aws.ToString(out.SequenceNumber)); err != nil {
			return sum, err
		}
		sum.Redriven++
	}
	return sum, nil
}

// Reader reads a shard's records between two sequence numbers.
type Reader interface {
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, opts ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// Failures is where OnFailure records are kept; *esm.DynamoFailures implements it.
type Failures interface {
	List(ctx context.Context) ([]esm.StoredFailure, error)
	Delete(ctx context.Context, s esm.StoredFailure) error
}

// OnFailure re-reads each OnFailure record's batch from the stream (shard, start and end sequence
// numbers) and puts its records on the stream again, then deletes the OnFailure record. A batch
// the stream no longer holds (past retention) is counted as expired and kept.
func OnFailure(ctx context.Context, f Failures, r Reader, p *producer.Producer, stream string) (Summary, error) {
	sum := Summary{StillFails: map[string]int{}}
	stored, err := f.List(ctx)
	if err != nil {
		return sum, err
	}
	for _, s := range stored {
		info := s.Record.KinesisBatchInfo
		recs, err := readRange(ctx, r, stream, info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber)
		if errors.Is(err, errExpired) {
			sum.Expired++
			continue
		}
		if err != nil {
			return sum, err
		}
		res, err := p.SendRaw(ctx, recs...)
		if err != nil {
			return sum, fmt.Errorf("redrive batch %s %s..%s: %w", info.ShardID, info.StartSequenceNumber, info.EndSequenceNumber, err)
		}
		if err := f.Delete(ctx, s); err != nil {
			return sum, err
		}
		sum.Batches++
		sum.Redriven += res.Sent
	}
	return sum, nil
}

var errExpired = errors.New("the stream no longer holds the batch")

// readRange reads a shard from start to end, both included; bounded by the batch's size.
func readRange(ctx context.Context, r Reader, stream, shard, start, end string) ([]producer.Record, error) {
	it, err := r.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard),
		ShardIteratorType: ktypes.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(start)})
	var notFound *ktypes.ResourceNotFoundException
	var invalid *ktypes.InvalidArgumentException
	if errors.As(err, &notFound) || errors.As(err, &invalid) {
		return nil, errExpired
	}
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", shard, start, err)
	}
	last, _ := new(big.Int).SetString(end, 10)
	var out []producer.Record
	iter := it.ShardIterator
	for pages := 0; iter != nil && pages < 10000; pages++ {
		page, err := r.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", shard, err)
		}
		for _, rec := range page.Records {
			seq, _ := new(big.Int).SetString(aws.ToString(rec.SequenceNumber), 10)
			if last != nil && seq.Cmp(last) > 0 {
				return out, nil
			}
			out = append(out, producer.Record{Data: rec.Data, PartitionKey: aws.ToString(rec.PartitionKey)})
		}
		if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
			break
		}
		iter = page.NextShardIterator
	}
	if len(out) == 0 {
		return nil, errExpired
	}
	return out, nil
}
