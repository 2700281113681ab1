package store

import (
	"cmp"
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
	"github.com/go-event-processor/go-event-processor/internal/parallel"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// States reads accounts' state, strongly consistent: their markers with BatchGetItem calls of up
// to 100 keys, then, for the accounts that have decisions, their decision items (a query each,
// up to maxConcurrentStateQueries at once). Accounts without decisions are absent from the map.
func (s *Store) States(ctx context.Context, keys []typefn.AccountKey) (map[typefn.AccountKey]account.State, error) {
	req := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		req[i] = key(accountPK(k.Tenant, k.Account), skMarker)
	}
	markers, err := s.getItems(ctx, req, true, "tenant, accountId")
	if err != nil {
		return nil, fmt.Errorf("read %d account markers: %w", len(keys), err)
	}
	var decided []typefn.AccountKey
	for _, item := range markers {
		var k struct {
			Tenant  string `dynamodbav:"tenant"`
			Account string `dynamodbav:"accountId"`
		}
		if err := attributevalue.UnmarshalMap(item, &k); err != nil {
			return nil, fmt.Errorf("decode account marker: %w", err)
		}
		decided = append(decided, typefn.AccountKey{Tenant: k.Tenant, Account: k.Account})
	}
	slices.SortFunc(decided, func(a, b typefn.AccountKey) int {
		return cmp.Or(strings.Compare(a.Tenant, b.Tenant), strings.Compare(a.Account, b.Account))
	})
	got := make([]account.State, len(decided))
	errs := make([]error, len(decided))
	parallel.Do(len(decided), maxConcurrentStateQueries, func(i int) { got[i], errs[i] = s.decisions(ctx, decided[i]) })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	states := make(map[typefn.AccountKey]account.State, len(decided))
	for i, k := range decided {
		states[k] = got[i]
	}
	return states, nil
}

// maxConcurrentStateQueries bounds the decision queries of one States call in flight at once.
const maxConcurrentStateQueries = 8

// decisions reads an account's decision items, strongly consistent, into its state.
func (s *Store) decisions(ctx context.Context, k typefn.AccountKey) (account.State, error) {
	var st account.State
	pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :d)"),
		ProjectionExpression:   aws.String("freeze, monitor"),
		ConsistentRead:         aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: accountPK(k.Tenant, k.Account)},
			":d":  &types.AttributeValueMemberS{Value: skDecisionPrefix},
		},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return st, fmt.Errorf("query decisions of account %s: %w", k.Account, err)
		}
		for _, item := range page.Items {
			var c account.Change
			if v, ok := item["freeze"].(*types.AttributeValueMemberS); ok {
				c.Freeze = v.Value
			}
			if v, ok := item["monitor"].(*types.AttributeValueMemberS); ok {
				c.Monitor = v.Value
			}
			st.Apply(&c)
		}
	}
	return st, nil
}

// TransactionsSince lists an account's stored transactions from since on: their timeline entries
// by a strongly consistent query of the account's partition, then their items (for direction,
// channel and flag) with strongly consistent BatchGetItem calls.
func (s *Store) TransactionsSince(ctx context.Context, k typefn.AccountKey, since time.Time) ([]typefn.StoredTransaction, error) {
	var ids []string
	pages := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		FilterExpression:         aws.String("#type = :txn"),
		ProjectionExpression:     aws.String("id"),
		ConsistentRead:           aws.Bool(true),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   &types.AttributeValueMemberS{Value: accountPK(k.Tenant, k.Account)},
			":from": &types.AttributeValueMemberS{Value: skTimelinePrefix + event.TimeKey(since)},
			":to":   &types.AttributeValueMemberS{Value: skTimelinePrefix + "~"},
			":txn":  &types.AttributeValueMemberS{Value: string(event.TypeTransaction)},
		},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query transactions of account %s: %w", k.Account, err)
		}
		for _, item := range page.Items {
			if id, ok := item["id"].(*types.AttributeValueMemberS); ok {
				ids = append(ids, id.Value)
			}
		}
	}
	events, err := s.eventsByID(ctx, k.Tenant, ids, true)
	if err != nil {
		return nil, fmt.Errorf("read transactions of account %s: %w", k.Account, err)
	}
	txns := make([]typefn.StoredTransaction, 0, len(events))
	for _, e := range events {
		t, err := time.Parse(time.RFC3339Nano, e.Time)
		if err != nil {
			return nil, fmt.Errorf("transaction %s has time %q: %w", e.ID, e.Time, err)
		}
		direction, _ := e.Data["direction"].(string)
		channel, _ := e.Data["channel"].(string)
		txns = append(txns, typefn.StoredTransaction{Key: k, ID: e.ID, Time: t, Direction: direction, Channel: channel, BlockedBy: e.BlockedBy})
	}
	return txns, nil
}

// SetFlags sets or clears blockedBy on stored transactions, one UpdateItem each (1 WRU), up to
// maxConcurrentFlags at once. A flag whose transaction is no longer stored (its condition fails)
// is dropped; the SDK retries throttling, and any other failure is returned with the others
// written.
func (s *Store) SetFlags(ctx context.Context, flags []typefn.Flag) error {
	errs := make([]error, len(flags))
	parallel.Do(len(flags), maxConcurrentFlags, func(i int) {
		f := flags[i]
		u := &dynamodb.UpdateItemInput{
			TableName:           aws.String(s.table),
			Key:                 key(eventPK(f.Tenant, f.ID), skEvent),
			ConditionExpression: aws.String("attribute_exists(pk)"),
			UpdateExpression:    aws.String("REMOVE blockedBy"),
		}
		if f.BlockedBy != "" {
			u.UpdateExpression = aws.String("SET blockedBy = :by")
			u.ExpressionAttributeValues = map[string]types.AttributeValue{":by": &types.AttributeValueMemberS{Value: f.BlockedBy}}
		}
		_, err := s.db.UpdateItem(ctx, u)
		var gone *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &gone) {
			errs[i] = fmt.Errorf("flag transaction %s: %w", f.ID, err)
		}
	})
	return errors.Join(errs...)
}

// maxConcurrentFlags bounds the flags one SetFlags writes at once.
const maxConcurrentFlags = 8
