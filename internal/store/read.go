package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
)

// ErrNotFound is returned when an event or account does not exist for the tenant asking.
var ErrNotFound = errors.New("not found")

// StoredEvent is an event as clients read it back.
type StoredEvent struct {
	ID             string         `dynamodbav:"id" json:"id"`
	Tenant         string         `dynamodbav:"tenant" json:"tenant"`
	Type           string         `dynamodbav:"type" json:"type"`
	Source         string         `dynamodbav:"source" json:"source"`
	Subject        string         `dynamodbav:"subject" json:"subject"`
	AccountID      string         `dynamodbav:"accountId" json:"accountId"`
	Time           string         `dynamodbav:"time" json:"time"`
	Data           map[string]any `dynamodbav:"data" json:"data"`
	BlockedBy      string         `dynamodbav:"blockedBy,omitempty" json:"blockedBy,omitempty"`
	SequenceNumber string         `dynamodbav:"sequenceNumber,omitempty" json:"sequenceNumber,omitempty"`
	StoredAt       string         `dynamodbav:"storedAt" json:"storedAt"`
}

// Page is one page of a query, newest first. Cursor is empty on the last page.
type Page struct {
	Events []StoredEvent `json:"events"`
	Cursor string        `json:"cursor,omitempty"`
}

// Range selects events by time (inclusive; zero means unbounded) and pages through them.
type Range struct {
	From, To time.Time
	Type     event.Type // only events of this type; all when empty (a filter: a page may hold fewer than Limit)
	Limit    int32      // events read per page; 50 when zero
	Cursor   string     // from the previous Page
}

// GetEvent returns a tenant's event by id, or ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, tenant, id string) (*StoredEvent, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(eventPK(tenant, id), skEvent)})
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("event %s: %w", id, ErrNotFound)
	}
	var e StoredEvent
	if err := attributevalue.UnmarshalMap(out.Item, &e); err != nil {
		return nil, fmt.Errorf("decode event %s: %w", id, err)
	}
	return &e, nil
}

// AccountEvents returns a page of an account's events in r, newest first.
func (s *Store) AccountEvents(ctx context.Context, tenant, accountID string, r Range) (Page, error) {
	return s.timeline(ctx, IndexAccount, attrGSI1PK, attrGSI1SK, accountPK(tenant, accountID), r)
}

// TypeEvents returns a page of a tenant's events of one type in r, newest first.
func (s *Store) TypeEvents(ctx context.Context, tenant string, t event.Type, r Range) (Page, error) {
	return s.timeline(ctx, IndexTypeAndQuarantine, attrGSI2PK, attrGSI2SK, typePK(tenant, t), r)
}

func (s *Store) timeline(ctx context.Context, index, pkName, skName, pk string, r Range) (Page, error) {
	from, to := "0", "~"
	if !r.From.IsZero() {
		from = event.TimeKey(r.From)
	}
	if !r.To.IsZero() {
		to = event.TimeKey(r.To) + "#~"
	}
	limit := r.Limit
	if limit <= 0 {
		limit = 50
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(index),
		KeyConditionExpression: aws.String(fmt.Sprintf("%s = :pk AND %s BETWEEN :from AND :to", pkName, skName)),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk}, ":from": &types.AttributeValueMemberS{Value: from},
			":to": &types.AttributeValueMemberS{Value: to},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(limit),
	}
	if r.Type != "" {
		in.FilterExpression = aws.String("#type = :type")
		in.ExpressionAttributeNames = map[string]string{"#type": "type"}
		in.ExpressionAttributeValues[":type"] = &types.AttributeValueMemberS{Value: string(r.Type)}
	}
	if r.Cursor != "" {
		start, err := decodeCursor(r.Cursor)
		if err != nil {
			return Page{}, err
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return Page{}, fmt.Errorf("query %s: %w", index, err)
	}
	page := Page{Events: make([]StoredEvent, 0, len(out.Items))}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &page.Events); err != nil {
		return Page{}, fmt.Errorf("decode events: %w", err)
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.Cursor = encodeCursor(out.LastEvaluatedKey)
	}
	return page, nil
}

// ErrBadCursor is returned for a cursor that no page handed out.
var ErrBadCursor = errors.New("cursor is not one this API returned")

