package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/routing"
)

var _ routing.Feed = (*Store)(nil)

// AppendFeed appends the events a router invocation stored for a tenant from a shard to the
// tenant's feed partition of that shard, as one item at the partition's next counter. An entry
// stored by an earlier attempt at its record (StoredBefore set) may be listed already, by an item
// written after it was stored: the partition is read back to the earliest such time (less
// feedClockSkew), and entries found are left out, so a retried batch is fed once. The write is
// conditional on the counter being free: the partition stays gapless and append-only, so an event
// appended after a reader's position is never placed before it. A partition's first item adds the
// shard to the tenant's registry first.
func (s *Store) AppendFeed(ctx context.Context, tenant, shard string, entries []routing.FeedEntry) error {
	if len(entries) == 0 {
		return nil
	}
	started := s.now()
	var since time.Time // look back to here; zero: no entry can be listed yet
	for _, e := range entries {
		if !e.StoredBefore.IsZero() && (since.IsZero() || e.StoredBefore.Before(since)) {
			since = e.StoredBefore
		}
	}
	if !since.IsZero() {
		since = since.Add(-feedClockSkew)
	}
	for attempt := 1; ; attempt++ {
		last, listed, err := s.feedTail(ctx, tenant, shard, since)
		if err != nil {
			return err
		}
		var pointers []string
		first, lastSeq := "", ""
		for _, e := range entries {
			if listed[e.ID] {
				continue
			}
			pointers = append(pointers, feedPointer(e.Type, e.ID))
			if first == "" || seqLess(e.SequenceNumber, first) {
				first = e.SequenceNumber
			}
			if lastSeq == "" || seqLess(lastSeq, e.SequenceNumber) {
				lastSeq = e.SequenceNumber
			}
		}
		if len(pointers) == 0 {
			return nil
		}
		if last < 0 {
			if err := s.registerFeedPartition(ctx, tenant, shard); err != nil {
				return err
			}
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(s.table),
			Item:                feedItem(tenant, shard, s.now(), last+1, pointers, first, lastSeq),
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		var taken *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return nil
		case errors.As(err, &taken) && attempt < maxAttempts:
			// The counter is taken: by another writer, or by this very item, written by an
			// attempt whose answer was lost and that the SDK retried. Read the tail again, back to
			// when this append began, so that its entries are not listed twice.
			if began := started.Add(-feedClockSkew); since.IsZero() || began.Before(since) {
				since = began
			}
			continue
		default:
			return fmt.Errorf("append %d events to the feed of %s/%s: %w", len(pointers), tenant, shard, err)
		}
	}
}

// feedClockSkew is how far the clocks of the function that stored an event and of the router that
// appends it may disagree.
const feedClockSkew = 5 * time.Second

// feedTail reads a feed partition newest first, strongly consistent: the last item's counter
// (-1 for an empty partition), and the ids listed by the items stored at or after since (none
// when since is zero: then only the last item is read).
func (s *Store) feedTail(ctx context.Context, tenant, shard string, since time.Time) (int64, map[string]bool, error) {
	last := int64(-1)
	listed := map[string]bool{}
	pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(feedPK(tenant, shard))},
		ConsistentRead:            aws.Bool(true),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(4),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, nil, fmt.Errorf("read the feed of %s/%s: %w", tenant, shard, err)
		}
		for _, item := range page.Items {
			it, err := decodeFeedItem(item)
			if err != nil {
				return 0, nil, err
			}
			if last < 0 {
				last = it.n
			}
			if since.IsZero() || it.storedAt < event.TimeKey(since) {
				return last, listed, nil // written before any entry was stored: it lists none
			}
			for _, p := range it.pointers {
				listed[p[1:]] = true
			}
		}
	}
	return last, listed, nil
}

// registerFeedPartition adds a shard to the tenant's feed partitions, once per store.
func (s *Store) registerFeedPartition(ctx context.Context, tenant, shard string) error {
	if _, done := s.registered.Load("F\x00" + tenant + "\x00" + shard); done {
		return nil
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(feedRegistryPK(tenant), skRegistry),
		UpdateExpression:          aws.String("ADD shards :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberSS{Value: []string{shard}}},
	})
	if err != nil {
		return fmt.Errorf("register feed partition %s/%s: %w", tenant, shard, err)
	}
	s.registered.Store("F\x00"+tenant+"\x00"+shard, true)
	return nil
}

// storedFeedItem is a feed item as read.
type storedFeedItem struct {
	n                 int64
	pointers          []string
	firstSeq, lastSeq string
	storedAt          string
}

func decodeFeedItem(item map[string]types.AttributeValue) (storedFeedItem, error) {
	get := func(name string) string {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	n, err := strconv.ParseInt(get(attrSK), 10, 64)
	if err != nil {
		return storedFeedItem{}, fmt.Errorf("feed item %q: %w", get(attrSK), err)
	}
	it := storedFeedItem{n: n, firstSeq: get("firstSeq"), lastSeq: get("lastSeq"), storedAt: get("storedAt")}
	if t, err := time.Parse(time.RFC3339Nano, it.storedAt); err == nil {
		it.storedAt = event.TimeKey(t) // fixed width: string order is time order
	}
	if p := get("p"); p != "" {
		it.pointers = strings.Split(p, "\n")
	}
	return it, nil
}

// seqLess compares two Kinesis sequence numbers (decimal, of any length).
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		x, okx := new(big.Int).SetString(a, 10)
		y, oky := new(big.Int).SetString(b, 10)
		if okx && oky {
			return x.Cmp(y) < 0
		}
	}
	return a < b
}

