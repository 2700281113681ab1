package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
// tenant's feed partition of that shard, as one item at the partition's next counter (or several,
// at consecutive counters, when their pointers outgrow maxFeedItemPointerBytes). An entry
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
	lookBackToStart := func() { // so that the tail read lists what this append wrote
		if began := started.Add(-feedClockSkew); since.IsZero() || began.Before(since) {
			since = began
		}
	}
	for conflicts := 0; ; {
		last, listed, err := s.feedTail(ctx, tenant, shard, since)
		if err != nil {
			return err
		}
		// The entries not listed yet, as many as one item holds: a batch of 10,000 records
		// with 128-byte ids needs several items, at consecutive counters.
		var pointers []string
		first, lastSeq := "", ""
		size, more := 0, false
		for _, e := range entries {
			if listed[e.ID] {
				continue
			}
			p := feedPointer(e.Type, e.ID)
			if size += len(p) + 1; size > maxFeedItemPointerBytes && len(pointers) > 0 {
				more = true
				break
			}
			pointers = append(pointers, p)
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
		if last.n < 0 {
			if err := s.registerFeedPartition(ctx, tenant, shard); err != nil {
				return err
			}
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(s.table),
			Item:                feedItem(tenant, shard, s.now(), last.n+1, last.c+int64(len(pointers)), pointers, first, lastSeq),
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		var taken *types.ConditionalCheckFailedException
		switch {
		case err == nil && !more:
			return nil
		case err == nil:
			lookBackToStart() // the entries left go in the next item
		case errors.As(err, &taken) && conflicts < maxAttempts-1:
			// The counter is taken: by another writer, or by this very item, written by an
			// attempt whose answer was lost and that the SDK retried. Read the tail again, back to
			// when this append began, so that its entries are not listed twice.
			conflicts++
			lookBackToStart()
		default:
			return fmt.Errorf("append %d events to the feed of %s/%s: %w", len(pointers), tenant, shard, err)
		}
	}
}

// maxFeedItemPointerBytes bounds the pointers of one feed item, well below DynamoDB's 400 KB.
const maxFeedItemPointerBytes = 256 << 10

// tailPage is how many items a tail read asks for: the last one only, or a few at a time when it
// reads back to a time.
func tailPage(since time.Time) int32 {
	if since.IsZero() {
		return 1
	}
	return 4
}

// feedClockSkew is how far the clocks of the function that stored an event and of the router that
// appends it may disagree.
const feedClockSkew = 5 * time.Second

// feedTail reads a feed partition newest first, strongly consistent: the last item (counter -1
// for an empty partition), and the ids listed by the items stored at or after since (none
// when since is zero: then only the last item is read).
func (s *Store) feedTail(ctx context.Context, tenant, shard string, since time.Time) (storedFeedItem, map[string]bool, error) {
	last := storedFeedItem{n: -1}
	listed := map[string]bool{}
	pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(feedPK(tenant, shard))},
		ConsistentRead:            aws.Bool(true),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(tailPage(since)),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return last, nil, fmt.Errorf("read the feed of %s/%s: %w", tenant, shard, err)
		}
		for _, item := range page.Items {
			it, err := decodeFeedItem(item)
			if err != nil {
				return last, nil, err
			}
			if last.n < 0 {
				last = it
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
	c                 int64 // the partition's pointers through this item
	pointers          []string
	firstSeq, lastSeq string
	storedAt          string
}

func decodeFeedItem(item map[string]types.AttributeValue) (storedFeedItem, error) {
	n, err := strconv.ParseInt(stringAttr(item, attrSK), 10, 64)
	if err != nil {
		return storedFeedItem{}, fmt.Errorf("feed item %q: %w", stringAttr(item, attrSK), err)
	}
	it := storedFeedItem{n: n, c: numberAttr(item, "c"), firstSeq: stringAttr(item, "firstSeq"), lastSeq: stringAttr(item, "lastSeq"), storedAt: stringAttr(item, "storedAt")}
	if t, err := time.Parse(time.RFC3339Nano, it.storedAt); err == nil {
		it.storedAt = event.TimeKey(t) // fixed width: string order is time order
	}
	if p := stringAttr(item, "p"); p != "" {
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

// Limits of a feed page.
const (
	DefaultFeedLimit = 100     // events per page when a query names none
	MaxFeedLimit     = 1000    // events per page at most
	MaxFeedPageBytes = 4 << 20 // of events per page, as the proxy response carries them: a Lambda answers at most 6 MB
)

// FeedQuery selects a page of a tenant's feed.
type FeedQuery struct {
	After    string       // a position a page returned; empty: from the beginning, or From
	From     time.Time    // without After: the first events stored at or after From
	Types    []event.Type // only these types; all when empty
	Limit    int          // events per page; DefaultFeedLimit when zero, at most MaxFeedLimit
	MaxBytes int          // of events per page; MaxFeedPageBytes when zero (one event at least)
}

// FeedPage is one page of a tenant's feed, in commit order.
type FeedPage struct {
	Events   []StoredEvent `json:"events"`
	Position string        `json:"position"` // read on from here; the same position when the page is empty
	CaughtUp bool          `json:"caughtUp"` // nothing more is stored yet
}

// FeedStart is where a reader without a position begins: the zero value is the beginning.
type FeedStart struct {
	Now bool      // after every event stored so far
	At  time.Time // the first events stored at or after At (a storage time, not an event time)
}

// shardPosition is a position in one feed partition: item n, k of its pointers behind, and c
// pointers of the partition behind in all. k is below item n's pointer count: after the last
// pointer of item n the position is {n+1, 0} (item n+1 may not exist yet).
type shardPosition struct{ n, k, c int64 }

// before orders positions in one partition.
func (p shardPosition) before(q shardPosition) bool { return p.n < q.n || p.n == q.n && p.k < q.k }

// feedPosition is a position in a tenant's feed: one per partition (shard) read; a partition it
// does not name is read from its start.
type feedPosition map[string]shardPosition

// feedPartitions lists a tenant's feed partitions (shards), sorted.
func (s *Store) feedPartitions(ctx context.Context, tenant string) ([]string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(feedRegistryPK(tenant), skRegistry), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read the feed partitions of %s: %w", tenant, err)
	}
	var shards []string
	if ss, ok := out.Item["shards"].(*types.AttributeValueMemberSS); ok {
		shards = slices.Sorted(slices.Values(ss.Value))
	}
	return shards, nil
}

// feedTails reads the last item of each of a tenant's feed partitions.
func (s *Store) feedTails(ctx context.Context, tenant string) (map[string]storedFeedItem, error) {
	shards, err := s.feedPartitions(ctx, tenant)
	if err != nil {
		return nil, err
	}
	tails := make(map[string]storedFeedItem, len(shards))
	for _, shard := range shards {
		last, _, err := s.feedTail(ctx, tenant, shard, time.Time{})
		if err != nil {
			return nil, err
		}
		if last.n >= 0 {
			tails[shard] = last
		}
	}
	return tails, nil
}

// feedItemAt reads item n of a feed partition, strongly consistent.
func (s *Store) feedItemAt(ctx context.Context, tenant, shard string, n int64) (storedFeedItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(feedPK(tenant, shard), feedSK(n)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return storedFeedItem{}, fmt.Errorf("read feed item %d of %s/%s: %w", n, tenant, shard, err)
	}
	if out.Item == nil {
		return storedFeedItem{}, fmt.Errorf("feed item %d of %s/%s is missing from a gapless partition", n, tenant, shard)
	}
	return decodeFeedItem(out.Item)
}

// startPosition resolves a start to a position. A time is found per partition by binary search
// over its gapless counter (storage times grow with it): about log2(items) GetItems.
func (s *Store) startPosition(ctx context.Context, tenant string, start FeedStart) (feedPosition, error) {
	pos := feedPosition{}
	if !start.Now && start.At.IsZero() {
		return pos, nil
	}
	tails, err := s.feedTails(ctx, tenant)
	if err != nil {
		return nil, err
	}
	at := event.TimeKey(start.At)
	for shard, tail := range tails {
		if start.Now || tail.storedAt < at {
			pos[shard] = shardPosition{tail.n + 1, 0, tail.c} // after the tail: the next item's start
			continue
		}
		first := tail // the first item stored at or after at: in [lo, first.n]
		for lo := int64(0); lo < first.n; {
			mid := lo + (first.n-lo)/2
			it, err := s.feedItemAt(ctx, tenant, shard, mid)
			if err != nil {
				return nil, err
			}
			if it.storedAt >= at {
				first = it
			} else {
				lo = mid + 1
			}
		}
		pos[shard] = shardPosition{first.n, 0, first.c - int64(len(first.pointers))}
	}
	return pos, nil
}

// feedPart is what a page read of one feed partition: its items from the position on.
type feedPart struct {
	shard string
	items []storedFeedItem
	more  bool // the partition holds items after these
}

// Feed reads a page of a tenant's events in commit order: every partition of the tenant's feed
// (strongly consistent) from the position, merged by storage time, then the events' items. A
// position is stable: reading from it again returns the same events in the same order, followed
// by those stored since.
func (s *Store) Feed(ctx context.Context, tenant string, q FeedQuery) (FeedPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultFeedLimit
	}
	limit = min(limit, MaxFeedLimit)
	budget := q.MaxBytes
	if budget <= 0 {
		budget = MaxFeedPageBytes
	}
	var pos feedPosition
	var err error
	if q.After != "" {
		pos, err = decodeFeedPosition(tenant, q.After)
	} else {
		pos, err = s.startPosition(ctx, tenant, FeedStart{At: q.From})
	}
	if err != nil {
		return FeedPage{}, err
	}
	shards, err := s.feedPartitions(ctx, tenant)
	if err != nil {
		return FeedPage{}, err
	}
	parts := make([]feedPart, 0, len(shards))
	for _, shard := range shards {
		page, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			KeyConditionExpression:    aws.String("pk = :pk AND sk >= :from"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(feedPK(tenant, shard)), ":from": str(feedSK(pos[shard].n))},
			ConsistentRead:            aws.Bool(true),
			Limit:                     aws.Int32(int32(min(limit, 100))),
		})
		if err != nil {
			return FeedPage{}, fmt.Errorf("read the feed of %s/%s: %w", tenant, shard, err)
		}
		p := feedPart{shard: shard, more: len(page.LastEvaluatedKey) > 0}
		for _, item := range page.Items {
			it, err := decodeFeedItem(item)
			if err != nil {
				return FeedPage{}, err
			}
			p.items = append(p.items, it)
		}
		parts = append(parts, p)
	}
	want := map[event.Type]bool{}
	for _, t := range q.Types {
		want[t] = true
	}
	ids, next, full := mergeFeed(parts, pos, want, limit)
	events, err := s.eventsByID(ctx, tenant, ids, true)
	if err != nil {
		return FeedPage{}, err
	}
	if fit := fitting(events, budget); fit < len(events) {
		cut := slices.Index(ids, events[fit].ID) // the first event left for the next page
		_, next, _ = mergeFeed(parts, pos, want, cut)
		events, full = events[:fit], true
	}
	caughtUp := !full
	for _, p := range parts {
		caughtUp = caughtUp && !p.more
	}
	return FeedPage{Events: events, Position: encodeFeedPosition(tenant, next), CaughtUp: caughtUp}, nil
}