func encodeCursor(k map[string]types.AttributeValue) string {
	m := map[string]string{}
	for name, v := range k {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[name] = s.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (map[string]types.AttributeValue, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var m map[string]string
	if err != nil || json.Unmarshal(b, &m) != nil || len(m) == 0 {
		return nil, ErrBadCursor
	}
	k := map[string]types.AttributeValue{}
	for name, v := range m {
		k[name] = &types.AttributeValueMemberS{Value: v}
	}
	return k, nil
}

// AccountView is an account's state as clients read it.
type AccountView struct {
	Tenant          string    `json:"tenant"`
	AccountID       string    `json:"accountId"`
	Frozen          bool      `json:"frozen"`
	BlockedActions  []string  `json:"blockedActions,omitempty"`
	DecidedBy       string    `json:"decidedBy,omitempty"`
	DecidedAt       time.Time `json:"decidedAt,omitzero"`
	MonitoringLevel string    `json:"monitoringLevel,omitempty"`
}

// AccountState returns an account's state as of now, or ErrNotFound for an account no event
// ever changed.
func (s *Store) AccountState(ctx context.Context, tenant, accountID string) (*AccountView, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: key(accountPK(tenant, accountID), skState), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get account %s: %w", accountID, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("account %s: %w", accountID, ErrNotFound)
	}
	var st stateItem
	if err := attributevalue.UnmarshalMap(out.Item, &st); err != nil {
		return nil, fmt.Errorf("decode account %s: %w", accountID, err)
	}
	return View(tenant, accountID, st.State, s.now()), nil
}

// View describes a state as of now.
func View(tenant, accountID string, st account.State, now time.Time) *AccountView {
	d := st.DecisionAt(now)
	return &AccountView{Tenant: tenant, AccountID: accountID, Frozen: d.Frozen, BlockedActions: d.Blocked,
		DecidedBy: d.EventID, DecidedAt: d.At, MonitoringLevel: st.MonitoringLevel()}
}

// QuarantinedRecord is a quarantined record as clients read it.
type QuarantinedRecord struct {
	ShardID        string `dynamodbav:"shardId" json:"shardId"`
	SequenceNumber string `dynamodbav:"sequenceNumber" json:"sequenceNumber"`
	PartitionKey   string `dynamodbav:"partitionKey" json:"partitionKey"`
	ArrivalTime    string `dynamodbav:"arrivalTime" json:"arrivalTime"`
	Code           string `dynamodbav:"code" json:"code"`
	Reason         string `dynamodbav:"reason" json:"reason"`
	Tenant         string `dynamodbav:"tenant,omitempty" json:"tenant,omitempty"`
	EventID        string `dynamodbav:"eventId,omitempty" json:"eventId,omitempty"`
	Type           string `dynamodbav:"type,omitempty" json:"type,omitempty"`
	Raw            []byte `dynamodbav:"raw" json:"raw"`
	// RawTruncated marks an oversize record of which Raw holds only the first KeptOversizeBytes;
	// RawBytes and RawSHA256 describe the whole record, which the stream holds for its retention.
	RawTruncated bool   `dynamodbav:"rawTruncated,omitempty" json:"rawTruncated,omitempty"`
	RawBytes     int    `dynamodbav:"rawBytes,omitempty" json:"rawBytes,omitempty"`
	RawSHA256    string `dynamodbav:"rawSha256,omitempty" json:"rawSha256,omitempty"`
	// Minimal marks the item written in place of one DynamoDB refused for good: it keeps the
	// code, a shorter reason, RawBytes and RawSHA256 but none of the record's bytes, and says why
	// in RefusedBecause.
	Minimal        bool   `dynamodbav:"minimal,omitempty" json:"minimal,omitempty"`
	RefusedBecause string `dynamodbav:"refusedBecause,omitempty" json:"refusedBecause,omitempty"`
	// RedrivenAt, RedrivenAs and RedrivenShard say when a redrive last put the record on the
	// stream again, and where: its new sequence number and shard (redrive.go).
	RedrivenAt    string `dynamodbav:"redrivenAt,omitempty" json:"redrivenAt,omitempty"`
	RedrivenAs    string `dynamodbav:"redrivenAs,omitempty" json:"redrivenAs,omitempty"`
	RedrivenShard string `dynamodbav:"redrivenShard,omitempty" json:"redrivenShard,omitempty"`
	// RedrivenFromShard and RedrivenFromSequence mark a redrive copy: this record is the
	// quarantined record there, sent again by a redrive and quarantined again.
	RedrivenFromShard    string `dynamodbav:"redrivenFromShard,omitempty" json:"redrivenFromShard,omitempty"`
	RedrivenFromSequence string `dynamodbav:"redrivenFromSequence,omitempty" json:"redrivenFromSequence,omitempty"`
}

// QuarantinedBetween lists records quarantined with arrival times in [from, to], oldest first,
// one query per day.
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
		in := &dynamodb.QueryInput{
			TableName:              aws.String(s.table),
			IndexName:              aws.String(IndexTypeAndQuarantine),
			KeyConditionExpression: aws.String("gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":   &types.AttributeValueMemberS{Value: quarantineDayPK(day)},
				":from": &types.AttributeValueMemberS{Value: event.TimeKey(from)},
				":to":   &types.AttributeValueMemberS{Value: event.TimeKey(to) + "#~"},
			},
		}
		if tenant != "" {
			in.FilterExpression = aws.String("tenant = :tenant")
			in.ExpressionAttributeValues[":tenant"] = &types.AttributeValueMemberS{Value: tenant}
		}
		pages := dynamodb.NewQueryPaginator(s.db, in)
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("query quarantine of %s: %w", day.Format(time.DateOnly), err)
			}
			var recs []QuarantinedRecord
			if err := attributevalue.UnmarshalListOfMaps(page.Items, &recs); err != nil {
				return nil, fmt.Errorf("decode quarantined records: %w", err)
			}
			all = append(all, recs...)
		}
	}
	return all, nil
}

// AllTypeEvents pages through every event of one type of a tenant, newest first.
func (s *Store) AllTypeEvents(ctx context.Context, tenant string, t event.Type) ([]StoredEvent, error) {
	var all []StoredEvent
	for cursor := ""; ; {
		page, err := s.TypeEvents(ctx, tenant, t, Range{Limit: 500, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
		if cursor = page.Cursor; cursor == "" {
			return all, nil
		}
	}
}
