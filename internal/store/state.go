package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// stateItem is the stored form of an account's state.
type stateItem struct {
	Tenant  string `dynamodbav:"tenant"`
	Account string `dynamodbav:"accountId"`
	account.State
}

// States reads accounts' state with strongly consistent BatchGetItem calls of up to 100 keys,
// retrying unprocessed keys.
func (s *Store) States(ctx context.Context, keys []typefn.AccountKey) (map[typefn.AccountKey]account.State, error) {
	states := make(map[typefn.AccountKey]account.State, len(keys))
	for start := 0; start < len(keys); start += maxBatchGetKeys {
		batch := keys[start:min(start+maxBatchGetKeys, len(keys))]
		req := make([]map[string]types.AttributeValue, len(batch))
		for i, k := range batch {
			req[i] = key(accountPK(k.Tenant, k.Account), skState)
		}
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: req, ConsistentRead: aws.Bool(true)}}
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > maxAttempts {
				return nil, fmt.Errorf("read %d account states: keys still unprocessed after %d attempts", len(batch), maxAttempts)
			}
			if attempt > 1 {
				if err := s.sleep(ctx, backoff(attempt-1)); err != nil {
					return nil, err
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("read %d account states: %w", len(batch), err)
			}
			for _, item := range out.Responses[s.table] {
				var st stateItem
				if err := attributevalue.UnmarshalMap(item, &st); err != nil {
					return nil, fmt.Errorf("decode account state: %w", err)
				}
				states[typefn.AccountKey{Tenant: st.Tenant, Account: st.Account}] = st.State
			}
			pending = out.UnprocessedKeys
		}
	}
	return states, nil
}

// TransactionsSince queries the account index from since on, keeping transactions.
func (s *Store) TransactionsSince(ctx context.Context, k typefn.AccountKey, since time.Time) ([]typefn.StoredTransaction, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(IndexAccount),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND gsi1sk >= :since"),
		FilterExpression:       aws.String("#type = :txn"),
		ProjectionExpression:   aws.String("id, #time, #data.direction, #data.channel, blockedBy"),
		ExpressionAttributeNames: map[string]string{
			"#type": "type", "#time": "time", "#data": "data",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":    &types.AttributeValueMemberS{Value: accountPK(k.Tenant, k.Account)},
			":since": &types.AttributeValueMemberS{Value: event.TimeKey(since)},
			":txn":   &types.AttributeValueMemberS{Value: string(event.TypeTransaction)},
		},
	}
	var txns []typefn.StoredTransaction
	pages := dynamodb.NewQueryPaginator(s.db, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query transactions of account %s: %w", k.Account, err)
		}
		for _, item := range page.Items {
			var row struct {
				ID        string `dynamodbav:"id"`
				Time      string `dynamodbav:"time"`
				BlockedBy string `dynamodbav:"blockedBy"`
				Data      struct {
					Direction string `dynamodbav:"direction"`
					Channel   string `dynamodbav:"channel"`
				} `dynamodbav:"data"`
			}
			if err := attributevalue.UnmarshalMap(item, &row); err != nil {
				return nil, fmt.Errorf("decode transaction of account %s: %w", k.Account, err)
			}
			t, err := time.Parse(time.RFC3339Nano, row.Time)
			if err != nil {
				return nil, fmt.Errorf("transaction %s has time %q: %w", row.ID, row.Time, err)
			}
			txns = append(txns, typefn.StoredTransaction{Key: k, ID: row.ID, Time: t,
				Direction: row.Data.Direction, Channel: row.Data.Channel, BlockedBy: row.BlockedBy})
		}
	}
	return txns, nil
}

// SetFlags sets or clears blockedBy on stored transactions, up to 100 per transaction. A flag
// whose transaction is no longer stored (its condition fails) is dropped and the others written.
func (s *Store) SetFlags(ctx context.Context, flags []typefn.Flag) error {
	for start := 0; start < len(flags); start += maxTransactActions {
		if err := s.setFlags(ctx, flags[start:min(start+maxTransactActions, len(flags))]); err != nil {
			return err
		}
	}
	return nil
}

// setFlags writes up to 100 flags in one transaction. After a cancellation it drops the flags
// whose transaction is gone (ConditionalCheckFailed) and, when some reason was transient, waits
// before trying the rest again; only those waits count as attempts. A cancellation without
// per-flag reasons halves the batch, until a flag alone is checked against the table.
func (s *Store) setFlags(ctx context.Context, batch []typefn.Flag) error {
	for attempt := 1; len(batch) > 0; {
		actions := make([]types.TransactWriteItem, len(batch))
		for i, f := range batch {
			u := &types.Update{
				TableName:           aws.String(s.table),
				Key:                 key(eventPK(f.Tenant, f.ID), skEvent),
				ConditionExpression: aws.String("attribute_exists(pk)"),
				UpdateExpression:    aws.String("REMOVE blockedBy"),
			}
			if f.BlockedBy != "" {
				u.UpdateExpression = aws.String("SET blockedBy = :by")
				u.ExpressionAttributeValues = map[string]types.AttributeValue{":by": &types.AttributeValueMemberS{Value: f.BlockedBy}}
			}
			actions[i] = types.TransactWriteItem{Update: u}
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
		if err == nil {
			return nil
		}
		var canceled *types.TransactionCanceledException
		if !errors.As(err, &canceled) {
			return fmt.Errorf("flag %d transactions: %w", len(batch), err)
		}
		reasons := canceled.CancellationReasons
		if len(reasons) != len(batch) && len(batch) > 1 {
			half := len(batch) / 2
			return errors.Join(s.setFlags(ctx, batch[:half]), s.setFlags(ctx, batch[half:]))
		}
		if len(reasons) != len(batch) { // one flag, no reason: is its transaction still there?
			out, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
				Key: key(eventPK(batch[0].Tenant, batch[0].ID), skEvent), ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("pk")})
			if gerr == nil && out.Item == nil {
				return nil
			}
		}
		kept, codes := batch, []string{"no reason given"}
		if len(reasons) == len(batch) {
			kept, codes = nil, nil
			for i, reason := range reasons {
				switch code := aws.ToString(reason.Code); code {
				case "ConditionalCheckFailed":
				case "", "None":
					kept = append(kept, batch[i])
				default:
					kept, codes = append(kept, batch[i]), append(codes, code)
				}
			}
		}
		if len(codes) > 0 { // something transient: wait, and count the attempt
			if attempt >= maxAttempts {
				return fmt.Errorf("flag %d transactions: canceled (%s) after %d attempts: %w", len(kept), strings.Join(slices.Compact(slices.Sorted(slices.Values(codes))), ", "), attempt, err)
			}
			if err := s.sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("flag %d transactions: %w", len(kept), err)
			}
			attempt++
		}
		batch = kept
	}
	return nil
}
