package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/internal/account"
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
	db    API
	table string
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

var _ typefn.Store = (*Store)(nil)

// New returns a Store on table through db.
func New(db API, table string) *Store {
	return &Store{db: db, table: table, now: time.Now, sleep: sleepCtx}
}

// Table returns the table's name.
func (s *Store) Table() string { return s.table }

// Put writes events with TransactWriteItems of up to 100 actions: a conditional Put per event
// (attribute_not_exists, so nothing overwrites an earlier event) and one Update per account
// adding the chunk's changes to its sets. Chunks that share no account are independent, and up
// to MaxConcurrentTransactions of them are written at once; an account's chunks are written in
// order. See typefn.Store for the contract.
func (s *Store) Put(ctx context.Context, writes []typefn.Write) []typefn.PutResult {
	results := make([]typefn.PutResult, len(writes))
	for i := range results {
		// Until a transaction says otherwise: nothing the plan might miss counts as stored.
		results[i] = typefn.PutResult{Outcome: typefn.OutcomeFailed, Err: errNotWritten}
	}
	items := make([]map[string]types.AttributeValue, len(writes))
	sizes := make([]int, len(writes))
	storedAt := s.now().UTC().Format(time.RFC3339Nano)
	for i := range writes {
		item, err := s.eventItem(&writes[i], storedAt)
		if err != nil {
			// Cannot happen for a validated event; every write fails, so all are retried, not lost.
			err = fmt.Errorf("encode event %s: %w", writes[i].Event.ID, err)
			for j := range results {
				results[j].Err = err
			}
			return results
		}
		items[i], sizes[i] = item, itemSize(item)
	}
	lanes := planLanes(writes, sizes)
	parallel.Do(len(lanes), MaxConcurrentTransactions, func(l int) {
		for c, chunk := range lanes[l] {
			if err := s.putChunk(ctx, writes, items, results, chunk); err != nil {
				// The account's later events are not applied ahead of an earlier one that failed.
				for _, rest := range lanes[l][c:] {
					failAll(results, rest, err)
				}
				return
			}
		}
	})
	return results
}

// errNotWritten is the error of a write no transaction of Put has written.
var errNotWritten = errors.New("not written")

// MaxConcurrentTransactions bounds the transactions one Put has in flight at once.
const MaxConcurrentTransactions = 4

// planLanes packs the writes into transactions (chunks of write indexes) within DynamoDB's limits,
// and the chunks into lanes: lanes share no account, so they can be written at the same time,
// while the chunks of one lane must be written in order. Each account's writes stay together and
// in order: an account that fits one transaction goes into the first chunk with room for it (or
// a new one); an account with more writes than a transaction takes gets a lane of its own, of
// consecutive chunks, which no other account joins.
func planLanes(writes []typefn.Write, sizes []int) [][][]int {
	var order []typefn.AccountKey
	groups := map[typefn.AccountKey][]int{}
	for i := range writes {
		k := typefn.KeyOf(writes[i].Event)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	p := &planner{writes: writes, sizes: sizes}
	for _, k := range order {
		p.addAccount(groups[k])
	}
	lanes := make([][][]int, p.lanes)
	for _, c := range p.chunks {
		lanes[c.lane] = append(lanes[c.lane], c.writes)
	}
	return lanes
}

// planner is planLanes' state: the chunks so far, in the order they were opened.
type planner struct {
	writes []typefn.Write
	sizes  []int
	chunks []*plannedChunk
	lanes  int
}

// plannedChunk is one transaction of the plan.
type plannedChunk struct {
	lane           int
	writes         []int
	actions, bytes int
	spanning       bool // of a lane of several chunks: other accounts stay out, so its failure holds back no one else
}

// open starts a chunk in lane.
func (p *planner) open(lane int) *plannedChunk {
	c := &plannedChunk{lane: lane}
	p.chunks = append(p.chunks, c)
	return c
}

// addAccount adds one account's writes (in order) to the plan.
func (p *planner) addAccount(group []int) {
	actions, bytes := len(group), 0
	for _, i := range group {
		bytes += p.sizes[i]
		if p.writes[i].Change != nil {
			actions = len(group) + 1 // one Update of the account's state per transaction
		}
	}
	if actions <= maxTransactActions && bytes <= maxTransactBytes {
		for _, c := range p.chunks {
			if !c.spanning && c.actions+actions <= maxTransactActions && c.bytes+bytes <= maxTransactBytes {
				c.writes, c.actions, c.bytes = append(c.writes, group...), c.actions+actions, c.bytes+bytes
				return
			}
		}
		c := p.open(p.lanes)
		p.lanes++
		c.writes, c.actions, c.bytes = append(c.writes, group...), actions, bytes
		return
	}
	c := p.open(p.lanes)
	p.lanes++
	c.spanning = true
	updated := false // c holds the account's Update
	for _, i := range group {
		change := p.writes[i].Change != nil
		need := 1
		if change && !updated {
			need++
		}
		if len(c.writes) > 0 && (c.actions+need > maxTransactActions || c.bytes+p.sizes[i] > maxTransactBytes) {
			c, updated, need = p.open(c.lane), false, 1
			c.spanning = true
			if change {
				need++
			}
		}
		c.writes, c.actions, c.bytes = append(c.writes, i), c.actions+need, c.bytes+p.sizes[i]
		updated = updated || change
	}
}

// putChunk writes the writes of chunk (their indexes) in one transaction, retrying without the
// events that turn out to be stored already. It fills results for the chunk, or returns a
// transient error.
func (s *Store) putChunk(ctx context.Context, writes []typefn.Write, items []map[string]types.AttributeValue, results []typefn.PutResult, chunk []int) error {
	stored, err := s.storedFingerprints(ctx, writes, chunk)
	if err != nil {
		return err
	}
	pending := make([]int, 0, len(chunk))
	for _, i := range chunk {
		switch fp, ok := stored[writes[i].Event.Tenant+"\x00"+writes[i].Event.ID]; {
		case !ok:
			pending = append(pending, i)
		case fp == writes[i].Fingerprint:
			results[i].Outcome = typefn.OutcomeDuplicate
		default:
			results[i].Outcome = typefn.OutcomeConflict
		}
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		// storedAt is when the transaction is sent, not when Put began: the chunk may have
		// waited for its lane, for a slot, for the id look-up or for a backoff.
		storedAt := &types.AttributeValueMemberS{Value: s.now().UTC().Format(time.RFC3339Nano)}
		for _, i := range pending {
			items[i]["storedAt"] = storedAt
		}
		actions, owners := s.transaction(writes, items, pending)
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
		if err == nil {
			for _, i := range pending {
				results[i].Outcome = typefn.OutcomeStored
			}
			return nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return fmt.Errorf("write %d events: %w", len(pending), err)
		}
		settled := map[int]bool{}
		transient := ""
		for a, reason := range canceled.CancellationReasons {
			code := aws.ToString(reason.Code)
			switch {
			case code == "ConditionalCheckFailed" && owners[a] >= 0:
				i := owners[a]
				settled[i] = true
				results[i].Outcome = typefn.OutcomeConflict
				if fingerprintOf(reason.Item) == writes[i].Fingerprint {
					results[i].Outcome = typefn.OutcomeDuplicate
				}
			case code != "" && code != "None" && code != "ConditionalCheckFailed":
				transient = code
			}
		}
		if len(settled) == 0 {
			if transient == "" || attempt >= maxAttempts {
				return fmt.Errorf("write %d events: transaction canceled (%s) after %d attempts: %w", len(pending), transient, attempt, err)
			}
			if err := s.sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("write %d events: %w", len(pending), err)
			}
			continue
		}
		kept := pending[:0]
		for _, i := range pending {
			if !settled[i] {
				kept = append(kept, i)
			}
		}
		pending = kept
	}
	return nil
}

