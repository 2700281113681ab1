package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// What redrive keeps, besides the quarantine items the pipeline writes (which it never rewrites):
//
//   - on the quarantined record it sent again: redrivenAt, redrivenAs and redrivenShard, where the
//     record was put on the stream (MarkRedriven);
//   - a redrive marker, the item pk "Q#<that shard>#<that sequence number>", sk "REDRIVEN_FROM",
//     naming the record it was sent from: the key the pipeline gives the quarantine item of the
//     sent record, should it be quarantined again, with another sort key, so that the pipeline's
//     write (which replaces the whole QUARANTINE item) never touches it. Markers are in no index:
//     quarantine listings never see them;
//   - on such a quarantine item, once a redrive has seen it: redrivenFromShard and
//     redrivenFromSequence (MarkRedriveCopy), so that readers of the quarantine see it is a copy.
//
// The original is always the record first quarantined: a copy is never sent again as itself.

// skRedriveMarker is the sort key of a redrive marker.
const skRedriveMarker = "REDRIVEN_FROM"

// RecordKey says where a record is in the stream, which is also how its quarantine item is keyed.
type RecordKey struct {
	ShardID        string
	SequenceNumber string
}

func (k RecordKey) String() string { return k.ShardID + "/" + k.SequenceNumber }

// Key returns where the quarantined record is in the stream.
func (r QuarantinedRecord) Key() RecordKey {
	return RecordKey{ShardID: r.ShardID, SequenceNumber: r.SequenceNumber}
}

// RedriveOrigin returns the record this one is a redrive copy of, as its item says; ok is false
// for a record quarantined the first time (or a copy no redrive has marked yet).
func (r QuarantinedRecord) RedriveOrigin() (origin RecordKey, ok bool) {
	if r.RedrivenFromSequence == "" {
		return RecordKey{}, false
	}
	return RecordKey{ShardID: r.RedrivenFromShard, SequenceNumber: r.RedrivenFromSequence}, true
}

// RedrivenTo returns where the record was last sent by a redrive; ok is false if it never was.
// Items marked before the shard was recorded name only the sequence number: the record's own
// shard is assumed, as a redrive puts the record with its partition key.
func (r QuarantinedRecord) RedrivenTo() (to RecordKey, ok bool) {
	if r.RedrivenAs == "" {
		return RecordKey{}, false
	}
	shard := r.RedrivenShard
	if shard == "" {
		shard = r.ShardID
	}
	return RecordKey{ShardID: shard, SequenceNumber: r.RedrivenAs}, true
}

// redriveMarker is the stored form of a redrive marker.
type redriveMarker struct {
	PK                   string `dynamodbav:"pk"`
	SK                   string `dynamodbav:"sk"`
	RedrivenFromShard    string `dynamodbav:"redrivenFromShard"`
	RedrivenFromSequence string `dynamodbav:"redrivenFromSequence"`
	RedrivenAt           string `dynamodbav:"redrivenAt"`
}

// MarkRedriven records, in one transaction, that the quarantined record from was put on the
// stream again as the record to: redrivenAt, redrivenAs and redrivenShard on from's item, and a
// redrive marker under to's key naming from. It fails, writing nothing, if from has no item.
func (s *Store) MarkRedriven(ctx context.Context, from, to RecordKey) error {
	at := s.now().UTC().Format(time.RFC3339Nano)
	marker, err := attributevalue.MarshalMap(redriveMarker{PK: quarantinePK(to.ShardID, to.SequenceNumber), SK: skRedriveMarker,
		RedrivenFromShard: from.ShardID, RedrivenFromSequence: from.SequenceNumber, RedrivenAt: at})
	if err != nil {
		return fmt.Errorf("mark quarantined record %s redriven: %w", from, err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:           aws.String(s.table),
			Key:                 key(quarantinePK(from.ShardID, from.SequenceNumber), skQuarantine),
			ConditionExpression: aws.String("attribute_exists(pk)"),
			UpdateExpression:    aws.String("SET redrivenAt = :at, redrivenAs = :as, redrivenShard = :shard"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":at": str(at), ":as": str(to.SequenceNumber), ":shard": str(to.ShardID),
			},
		}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: marker}},
	}})
	if err != nil {
		return fmt.Errorf("mark quarantined record %s redriven as %s: %w", from, to, err)
	}
	return nil
}