// FeedQuery selects a page of a tenant's feed.
type FeedQuery struct {
	After string       // a position a page returned; empty: from the beginning, or From
	From  time.Time    // without After: the first events stored at or after From
	Types []event.Type // only these types; all when empty
	Limit int          // events per page; 100 when zero, at most 1,000
}

// FeedPage is one page of a tenant's feed, in commit order.
type FeedPage struct {
	Events   []StoredEvent `json:"events"`
	Position string        `json:"position"` // read on from here; the same position when the page is empty
	CaughtUp bool          `json:"caughtUp"` // nothing more is stored yet
}

// feedPosition is, per feed partition (shard), the last item read and how many of its pointers.
type feedPosition map[string][2]int64

// Feed reads a page of a tenant's events in commit order: every partition of the tenant's feed
// (strongly consistent) from the position, merged by storage time, then the events' items. A
// position is stable: reading from it again returns the same events in the same order, followed
// by those stored since.
func (s *Store) Feed(ctx context.Context, tenant string, q FeedQuery) (FeedPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	pos := feedPosition{}
	if q.After != "" {
		var err error
		if pos, err = decodeFeedPosition(tenant, q.After); err != nil {
			return FeedPage{}, err
		}
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(feedRegistryPK(tenant), skRegistry), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return FeedPage{}, fmt.Errorf("read the feed partitions of %s: %w", tenant, err)
	}
	var shards []string
	if ss, ok := out.Item["shards"].(*types.AttributeValueMemberSS); ok {
		shards = slices.Sorted(slices.Values(ss.Value))
	}
	type part struct {
		shard string
		items []storedFeedItem
		more  bool
	}
	parts := make([]*part, 0, len(shards))
	for _, shard := range shards {
		p := &part{shard: shard}
		at, started := pos[shard]
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("pk = :pk AND sk >= :from"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(feedPK(tenant, shard)), ":from": str(feedSK(0))},
			ConsistentRead:            aws.Bool(true),
			Limit:                     aws.Int32(int32(min(limit, 100))),
		}
		if started {
			in.ExpressionAttributeValues[":from"] = str(feedSK(at[0]))
		} else if !q.From.IsZero() {
			in.KeyConditionExpression = aws.String("pk = :pk")
			delete(in.ExpressionAttributeValues, ":from")
			in.FilterExpression = aws.String("storedAt >= :at")
			in.ExpressionAttributeValues[":at"] = str(q.From.UTC().Format(time.RFC3339Nano))
		}
		for p.items == nil || (len(p.items) == 0 && p.more) {
			page, err := s.db.Query(ctx, in)
			if err != nil {
				return FeedPage{}, fmt.Errorf("read the feed of %s/%s: %w", tenant, shard, err)
			}
			p.items = []storedFeedItem{}
			for _, item := range page.Items {
				it, err := decodeFeedItem(item)
				if err != nil {
					return FeedPage{}, err
				}
				p.items = append(p.items, it)
			}
			p.more = len(page.LastEvaluatedKey) > 0
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
		parts = append(parts, p)
	}
	// Merge the partitions' items by storage time, taking pointers until the page is full.
	var ids []string
	seen := map[string]bool{}
	next := feedPosition{}
	for k, v := range pos {
		next[k] = v
	}
	want := map[event.Type]bool{}
	for _, t := range q.Types {
		want[t] = true
	}
	full := false
	for !full {
		best := -1
		for i, p := range parts {
			if len(p.items) > 0 && (best < 0 || p.items[0].storedAt < parts[best].items[0].storedAt) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		p := parts[best]
		it := p.items[0]
		skip := int64(0)
		if at, ok := next[p.shard]; ok && at[0] == it.n {
			skip = at[1]
		}
		taken := skip
		for _, ptr := range it.pointers[min(int(skip), len(it.pointers)):] {
			if len(ids) == limit {
				full = true
				break
			}
			taken++
			id := ptr[1:]
			if (len(want) == 0 || want[feedPointerType(ptr)]) && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		next[p.shard] = [2]int64{it.n, taken}
		if !full {
			p.items = p.items[1:]
		}
	}
	events, err := s.eventsByID(ctx, tenant, ids, true)
	if err != nil {
		return FeedPage{}, err
	}
	caughtUp := !full
	for _, p := range parts {
		caughtUp = caughtUp && len(p.items) == 0 && !p.more
	}
	return FeedPage{Events: events, Position: encodeFeedPosition(tenant, next), CaughtUp: caughtUp}, nil
}

// feedCursor is a feed position as a client holds it.
type feedCursor struct {
	Tenant string              `json:"t"`
	At     map[string][2]int64 `json:"p"`
}

func encodeFeedPosition(tenant string, p feedPosition) string {
	b, _ := json.Marshal(feedCursor{Tenant: queryDigest("feed\x00" + tenant), At: p})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeFeedPosition reads a position, or ErrBadCursor for one that is not a position of this
// tenant's feed.
func decodeFeedPosition(tenant, s string) (feedPosition, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c feedCursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.Tenant != queryDigest("feed\x00"+tenant) {
		return nil, ErrBadCursor
	}
	for shard, at := range c.At {
		if !strings.HasPrefix(shard, "shardId-") || at[0] < 0 || at[1] < 0 {
			return nil, ErrBadCursor
		}
	}
	return feedPosition(c.At), nil
}

// AllTypeEvents reads every event of one type of a tenant from its feed, in commit order.
func (s *Store) AllTypeEvents(ctx context.Context, tenant string, t event.Type) ([]StoredEvent, error) {
	var all []StoredEvent
	q := FeedQuery{Types: []event.Type{t}, Limit: 1000}
	for {
		page, err := s.Feed(ctx, tenant, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Events...)
		if page.CaughtUp {
			return all, nil
		}
		q.After = page.Position
	}
}
