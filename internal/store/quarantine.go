package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/routing"
)

var _ routing.Quarantine = (*Store)(nil)

// Quarantine stores records that can never succeed, keyed by shard and sequence number, so that
// storing the same record again changes nothing. BatchWriteItem needs no condition here: the
// same key always holds the same record.
func (s *Store) Quarantine(ctx context.Context, records []routing.Quarantined) error {
	now := s.now().UTC()
	for start := 0; start < len(records); start += maxBatchWriteItems {
		batch := records[start:min(start+maxBatchWriteItems, len(records))]
		reqs := make([]types.WriteRequest, len(batch))
		for i, q := range batch {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: quarantineItem(q, now)}}
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > maxAttempts {
				return fmt.Errorf("quarantine %d records: items still unprocessed after %d attempts", len(batch), maxAttempts)
			}
			if attempt > 1 {
				if err := s.sleep(ctx, backoff(attempt-1)); err != nil {
					return err
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("quarantine %d records: %w", len(batch), err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// KeptOversizeBytes is how much of an oversize record's data (larger than event.MaxRecordBytes)
// quarantine keeps: its first bytes, with its length and SHA-256. Every other quarantined record
// is kept whole.
const KeptOversizeBytes = 4 << 10

func quarantineItem(q routing.Quarantined, now time.Time) map[string]types.AttributeValue {
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	arrival := q.ArrivalTime
	if arrival.IsZero() {
		arrival = now
	}
	item := map[string]types.AttributeValue{
		attrPK: str(quarantinePK(q.ShardID, q.SequenceNumber)), attrSK: str(skQuarantine),
		attrGSI2PK: str(quarantineDayPK(arrival)), attrGSI2SK: str(timeSKQuarantine(arrival, q.ShardID, q.SequenceNumber)),
		"shardId": str(q.ShardID), "sequenceNumber": str(q.SequenceNumber), "partitionKey": str(q.PartitionKey),
		"arrivalTime": str(arrival.UTC().Format(time.RFC3339Nano)), "code": str(q.Code), "reason": str(q.Reason),
		"raw": &types.AttributeValueMemberB{Value: q.Data},
	}
	if len(q.Data) > event.MaxRecordBytes {
		// Up to 1 MiB on Kinesis: more than a DynamoDB item holds (400 KB), and 64 WRU a record
		// at best. The stream keeps the whole record for its retention.
		sum := sha256.Sum256(q.Data)
		item["raw"] = &types.AttributeValueMemberB{Value: q.Data[:KeptOversizeBytes]}
		item["rawTruncated"] = &types.AttributeValueMemberBOOL{Value: true}
		item["rawBytes"] = &types.AttributeValueMemberN{Value: strconv.Itoa(len(q.Data))}
		item["rawSha256"] = str(hex.EncodeToString(sum[:]))
	}
	if q.Tenant != "" {
		item["tenant"] = str(q.Tenant)
	}
	if q.EventID != "" {
		item["eventId"] = str(q.EventID)
	}
	if q.Type != "" {
		item["type"] = str(string(q.Type))
	}
	return item
}

func timeSKQuarantine(arrival time.Time, shard, seq string) string {
	return timeSK(arrival, shard+"#"+seq)
}

// MarkRedriven records that a quarantined record was sent through the pipeline again, as the
// record with sequence number newSeq.
func (s *Store) MarkRedriven(ctx context.Context, shard, seq, newSeq string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(quarantinePK(shard, seq), skQuarantine),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		UpdateExpression:    aws.String("SET redrivenAt = :at, redrivenAs = :as"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": &types.AttributeValueMemberS{Value: s.now().UTC().Format(time.RFC3339Nano)},
			":as": &types.AttributeValueMemberS{Value: newSeq},
		},
	})
	if err != nil {
		return fmt.Errorf("mark quarantined record %s/%s redriven: %w", shard, seq, err)
	}
	return nil
}
