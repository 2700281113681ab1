package store

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
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
	Type     event.Type // only events of this type; all when empty (pages still fill: no empty page while events match)
	Limit    int32      // events read per page; 50 when zero
	Cursor   string     // from the previous Page
}

// GetEvent returns a tenant's event by id, or ErrNotFound.
func (s *Store) GetEvent(ctx context.Context, tenant, id string) (*StoredEvent, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(eventPK(tenant, id), skEvent), ConsistentRead: aws.Bool(true)})
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

// eventsByID reads a tenant's events by id with BatchGetItem calls of up to 100 keys (strongly
// consistent when consistent is set), in the order of ids; ids not stored are left out.
func (s *Store) eventsByID(ctx context.Context, tenant string, ids []string, consistent bool) ([]StoredEvent, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, key(eventPK(tenant, id), skEvent))
		}
	}
	items, err := s.getItems(ctx, keys, consistent, "")
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	var got []StoredEvent
	if err := attributevalue.UnmarshalListOfMaps(items, &got); err != nil {
		return nil, fmt.Errorf("decode events: %w", err)
	}
	byID := make(map[string]StoredEvent, len(got))
	for _, e := range got {
		byID[e.ID] = e
	}
	events := make([]StoredEvent, 0, len(ids))
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			events = append(events, e)
		}
	}
	return events, nil
}

