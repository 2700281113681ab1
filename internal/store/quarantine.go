package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
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
	s.listQuarantined(ctx, records, now, errs, fail)
	return errs
}

// listQuarantined writes, for each record stored, its pointers in the day's listings — the
// operator's under its shard, its tenant's when the tenant is known — after registering the
// day's shard. A record whose pointers fail fails: the stream sends it again, and writing it
// again writes the same items.
func (s *Store) listQuarantined(ctx context.Context, records []routing.Quarantined, now time.Time, errs []error, fail func(int, error)) {
	var items []map[string]types.AttributeValue
	var owners []int
	days := map[string]map[string]bool{} // day → shards to register
	for i, q := range records {
		if errs != nil && errs[i] != nil {
			continue
		}
		arrival := arrivalOf(q, now)
		day := arrival.UTC().Format(time.DateOnly)
		if days[day] == nil {
			days[day] = map[string]bool{}
		}
		days[day][q.ShardID] = true
		for _, item := range quarantineListing(q, arrival) {
			items, owners = append(items, item), append(owners, i)
		}
	}
	for day, shards := range days {
		t, _ := time.Parse(time.DateOnly, day)
		if err := s.registerQuarantineShards(ctx, t, shards); err != nil {
			for i, q := range records {
				if shards[q.ShardID] && arrivalOf(q, now).UTC().Format(time.DateOnly) == day {
					fail(i, err)
				}
			}
		}
	}
	for start := 0; start < len(items); start += maxBatchWriteItems {
		end := min(start+maxBatchWriteItems, len(items))
		if err := s.batchPut(ctx, items[start:end]); err != nil {
			for _, i := range owners[start:end] {
				fail(i, fmt.Errorf("list quarantined record %s/%s: %w", records[i].ShardID, records[i].SequenceNumber, err))
			}
		}
	}
}

// registerQuarantineShards adds shards to the day's list of shards that quarantined records, once
// per store and shard.
func (s *Store) registerQuarantineShards(ctx context.Context, day time.Time, shards map[string]bool) error {
	var add []string
	for sh := range shards {
		if _, done := s.registered.Load("Q\x00" + day.Format(time.DateOnly) + "\x00" + sh); !done {
			add = append(add, sh)
		}
	}
	if len(add) == 0 {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(quarantineRegistryPK(day), skRegistry),
		UpdateExpression:          aws.String("ADD shards :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberSS{Value: add}},
	})
	if err != nil {
		return fmt.Errorf("register the shards quarantining on %s: %w", day.Format(time.DateOnly), err)
	}
	for _, sh := range add {
		s.registered.Store("Q\x00"+day.Format(time.DateOnly)+"\x00"+sh, true)
	}
	return nil
}

// quarantineListing are a quarantined record's pointers in the day's listings.
func quarantineListing(q routing.Quarantined, arrival time.Time) []map[string]types.AttributeValue {
	sk := str(quarantineSK(arrival, q.SequenceNumber))
	record := str(quarantinePK(q.ShardID, q.SequenceNumber))
	out := []map[string]types.AttributeValue{{attrPK: str(quarantineShardPK(arrival, q.ShardID)), attrSK: sk, "recordPk": record}}
	if q.Tenant != "" && len(q.Tenant) <= routing.MaxTenantBytes {
		out = append(out, map[string]types.AttributeValue{attrPK: str(tenantQuarantinePK(q.Tenant, arrival, q.ShardID)), attrSK: sk, "recordPk": record})
	}
	return out
}

// arrivalOf is a record's arrival time, or now when the record has none.
func arrivalOf(q routing.Quarantined, now time.Time) time.Time {
	if q.ArrivalTime.IsZero() {
		return now
	}
	return q.ArrivalTime
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
	arrival := arrivalOf(q, now)
	return map[string]types.AttributeValue{
		attrPK: str(quarantinePK(q.ShardID, q.SequenceNumber)), attrSK: str(skQuarantine),
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

// QuarantinedBetween lists records quarantined with arrival times in [from, to], oldest first:
// per day, the shards that quarantined records, then each shard's listing and the records.
func (s *Store) QuarantinedBetween(ctx context.Context, from, to time.Time) ([]QuarantinedRecord, error) {
	return s.quarantined(ctx, "", from, to)
}

// TenantQuarantinedBetween is QuarantinedBetween for the records known to belong to tenant.
// Records whose tenant could not be read (not JSON, say) belong to no tenant.
func (s *Store) TenantQuarantinedBetween(ctx context.Context, tenant string, from, to time.Time) ([]QuarantinedRecord, error) {
	if tenant == "" {
		return nil, errors.New("a tenant is required")
	}
	return s.quarantined(ctx, tenant, from, to)
}

func (s *Store) quarantined(ctx context.Context, tenant string, from, to time.Time) ([]QuarantinedRecord, error) {
	var all []QuarantinedRecord
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(to); day = day.Add(24 * time.Hour) {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(quarantineRegistryPK(day), skRegistry), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("read the shards quarantining on %s: %w", day.Format(time.DateOnly), err)
		}
		shards, _ := out.Item["shards"].(*types.AttributeValueMemberSS)
		if shards == nil {
			continue
		}
		var keys []map[string]types.AttributeValue
		for _, shard := range shards.Value {
			pk := quarantineShardPK(day, shard)
			if tenant != "" {
				pk = tenantQuarantinePK(tenant, day, shard)
			}
			pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
				TableName:              aws.String(s.table),
				KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
				ConsistentRead:         aws.Bool(true),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":pk": str(pk), ":from": str(event.TimeKey(from)), ":to": str(event.TimeKey(to) + "#~"),
				},
			})
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("query quarantine of %s: %w", day.Format(time.DateOnly), err)
				}
				for _, item := range page.Items {
					if pk, ok := item["recordPk"].(*types.AttributeValueMemberS); ok {
						keys = append(keys, key(pk.Value, skQuarantine))
					}
				}
			}
		}
		recs, err := s.quarantineRecords(ctx, keys)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].ArrivalTime != all[j].ArrivalTime {
			return arrivalKey(all[i]) < arrivalKey(all[j])
		}
		return all[i].SequenceNumber < all[j].SequenceNumber
	})
	return all, nil
}

// arrivalKey orders records by arrival time.
func arrivalKey(r QuarantinedRecord) string {
	t, err := time.Parse(time.RFC3339Nano, r.ArrivalTime)
	if err != nil {
		return r.ArrivalTime
	}
	return event.TimeKey(t)
}

// quarantineRecords reads quarantined records by key, strongly consistent, 100 per request.
func (s *Store) quarantineRecords(ctx context.Context, keys []map[string]types.AttributeValue) ([]QuarantinedRecord, error) {
	items, err := s.getItems(ctx, keys, true, "")
	if err != nil {
		return nil, fmt.Errorf("read quarantined records: %w", err)
	}
	var recs []QuarantinedRecord
	if err := attributevalue.UnmarshalListOfMaps(items, &recs); err != nil {
		return nil, fmt.Errorf("decode quarantined records: %w", err)
	}
	return recs, nil
}