// RedriveOrigins returns, of the records at keys, those that a redrive put on the stream, each
// with the record it was sent from (as the redrive markers say).
func (s *Store) RedriveOrigins(ctx context.Context, keys []RecordKey) (map[RecordKey]RecordKey, error) {
	out := map[RecordKey]RecordKey{}
	err := s.batchGet(ctx, keys, skRedriveMarker, func(item map[string]types.AttributeValue) error {
		var m redriveMarker
		if err := attributevalue.UnmarshalMap(item, &m); err != nil {
			return err
		}
		k, ok := keyOfQuarantinePK(m.PK)
		if !ok {
			return fmt.Errorf("redrive marker with key %q", m.PK)
		}
		out[k] = RecordKey{ShardID: m.RedrivenFromShard, SequenceNumber: m.RedrivenFromSequence}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read redrive markers: %w", err)
	}
	return out, nil
}

// QuarantinedAt returns the quarantine items of the records at keys that have one.
func (s *Store) QuarantinedAt(ctx context.Context, keys []RecordKey) (map[RecordKey]QuarantinedRecord, error) {
	out := map[RecordKey]QuarantinedRecord{}
	err := s.batchGet(ctx, keys, skQuarantine, func(item map[string]types.AttributeValue) error {
		var r QuarantinedRecord
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			return err
		}
		out[r.Key()] = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read quarantined records: %w", err)
	}
	return out, nil
}

// MarkRedriveCopy records on the quarantine item of copy that it is the record origin sent again
// by a redrive and quarantined again. It does nothing to a record with no quarantine item.
func (s *Store) MarkRedriveCopy(ctx context.Context, copy, origin RecordKey) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(quarantinePK(copy.ShardID, copy.SequenceNumber), skQuarantine),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		UpdateExpression:    aws.String("SET redrivenFromShard = :shard, redrivenFromSequence = :seq"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":shard": str(origin.ShardID), ":seq": str(origin.SequenceNumber),
		},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("mark quarantined record %s a redrive copy of %s: %w", copy, origin, err)
	}
	return nil
}

// batchGet reads the items with sort key sk in the quarantine partitions of keys, with strongly
// consistent BatchGetItem calls of up to 100 keys, retrying unprocessed keys, and hands each
// found to each.
func (s *Store) batchGet(ctx context.Context, keys []RecordKey, sk string, each func(map[string]types.AttributeValue) error) error {
	seen := map[RecordKey]bool{}
	var unique []RecordKey
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			unique = append(unique, k)
		}
	}
	req := make([]map[string]types.AttributeValue, len(unique))
	for i, k := range unique {
		req[i] = key(quarantinePK(k.ShardID, k.SequenceNumber), sk)
	}
	items, err := s.getItems(ctx, req, true, "")
	if err != nil {
		return err
	}
	for _, item := range items {
		if err := each(item); err != nil {
			return err
		}
	}
	return nil
}

// keyOfQuarantinePK reads the shard and sequence number out of a quarantine partition key.
func keyOfQuarantinePK(pk string) (RecordKey, bool) {
	const prefix = "Q#"
	if len(pk) <= len(prefix) || pk[:len(prefix)] != prefix {
		return RecordKey{}, false
	}
	rest := pk[len(prefix):]
	// Shard ids hold no '#'; sequence numbers are digits.
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == '#' {
			if i == 0 || i == len(rest)-1 {
				return RecordKey{}, false
			}
			return RecordKey{ShardID: rest[:i], SequenceNumber: rest[i+1:]}, true
		}
	}
	return RecordKey{}, false
}
