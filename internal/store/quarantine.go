package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/bounded"
	"github.com/go-event-processor/go-event-processor/internal/routing"
)

var _ routing.Quarantine = (*Store)(nil)

// Bounds of what a quarantine item copies from a record, so that the item of any record up to
// Kinesis's 1 MiB stays far below DynamoDB's 400 KB: a record within event.MaxRecordBytes
// (64 KiB) is kept whole with at most about 2 KiB more; of an oversize record the item holds
// KeptOversizeBytes and the bounded values, under 8 KiB.
const (
	// KeptOversizeBytes is how much of an oversize record's data (larger than
	// event.MaxRecordBytes) quarantine keeps: its first bytes, with its length and SHA-256. Every
	// other quarantined record is kept whole.
	KeptOversizeBytes = 4 << 10
	maxKeyBytes       = 256 // Kinesis's partition keys are at most 256 characters
	// maxMinimalReasonBytes bounds the reason of a minimal item, written when DynamoDB refused
	// the full one.
	maxMinimalReasonBytes = 256
)

// Quarantine stores records that can never succeed, keyed by shard and sequence number, so that
// storing the same record again changes nothing (BatchWriteItem needs no condition: the same key
// always holds the same record). It answers one error per record, nil for each one stored, or a
// nil slice when all were. One record never fails another:
//
//   - records are written with BatchWriteItem, 25 at a time; a batch DynamoDB refuses as a whole
//     for a permanent reason (a ValidationException: an item too large, say) is written again
//     item by item;
//   - an item refused for a permanent reason is replaced by a minimal one — code, reason, length,
//     SHA-256, shard, sequence number, arrival time — and not retried;
//   - a transient failure (throttling or an outage past the SDK's retries) fails the records of
//     its call, which the router then reports for retry.
func (s *Store) Quarantine(ctx context.Context, records []routing.Quarantined) []error {
	now := s.now().UTC()
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(records))
		}
		errs[i] = err
	}
	for start := 0; start < len(records); start += maxBatchWriteItems {
		batch := records[start:min(start+maxBatchWriteItems, len(records))]
		items := make([]map[string]types.AttributeValue, len(batch))
		for i, q := range batch {
			items[i] = quarantineItem(q, now)
		}
		err := s.batchPut(ctx, items)
		if err == nil {
			continue
		}
		if !isPermanentWriteError(err) {
			for i := range batch {
				fail(start+i, fmt.Errorf("quarantine record %s/%s: %w", batch[i].ShardID, batch[i].SequenceNumber, err))
			}
			continue
		}
		for i, q := range batch {
			if err := s.putQuarantineItem(ctx, q, items[i], now); err != nil {
				fail(start+i, err)
			}
		}
	}
	return errs
}

// batchPut writes items with BatchWriteItem, writing again what DynamoDB leaves unprocessed (the
// SDK's retryer retries failed calls, not unprocessed items).
func (s *Store) batchPut(ctx context.Context, items []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(items))
	for i, item := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
	}
	pending := map[string][]types.WriteRequest{s.table: reqs}
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > maxAttempts {
			return fmt.Errorf("%d items still unprocessed after %d attempts", len(pending[s.table]), maxAttempts)
		}
		if attempt > 1 {
			if err := s.sleep(ctx, backoff(attempt-1)); err != nil {
				return err
			}
		}
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return err
		}
		pending = out.UnprocessedItems
	}
	return nil
}

// putQuarantineItem writes one record's item alone, and its minimal item if DynamoDB refuses
// the full one for a permanent reason.
func (s *Store) putQuarantineItem(ctx context.Context, q routing.Quarantined, item map[string]types.AttributeValue, now time.Time) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	if err == nil || !isPermanentWriteError(err) {
		if err != nil {
			return fmt.Errorf("quarantine record %s/%s: %w", q.ShardID, q.SequenceNumber, err)
		}
		return nil
	}
	refused := err
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: minimalQuarantineItem(q, now, refused)}); err != nil {
		return fmt.Errorf("quarantine record %s/%s: its item was refused (%v), and its minimal item too: %w", q.ShardID, q.SequenceNumber, refused, err)
	}
	return nil
}