// AccountEvents returns a page of an account's events in r, newest first: its timeline entries
// and decisions, read from the account's partition (strongly consistent) and merged, then their
// items. A type filter fills the page: the partition is read on until Limit events match or none
// is left.
func (s *Store) AccountEvents(ctx context.Context, tenant, accountID string, r Range) (Page, error) {
	limit := int(r.Limit)
	if limit <= 0 {
		limit = 50
	}
	q := accountQuery{tenant: tenant, account: accountID, from: r.From, to: r.To, typ: r.Type}
	upper := ""
	if r.Cursor != "" {
		var err error
		if upper, err = q.decodeCursor(r.Cursor); err != nil {
			return Page{}, err
		}
	}
	var streams []*entryStream
	for _, prefix := range []string{skTimelinePrefix, skDecisionPrefix} {
		if r.Type != "" && isDecision(r.Type) != (prefix == skDecisionPrefix) {
			continue
		}
		streams = append(streams, s.newEntryStream(q, prefix, upper))
	}
	var ids, keys []string
	for len(ids) < limit {
		best := -1
		for i, st := range streams {
			if err := st.fill(ctx); err != nil {
				return Page{}, err
			}
			if st.peek() != "" && (best < 0 || st.peek() > streams[best].peek()) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		k, id := streams[best].next()
		ids, keys = append(ids, id), append(keys, k)
	}
	events, err := s.eventsByID(ctx, tenant, ids, true)
	if err != nil {
		return Page{}, err
	}
	page := Page{Events: events}
	more := false
	for _, st := range streams {
		if err := st.fill(ctx); err != nil {
			return Page{}, err
		}
		more = more || st.peek() != ""
	}
	if more && len(keys) > 0 {
		page.Cursor = q.encodeCursor(keys[len(keys)-1])
	}
	return page, nil
}

// accountQuery is what an account's page was asked for: a cursor belongs to one.
type accountQuery struct {
	tenant, account string
	from, to        time.Time
	typ             event.Type
}

// cursorOf is the stored form of an account page's cursor.
type cursorOf struct {
	Query string `json:"q"` // the query it belongs to
	After string `json:"k"` // the time key and id of the last event returned
}

func (q accountQuery) id() string {
	return strings.Join([]string{"account", q.tenant, q.account, event.TimeKey(q.from), event.TimeKey(q.to), string(q.typ)}, "\x00")
}

func (q accountQuery) encodeCursor(after string) string {
	b, _ := json.Marshal(cursorOf{Query: queryDigest(q.id()), After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the position a cursor holds, or ErrBadCursor for one that is not a cursor
// of this query (another tenant's, another account's or range's, or no cursor at all).
func (q accountQuery) decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var cur cursorOf
	if err != nil || json.Unmarshal(b, &cur) != nil || cur.Query != queryDigest(q.id()) || !validTimelineKey(cur.After) {
		return "", ErrBadCursor
	}
	return cur.After, nil
}

// queryDigest names a query in a cursor without spelling it out.
func queryDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// validTimelineKey reports whether k is a time key and an id, as a cursor holds.
func validTimelineKey(k string) bool {
	t, id, ok := strings.Cut(k, "#")
	return ok && id != "" && len(t) == len(timeKeyLayout)
}

// entryStream reads one prefix of an account's partition newest first, a page at a time, keeping
// the entries that pass the query's type filter.
type entryStream struct {
	s       *Store
	in      *dynamodb.QueryInput
	prefix  string
	upper   string // a key to stop before (the cursor's), or ""
	buf     [][2]string
	done    bool
	queries int
}

// maxQueriesPerPage bounds the queries one prefix of a page may take to fill it.
const maxQueriesPerPage = 50

func (s *Store) newEntryStream(q accountQuery, prefix, upper string) *entryStream {
	from, to := prefix+"0", prefix+"~"
	if !q.from.IsZero() {
		from = prefix + event.TimeKey(q.from)
	}
	if !q.to.IsZero() {
		to = prefix + event.TimeKey(q.to) + "#~"
	}
	if upper != "" && prefix+upper < to {
		to = prefix + upper
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ProjectionExpression:   aws.String("sk, id"),
		ConsistentRead:         aws.Bool(true),
		ScanIndexForward:       aws.Bool(false),
		Limit:                  aws.Int32(100),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: accountPK(q.tenant, q.account)},
			":from": &types.AttributeValueMemberS{Value: from}, ":to": &types.AttributeValueMemberS{Value: to},
		},
	}
	if q.typ != "" {
		in.FilterExpression = aws.String("#type = :type")
		in.ExpressionAttributeNames = map[string]string{"#type": "type"}
		in.ExpressionAttributeValues[":type"] = &types.AttributeValueMemberS{Value: string(q.typ)}
	}
	st := &entryStream{s: s, in: in, prefix: prefix}
	if upper != "" {
		st.upper = prefix + upper
	}
	return st
}

// fill reads until an entry is buffered or the prefix is read to its end.
func (st *entryStream) fill(ctx context.Context) error {
	for len(st.buf) == 0 && !st.done {
		if st.queries++; st.queries > maxQueriesPerPage {
			st.done = true
			return nil
		}
		out, err := st.s.db.Query(ctx, st.in)
		if err != nil {
			return fmt.Errorf("query account timeline: %w", err)
		}
		for _, item := range out.Items {
			sk, _ := item[attrSK].(*types.AttributeValueMemberS)
			id, _ := item["id"].(*types.AttributeValueMemberS)
			if sk == nil || id == nil || sk.Value == st.upper {
				continue
			}
			st.buf = append(st.buf, [2]string{strings.TrimPrefix(sk.Value, st.prefix), id.Value})
		}
		st.in.ExclusiveStartKey = out.LastEvaluatedKey
		st.done = len(out.LastEvaluatedKey) == 0
	}
	return nil
}

// peek returns the next entry's key (time key and id), or "" when none is left.
func (st *entryStream) peek() string {
	if len(st.buf) == 0 {
		return ""
	}
	return st.buf[0][0]
}

// next takes the next entry: its key and event id.
func (st *entryStream) next() (string, string) {
	e := st.buf[0]
	st.buf = st.buf[1:]
	return e[0], e[1]
}

// ErrBadCursor is returned for a cursor that is not one this API returned for the same query.
var ErrBadCursor = errors.New("cursor is not one this API returned for this query")

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

// AccountState returns an account's state as of now, from its decisions (strongly consistent),
// or ErrNotFound for an account no event ever changed.
func (s *Store) AccountState(ctx context.Context, tenant, accountID string) (*AccountView, error) {
	k := typefn.AccountKey{Tenant: tenant, Account: accountID}
	states, err := s.States(ctx, []typefn.AccountKey{k})
	if err != nil {
		return nil, fmt.Errorf("get account %s: %w", accountID, err)
	}
	st, ok := states[k]
	if !ok {
		return nil, fmt.Errorf("account %s: %w", accountID, ErrNotFound)
	}
	return View(tenant, accountID, st, s.now()), nil
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
