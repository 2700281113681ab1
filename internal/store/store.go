package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/internal/parallel"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// API is the part of the DynamoDB client the store calls; *dynamodb.Client implements it.
type API interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Limits of DynamoDB's batch requests.
const (
	maxTransactActions = 100
	maxTransactBytes   = 3 << 20 // 4 MB is the limit; items are estimated, so keep a margin
	maxBatchGetKeys    = 100
	maxBatchWriteItems = 25
	maxAttempts        = 8 // for cancellations and unprocessed items the SDK does not retry
)

// Store persists events in one DynamoDB table. The zero value is not usable; use New.
type Store struct {
	db         API
	table      string
	registered sync.Map // registry entries (feed partitions, quarantine shards) this store wrote
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
}

var _ typefn.Store = (*Store)(nil)

// New returns a Store on table through db.
func New(db API, table string) *Store {
	return &Store{db: db, table: table, now: time.Now, sleep: sleepCtx}
}

// Table returns the table's name.
func (s *Store) Table() string { return s.table }

// Put writes events as the readers' layout has them (docs/design.md): per event one conditional
// PutItem of its item (attribute_not_exists, so nothing overwrites an earlier event), then its
// account's items — the timeline entry, or for a decision its decision item and the account's
// marker — with BatchWriteItem; those are idempotent puts of the same keys and content. An event
// found stored answers from the stored item: the same fingerprint and sequence number is this
// very record again (a retry after a failure): its account items are written again and it counts
// as stored; the same fingerprint from another record is a duplicate; another fingerprint a
// conflict. Accounts are written in parallel, up to MaxConcurrentAccounts at once, each account's
// events in order. See typefn.Store for the contract.
func (s *Store) Put(ctx context.Context, writes []typefn.Write) []typefn.PutResult {
	results := make([]typefn.PutResult, len(writes))
	for i := range results {
		// Until a write says otherwise: nothing missed counts as stored.
		results[i] = typefn.PutResult{Outcome: typefn.OutcomeFailed, Err: errNotWritten}
	}
	items := make([]map[string]types.AttributeValue, len(writes))
	for i := range writes {
		item, err := s.eventItem(&writes[i], "")
		if err != nil {
			// Cannot happen for a validated event; every write fails, so all are retried, not lost.
			err = fmt.Errorf("encode event %s: %w", writes[i].Event.ID, err)
			for j := range results {
				results[j].Err = err
			}
			return results
		}
		items[i] = item
	}
	stored, err := s.storedEvents(ctx, writes)
	if err != nil {
		for j := range results {
			results[j].Err = err
		}
		return results
	}
	accounts := accountsInOrder(writes)
	parallel.Do(len(accounts), MaxConcurrentAccounts, func(a int) {
		for k, i := range accounts[a] {
			if err := s.putEvent(ctx, &writes[i], items[i], stored, &results[i]); err != nil {
				// The account's later events are not applied ahead of an earlier one that failed.
				failAll(results, accounts[a][k:], err)
				return
			}
		}
	})
	s.putAccountItems(ctx, writes, results, accounts)
	return results
}

// errNotWritten is the error of a write Put has not written.
var errNotWritten = errors.New("not written")

// MaxConcurrentAccounts bounds the accounts one Put writes at once.
const MaxConcurrentAccounts = 16