// isPermanentWriteError reports whether DynamoDB refused a write for a reason that the same
// request will always meet: a ValidationException (an item over 400 KB, a bad attribute).
// Throttling, server errors and lost connections are transient.
func isPermanentWriteError(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "ValidationException", "ItemCollectionSizeLimitExceededException", "SerializationException":
		return true
	}
	return false
}

func quarantineItem(q routing.Quarantined, now time.Time) map[string]types.AttributeValue {
	item := quarantineKeys(q, now)
	item["partitionKey"] = str(bounded.String(q.PartitionKey, maxKeyBytes))
	item["code"] = str(bounded.String(q.Code, routing.MaxTypeBytes))
	item["reason"] = str(bounded.String(q.Reason, routing.MaxReasonBytes))
	item["raw"] = &types.AttributeValueMemberB{Value: q.Data}
	if len(q.Data) > event.MaxRecordBytes {
		// Up to 1 MiB on Kinesis: more than a DynamoDB item holds (400 KB), and 64 WRU a record
		// at best. The stream keeps the whole record for its retention.
		item["raw"] = &types.AttributeValueMemberB{Value: q.Data[:KeptOversizeBytes]}
		describeRaw(item, q.Data)
	}
	if len(q.Tenant) <= routing.MaxTenantBytes && q.Tenant != "" {
		item["tenant"] = str(q.Tenant)
	}
	if q.EventID != "" {
		item["eventId"] = str(bounded.String(q.EventID, routing.MaxEventIDBytes))
	}
	if q.Type != "" {
		item["type"] = str(bounded.String(string(q.Type), routing.MaxTypeBytes))
	}
	return item
}

// minimalQuarantineItem is what is kept of a record whose item DynamoDB refused: enough to find
// it in the stream (shard and sequence number, for the stream's retention), know why it was
// quarantined and recognise it (length and SHA-256).
func minimalQuarantineItem(q routing.Quarantined, now time.Time, refused error) map[string]types.AttributeValue {
	item := quarantineKeys(q, now)
	item["code"] = str(bounded.String(q.Code, routing.MaxTypeBytes))
	item["reason"] = str(bounded.String(q.Reason, maxMinimalReasonBytes))
	item["minimal"] = &types.AttributeValueMemberBOOL{Value: true}
	item["refusedBecause"] = str(bounded.String(refused.Error(), maxMinimalReasonBytes))
	describeRaw(item, q.Data)
	return item
}

// quarantineKeys are the attributes every quarantine item has: its keys and where the record is.
func quarantineKeys(q routing.Quarantined, now time.Time) map[string]types.AttributeValue {
	arrival := q.ArrivalTime
	if arrival.IsZero() {
		arrival = now
	}
	return map[string]types.AttributeValue{
		attrPK: str(quarantinePK(q.ShardID, q.SequenceNumber)), attrSK: str(skQuarantine),
		attrGSI2PK: str(quarantineDayPK(arrival)), attrGSI2SK: str(timeSKQuarantine(arrival, q.ShardID, q.SequenceNumber)),
		"shardId": str(q.ShardID), "sequenceNumber": str(q.SequenceNumber),
		"arrivalTime": str(arrival.UTC().Format(time.RFC3339Nano)),
	}
}

// describeRaw marks the item's raw bytes as partial (or absent) and describes the whole record.
func describeRaw(item map[string]types.AttributeValue, data []byte) {
	sum := sha256.Sum256(data)
	item["rawTruncated"] = &types.AttributeValueMemberBOOL{Value: true}
	item["rawBytes"] = &types.AttributeValueMemberN{Value: strconv.Itoa(len(data))}
	item["rawSha256"] = str(hex.EncodeToString(sum[:]))
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func timeSKQuarantine(arrival time.Time, shard, seq string) string {
	return timeSK(arrival, shard+"#"+seq)
}