// mergeFeed takes up to limit wanted pointers from the partitions' items by storage time, from
// pos on: their ids, the position after the last pointer taken, and whether it stopped before
// every item read was taken (the limit, or a partition with more items ran out of those read).
func mergeFeed(parts []feedPart, pos feedPosition, want map[event.Type]bool, limit int) ([]string, feedPosition, bool) {
	var ids []string
	seen := map[string]bool{}
	next := maps.Clone(pos)
	heads := make([]int, len(parts))
	for {
		best := -1
		for i, p := range parts {
			if heads[i] == len(p.items) {
				if p.more {
					return ids, next, true // read on from here on the next page, in order
				}
				continue
			}
			if best < 0 || p.items[heads[i]].storedAt < parts[best].items[heads[best]].storedAt {
				best = i
			}
		}
		if best < 0 {
			return ids, next, false
		}
		p := parts[best]
		it := p.items[heads[best]]
		taken := int64(0)
		if at, ok := next[p.shard]; ok && at.n == it.n {
			taken = min(at.k, int64(len(it.pointers)))
		}
		for _, ptr := range it.pointers[taken:] {
			if len(ids) == limit {
				next[p.shard] = shardPosition{it.n, taken, it.c - int64(len(it.pointers)) + taken}
				return ids, next, true
			}
			taken++
			id := ptr[1:]
			if (len(want) == 0 || want[feedPointerType(ptr)]) && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		// A fully read item's position is the next item's start: one spelling per position, and
		// the next page does not read this item again.
		next[p.shard] = shardPosition{it.n + 1, 0, it.c}
		heads[best]++
	}
}

// fitting is how many of the events, in order, fit in budget bytes (one at least), counting
// each event's JSON as the API Gateway proxy response carries it: escaped inside a JSON string.
func fitting(events []StoredEvent, budget int) int {
	size := 0
	for i, e := range events {
		b, _ := json.Marshal(e)
		escaped, _ := json.Marshal(string(b))
		if size += len(escaped) + 1; size > budget && i > 0 {
			return i
		}
	}
	return len(events)
}

// FeedLag is how far a position is behind the end of a tenant's feed.
type FeedLag struct {
	Events int64     // stored events after the position, of every type
	Oldest time.Time // when the oldest of them was stored; zero when there are none
}

// feedLag measures a position against the partitions' tails: the counts the items carry, and
// the first item after the position in each partition that is behind.
func (s *Store) feedLag(ctx context.Context, tenant string, tails map[string]storedFeedItem, pos feedPosition) (FeedLag, error) {
	var lag FeedLag
	var keys []map[string]types.AttributeValue
	for shard, tail := range tails {
		at, ok := pos[shard]
		if behind := tail.c - at.c; behind > 0 {
			lag.Events += behind
			keys = append(keys, key(feedPK(tenant, shard), feedSK(at.n))) // holds the first pointer after at
			if ok && at.k > 0 && at.n < tail.n {
				keys = append(keys, key(feedPK(tenant, shard), feedSK(at.n+1))) // a position of older code may end item n
			}
		}
	}
	items, err := s.getItems(ctx, keys, true, "")
	if err != nil {
		return FeedLag{}, fmt.Errorf("read the feed of %s after a position: %w", tenant, err)
	}
	oldest := ""
	for _, item := range items {
		it, err := decodeFeedItem(item)
		if err != nil {
			return FeedLag{}, err
		}
		shard := strings.TrimPrefix(stringAttr(item, attrPK), feedPK(tenant, ""))
		if at := pos[shard]; it.n == at.n && at.k >= int64(len(it.pointers)) {
			continue // every pointer of this item is behind the position
		}
		if oldest == "" || it.storedAt < oldest {
			oldest = it.storedAt
		}
	}
	if oldest != "" {
		lag.Oldest, _ = time.Parse(time.RFC3339Nano, oldest)
	}
	return lag, nil
}

// feedCursor is a feed position as a client holds it.
type feedCursor struct {
	Tenant string              `json:"t"`
	At     map[string][3]int64 `json:"p"`
}

func encodeFeedPosition(tenant string, p feedPosition) string {
	c := feedCursor{Tenant: queryDigest("feed\x00" + tenant), At: make(map[string][3]int64, len(p))}
	for shard, at := range p {
		c.At[shard] = [3]int64{at.n, at.k, at.c}
	}
	b, _ := json.Marshal(c)
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
	p := make(feedPosition, len(c.At))
	for shard, at := range c.At {
		// at[2] (the count behind) only feeds the lag; feed items written before items carried
		// counts make it negative, and such a position still reads.
		if !strings.HasPrefix(shard, "shardId-") || at[0] < 0 || at[1] < 0 {
			return nil, ErrBadCursor
		}
		p[shard] = shardPosition{at[0], at[1], at[2]}
	}
	return p, nil
}

// AllTypeEvents reads every event of one type of a tenant from its feed, in commit order.
func (s *Store) AllTypeEvents(ctx context.Context, tenant string, t event.Type) ([]StoredEvent, error) {
	var all []StoredEvent
	q := FeedQuery{Types: []event.Type{t}, Limit: MaxFeedLimit}
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