// accountsInOrder groups write indexes by account, in the order accounts first appear, each
// account's writes in order.
func accountsInOrder(writes []typefn.Write) [][]int {
	var order []typefn.AccountKey
	groups := map[typefn.AccountKey][]int{}
	for i := range writes {
		k := typefn.KeyOf(writes[i].Event)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	out := make([][]int, len(order))
	for a, k := range order {
		out[a] = groups[k]
	}
	return out
}

// storedEvent is what Put needs of an event item already stored.
type storedEvent struct{ fingerprint, sequenceNumber, storedAt string }

// classify says what a write is, given the event item stored under its id.
func classify(w *typefn.Write, old storedEvent) typefn.PutResult {
	switch {
	case old.fingerprint != w.Fingerprint:
		return typefn.PutResult{Outcome: typefn.OutcomeConflict}
	case w.SequenceNumber != "" && old.sequenceNumber == w.SequenceNumber:
		// This very record again: its account items are written again, and the router looks for
		// it in the feed from when it was stored.
		at, err := time.Parse(time.RFC3339Nano, old.storedAt)
		if err != nil {
			at = time.Unix(0, 0)
		}
		return typefn.PutResult{Outcome: typefn.OutcomeStored, StoredAt: at}
	default:
		return typefn.PutResult{Outcome: typefn.OutcomeDuplicate}
	}
}

// putEvent writes one event's item, unless the look-up found it stored, and sets its outcome. It
// returns a transient error.
func (s *Store) putEvent(ctx context.Context, w *typefn.Write, item map[string]types.AttributeValue, stored map[string]storedEvent, res *typefn.PutResult) error {
	if old, ok := stored[w.Event.Tenant+"\x00"+w.Event.ID]; ok {
		*res = classify(w, old)
		return nil
	}
	// storedAt is when the write is sent, not when Put began: the account may have waited.
	item["storedAt"] = &types.AttributeValueMemberS{Value: s.now().UTC().Format(time.RFC3339Nano)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		*res = typefn.PutResult{Outcome: typefn.OutcomeStored}
	case errors.As(err, &failed):
		*res = classify(w, storedEventOf(failed.Item))
	default:
		return fmt.Errorf("write event %s: %w", w.Event.ID, err)
	}
	return nil
}

// storedEventOf reads what Put needs of a stored event item.
func storedEventOf(item map[string]types.AttributeValue) storedEvent {
	old := storedEvent{fingerprint: fingerprintOf(item)}
	if v, ok := item["sequenceNumber"].(*types.AttributeValueMemberS); ok {
		old.sequenceNumber = v.Value
	}
	if v, ok := item["storedAt"].(*types.AttributeValueMemberS); ok {
		old.storedAt = v.Value
	}
	return old
}

// putAccountItems writes the account items of the events stored, 25 per BatchWriteItem. A write
// whose account items failed fails, with every later write of its account, so that the stream
// sends them again and their items are written then.
func (s *Store) putAccountItems(ctx context.Context, writes []typefn.Write, results []typefn.PutResult, accounts [][]int) {
	var items []map[string]types.AttributeValue
	var owners [][]int     // the writes each item is for: an account's marker serves all its decisions
	at := map[string]int{} // item key → index in items: a batch write may not name a key twice
	for i := range writes {
		if results[i].Outcome != typefn.OutcomeStored {
			continue
		}
		for _, item := range accountItems(writes[i].Event, writes[i].Change) {
			k := item[attrPK].(*types.AttributeValueMemberS).Value + "\x00" + item[attrSK].(*types.AttributeValueMemberS).Value
			if j, ok := at[k]; ok {
				owners[j] = append(owners[j], i)
				continue
			}
			at[k] = len(items)
			items, owners = append(items, item), append(owners, []int{i})
		}
	}
	failed := map[int]error{}
	for start := 0; start < len(items); start += maxBatchWriteItems {
		end := min(start+maxBatchWriteItems, len(items))
		if err := s.batchPut(ctx, items[start:end]); err != nil {
			for _, group := range owners[start:end] {
				for _, i := range group {
					failed[i] = fmt.Errorf("write account items of event %s: %w", writes[i].Event.ID, err)
				}
			}
		}
	}
	if len(failed) == 0 {
		return
	}
	for _, group := range accounts {
		for k, i := range group {
			if err, ok := failed[i]; ok {
				failAll(results, group[k:], err)
				break
			}
		}
	}
}

// getItems reads items by key with BatchGetItem calls of up to 100 keys (strongly consistent when
// consistent is set; only the attributes of projection, when given), reading again the keys
// DynamoDB leaves unprocessed: the SDK's retryer retries failed calls, not unprocessed keys.
func (s *Store) getItems(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool, projection string) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += maxBatchGetKeys {
		ka := types.KeysAndAttributes{Keys: keys[start:min(start+maxBatchGetKeys, len(keys))], ConsistentRead: aws.Bool(consistent)}
		if projection != "" {
			ka.ProjectionExpression = aws.String(projection)
		}
		pending := map[string]types.KeysAndAttributes{s.table: ka}
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > maxAttempts {
				return nil, fmt.Errorf("read %d items: keys still unprocessed after %d attempts", len(ka.Keys), maxAttempts)
			}
			if attempt > 1 {
				if err := s.sleep(ctx, backoff(attempt-1)); err != nil {
					return nil, err
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("read %d items: %w", len(ka.Keys), err)
			}
			items = append(items, out.Responses[s.table]...)
			pending = out.UnprocessedKeys
		}
	}
	return items, nil
}

// storedEvents reads, with eventually consistent BatchGetItem calls of up to 100 keys, which of
// the writes' ids are stored already, so that duplicates cost no write. It is an optimisation
// only: an id it misses (written a moment ago, or a key left unprocessed) is still caught by the
// write's condition.
func (s *Store) storedEvents(ctx context.Context, writes []typefn.Write) (map[string]storedEvent, error) {
	var keys []map[string]types.AttributeValue
	seen := make(map[string]bool, len(writes))
	for i := range writes {
		pk := eventPK(writes[i].Event.Tenant, writes[i].Event.ID)
		if !seen[pk] {
			seen[pk] = true
			keys = append(keys, key(pk, skEvent))
		}
	}
	stored := make(map[string]storedEvent, len(keys))
	for start := 0; start < len(keys); start += maxBatchGetKeys {
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: {
			Keys: keys[start:min(start+maxBatchGetKeys, len(keys))], ProjectionExpression: aws.String("tenant, id, fingerprint, sequenceNumber, storedAt"),
		}}})
		if err != nil {
			return nil, fmt.Errorf("look up %d event ids: %w", len(keys), err)
		}
		for _, item := range out.Responses[s.table] {
			t, _ := item["tenant"].(*types.AttributeValueMemberS)
			id, _ := item["id"].(*types.AttributeValueMemberS)
			if t != nil && id != nil {
				stored[t.Value+"\x00"+id.Value] = storedEventOf(item)
			}
		}
	}
	return stored, nil
}

// stringAttr is an item's string attribute, or "" when it has none.
func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// numberAttr is an item's whole-number attribute, or 0 when it has none.
func numberAttr(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// failAll marks the writes at indexes as failed with err, but for those already known to be
// duplicates or conflicts.
func failAll(results []typefn.PutResult, indexes []int, err error) []typefn.PutResult {
	for _, i := range indexes {
		if o := results[i].Outcome; o != typefn.OutcomeDuplicate && o != typefn.OutcomeConflict {
			results[i] = typefn.PutResult{Outcome: typefn.OutcomeFailed, Err: err}
		}
	}
	return results
}

// backoff is the wait before attempt+1: exponential from 25 ms, capped at 1 s.
func backoff(attempt int) time.Duration {
	d := 25 * time.Millisecond << min(attempt-1, 6)
	return min(d, time.Second)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