// storedFingerprints reads, with one eventually consistent BatchGetItem, which of the writes' ids
// are stored already and with which fingerprint, so that duplicates do not cancel (and cost) a
// whole transaction. It is an optimisation only: an id it misses (written a moment ago, or a key
// left unprocessed) is still caught by the transaction's condition.
func (s *Store) storedFingerprints(ctx context.Context, writes []typefn.Write, chunk []int) (map[string]string, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(chunk))
	seen := make(map[string]bool, len(chunk))
	for _, i := range chunk {
		pk := eventPK(writes[i].Event.Tenant, writes[i].Event.ID)
		if !seen[pk] {
			seen[pk] = true
			keys = append(keys, key(pk, skEvent))
		}
	}
	out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: {
		Keys: keys, ProjectionExpression: aws.String("tenant, id, fingerprint"),
	}}})
	if err != nil {
		return nil, fmt.Errorf("look up %d event ids: %w", len(keys), err)
	}
	stored := make(map[string]string, len(out.Responses[s.table]))
	for _, item := range out.Responses[s.table] {
		t, _ := item["tenant"].(*types.AttributeValueMemberS)
		id, _ := item["id"].(*types.AttributeValueMemberS)
		if t != nil && id != nil {
			stored[t.Value+"\x00"+id.Value] = fingerprintOf(item)
		}
	}
	return stored, nil
}

// transaction builds the actions for the pending writes. owners[a] is the write index of action a,
// or -1 for an account update.
func (s *Store) transaction(writes []typefn.Write, items []map[string]types.AttributeValue, pending []int) ([]types.TransactWriteItem, []int) {
	actions := make([]types.TransactWriteItem, 0, len(pending)+8)
	owners := make([]int, 0, len(pending)+8)
	changes := map[typefn.AccountKey]*account.State{}
	var order []typefn.AccountKey
	for _, i := range pending {
		actions = append(actions, types.TransactWriteItem{Put: &types.Put{
			TableName:                           aws.String(s.table),
			Item:                                items[i],
			ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
		owners = append(owners, i)
		if c := writes[i].Change; c != nil {
			k := typefn.KeyOf(writes[i].Event)
			if changes[k] == nil {
				changes[k] = &account.State{}
				order = append(order, k)
			}
			changes[k].Apply(c)
		}
	}
	for _, k := range order {
		actions = append(actions, types.TransactWriteItem{Update: accountUpdate(s.table, k, changes[k])})
		owners = append(owners, -1)
	}
	return actions, owners
}

// accountUpdate adds a state's entries to the account's sets. ADD on a string set is a union:
// commutative and idempotent, so order and repeats do not matter.
func accountUpdate(table string, k typefn.AccountKey, add *account.State) *types.Update {
	expr := "SET tenant = :tenant, accountId = :account ADD"
	values := map[string]types.AttributeValue{
		":tenant":  &types.AttributeValueMemberS{Value: k.Tenant},
		":account": &types.AttributeValueMemberS{Value: k.Account},
	}
	sep := " "
	if len(add.FreezeLog) > 0 {
		expr += sep + "freezeLog :f"
		values[":f"] = &types.AttributeValueMemberSS{Value: add.FreezeLog}
		sep = ", "
	}
	if len(add.MonitorLevels) > 0 {
		expr += sep + "monitorLevels :m"
		values[":m"] = &types.AttributeValueMemberSS{Value: add.MonitorLevels}
	}
	return &types.Update{
		TableName:                 aws.String(table),
		Key:                       key(accountPK(k.Tenant, k.Account), skState),
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeValues: values,
	}
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
