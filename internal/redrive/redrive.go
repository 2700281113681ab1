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
	// Returned counts the records of StillFails that an earlier redrive sent and the pipeline
	// quarantined again: they are not sent a second time, even with force, until they validate.
	Returned int
	// Copies counts the quarantine items that are redrive copies (a record a redrive sent,
	// quarantined again): never sent as records of their own, since the original is the record.
	Copies  int
	Batches int // OnFailure batches re-read from the stream
	Expired int // OnFailure batches the stream no longer holds
}

// Quarantine is the store the quarantined records are read from and marked in; *store.Store
// implements it.
type Quarantine interface {
	QuarantinedBetween(ctx context.Context, from, to time.Time) ([]store.QuarantinedRecord, error)
	QuarantinedAt(ctx context.Context, keys []store.RecordKey) (map[store.RecordKey]store.QuarantinedRecord, error)
	RedriveOrigins(ctx context.Context, keys []store.RecordKey) (map[store.RecordKey]store.RecordKey, error)
	MarkRedriven(ctx context.Context, from, to store.RecordKey) error
	MarkRedriveCopy(ctx context.Context, copy, origin store.RecordKey) error
}

// Sender puts records on the stream and says where each landed.
type Sender interface {
	PutRecord(ctx context.Context, in *kinesis.PutRecordInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error)
}

// Quarantined sends again the quarantined records of [from, to] that now decode and validate and
// are no id conflict; the others are counted with the reason they still fail. With force, the
// ones that still fail are sent too (the pipeline quarantines them again).
//
// Each record is sent once, and only its first quarantine item (the original) is ever sent:
//
//   - a record sent is marked on its item (redrivenAt, redrivenAs, redrivenShard), and a redrive
//     marker is kept under the key the pipeline would give it if it is quarantined again
//     (store.MarkRedriven);
//   - a quarantine item that a marker names, or whose original's redrivenAs points at it, is a
//     redrive copy: it is marked as such (redrivenFromShard, redrivenFromSequence) and never sent,
//     so that sending it cannot make yet another copy;
//   - an original sent before is not sent again while its copy shows it still fails — not even
//     with force, so that running a forced redrive again adds no item — nor once the pipeline
//     took it (no copy). It is sent again when it now validates (a fix to the schema since), as
//     a record never sent is: its copy's code and reason are then what it is judged by.
func Quarantined(ctx context.Context, q Quarantine, k Sender, stream string, from, to time.Time, force bool) (Summary, error) {
	sum := Summary{StillFails: map[string]int{}}
	recs, err := q.QuarantinedBetween(ctx, from, to)
	if err != nil {
		return sum, err
	}
	copies, latest, err := classify(ctx, q, recs)
	if err != nil {
		return sum, err
	}
	for _, r := range recs {
		if _, isCopy := copies[r.Key()]; isCopy {
			sum.Copies++
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
		current, returned := r, false
		if sent, ok := r.RedrivenTo(); ok {
			back, quarantinedAgain := latest[sent]
			if !quarantinedAgain {
				continue // sent before, and not quarantined again: stored, or still on its way
			}
			current, returned = back, true
		}
		if !force || returned {
			if _, err := event.Decode(r.Raw); err != nil {
				sum.StillFails[err.Error()]++
				sum.Returned += b2i(returned)
				continue
			}
			if current.Code == event.CodeConflict {
				// Only the table can tell, and it would say the same: the id holds other content.
				sum.StillFails[current.Reason]++
				sum.Returned += b2i(returned)
				continue
			}
		}
		out, err := k.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), Data: r.Raw, PartitionKey: aws.String(r.PartitionKey)})
		if err != nil {
			return sum, fmt.Errorf("redrive %s/%s: %w", r.ShardID, r.SequenceNumber, err)
		}
		if err := q.MarkRedriven(ctx, r.Key(), store.RecordKey{ShardID: aws.ToString(out.ShardId), SequenceNumber: aws.ToString(out.SequenceNumber)}); err != nil {
			return sum, err
		}
		sum.Redriven++
	}
	return sum, nil
}

// classify finds which of recs are redrive copies (by the origin their item names, a redrive
// marker, or an original's redrivenAs), marks on their items the ones not marked yet, and reads
// the quarantine items at the last redrive of every original: latest holds those that exist, the
// records that were quarantined again.
func classify(ctx context.Context, q Quarantine, recs []store.QuarantinedRecord) (copies map[store.RecordKey]store.RecordKey, latest map[store.RecordKey]store.QuarantinedRecord, err error) {
	copies = map[store.RecordKey]store.RecordKey{}
	var unmarked []store.RecordKey
	for _, r := range recs {
		if o, ok := r.RedriveOrigin(); ok {
			copies[r.Key()] = o
		} else {
			unmarked = append(unmarked, r.Key())
		}
	}
	markers, err := q.RedriveOrigins(ctx, unmarked)
	if err != nil {
		return nil, nil, err
	}
	var sent []store.RecordKey
	for _, r := range recs {
		if to, ok := r.RedrivenTo(); ok {
			sent = append(sent, to)
		}
	}
	if latest, err = q.QuarantinedAt(ctx, sent); err != nil {
		return nil, nil, err
	}
	for _, r := range recs {
		to, ok := r.RedrivenTo()
		if !ok {
			continue
		}
		back, found := latest[to]
		if _, marked := back.RedriveOrigin(); !found || marked {
			continue
		}
		// A copy whose marker is missing: written before redrive kept markers. Its origin is the
		// original r was copied from, if r is itself a copy (redrives used to send copies).
		root := r.Key()
		if o, ok := copies[root]; ok {
			root = o
		} else if o, ok := markers[root]; ok {
			root = o
		}
		if _, known := markers[to]; !known {
			markers[to] = root
		}
	}
	for c, o := range markers {
		if err := q.MarkRedriveCopy(ctx, c, o); err != nil {
			return nil, nil, err
		}
		copies[c] = o
	}
	return copies, latest, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
