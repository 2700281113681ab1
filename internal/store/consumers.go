package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/internal/bounded"
)

// Consumer is a named consumer of a tenant's feed: where its checkpoint stands and how far the
// feed has moved on since.
type Consumer struct {
	Name       string  `json:"name"`
	Position   string  `json:"position"`   // read on from here (GET /feed?after=)
	CreatedAt  string  `json:"createdAt"`  // RFC 3339
	MovedAt    string  `json:"movedAt"`    // when the checkpoint last moved
	LagEvents  int64   `json:"lagEvents"`  // stored events after the position, of every type
	LagSeconds float64 `json:"lagSeconds"` // how long ago the oldest of them was stored; 0 when none
}

// Checkpoint says where a consumer's checkpoint moves: to Position (a position a feed page
// returned), or, when Start is set, to a start. A checkpoint moves forward only, unless Reset.
type Checkpoint struct {
	Position string
	Start    *FeedStart
	Reset    bool
}

// Errors of Checkpoint.
var (
	// ErrCheckpointBehind: the position is behind the stored checkpoint, or beside it (ahead on
	// one shard and behind on another); nothing was written.
	ErrCheckpointBehind = errors.New("the checkpoint is ahead of this position: it moves forward only unless reset")
	// ErrConsumerExists: a start was given for a consumer that already has a checkpoint.
	ErrConsumerExists = errors.New("the consumer exists: a start moves it only with reset")
)

var consumerName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// CheckConsumerName says why name cannot name a consumer, or nil. Names of dots alone are
// refused: URL handling (clients, proxies) removes "." and ".." path segments.
func CheckConsumerName(name string) error {
	if !consumerName.MatchString(name) || strings.Trim(name, ".") == "" {
		return fmt.Errorf("a consumer name is 1 to 64 of A-Z a-z 0-9 . _ -, not dots alone, got %q", bounded.String(name, 80))
	}
	return nil
}

// storedConsumer is a consumer's item as read.
type storedConsumer struct {
	position           string
	createdAt, movedAt string
	version            int64
}

// consumerItem reads a consumer's item (strongly consistent); ok is false when it has none.
func (s *Store) consumerItem(ctx context.Context, tenant, name string) (storedConsumer, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(consumerPK(tenant, name), skConsumer), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return storedConsumer{}, false, fmt.Errorf("read consumer %s: %w", name, err)
	}
	if out.Item == nil {
		return storedConsumer{}, false, nil
	}
	return decodeConsumer(out.Item), true, nil
}

func decodeConsumer(item map[string]types.AttributeValue) storedConsumer {
	return storedConsumer{position: stringAttr(item, "position"), createdAt: stringAttr(item, "createdAt"),
		movedAt: stringAttr(item, "movedAt"), version: numberAttr(item, "version")}
}

// view is a consumer as its clients see it, with its lag against the partitions' tails.
func (s *Store) view(ctx context.Context, tenant, name string, c storedConsumer, tails map[string]storedFeedItem) (Consumer, error) {
	v := Consumer{Name: name, Position: c.position, CreatedAt: c.createdAt, MovedAt: c.movedAt}
	pos, err := decodeFeedPosition(tenant, c.position)
	if err != nil {
		return Consumer{}, fmt.Errorf("consumer %s holds a position that does not read: %w", name, err)
	}
	lag, err := s.feedLag(ctx, tenant, tails, pos)
	if err != nil {
		return Consumer{}, err
	}
	v.LagEvents = lag.Events
	if !lag.Oldest.IsZero() {
		v.LagSeconds = max(0, s.now().Sub(lag.Oldest).Seconds())
	}
	return v, nil
}

// viewNow is a consumer as its clients see it, against the partitions' tails read now.
func (s *Store) viewNow(ctx context.Context, tenant, name string, c storedConsumer) (Consumer, error) {
	tails, err := s.feedTails(ctx, tenant)
	if err != nil {
		return Consumer{}, err
	}
	return s.view(ctx, tenant, name, c, tails)
}

// Consumer returns a tenant's consumer by name, or ErrNotFound.
func (s *Store) Consumer(ctx context.Context, tenant, name string) (Consumer, error) {
	c, ok, err := s.consumerItem(ctx, tenant, name)
	if err != nil {
		return Consumer{}, err
	}
	if !ok {
		return Consumer{}, fmt.Errorf("consumer %s: %w", name, ErrNotFound)
	}
	return s.viewNow(ctx, tenant, name, c)
}

// Consumers lists a tenant's consumers by name.
func (s *Store) Consumers(ctx context.Context, tenant string) ([]Consumer, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(consumerRegistryPK(tenant), skConsumers), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read the consumers of %s: %w", tenant, err)
	}
	var names []string
	if ss, ok := out.Item["consumerNames"].(*types.AttributeValueMemberSS); ok {
		names = slices.Sorted(slices.Values(ss.Value))
	}
	keys := make([]map[string]types.AttributeValue, len(names))
	for i, name := range names {
		keys[i] = key(consumerPK(tenant, name), skConsumer)
	}
	items, err := s.getItems(ctx, keys, true, "")
	if err != nil {
		return nil, fmt.Errorf("read the consumers of %s: %w", tenant, err)
	}
	byName := map[string]storedConsumer{}
	for _, item := range items {
		if name := stringAttr(item, "name"); name != "" {
			byName[name] = decodeConsumer(item)
		}
	}
	tails, err := s.feedTails(ctx, tenant)
	if err != nil {
		return nil, err
	}
	list := []Consumer{}
	for _, name := range names {
		if c, ok := byName[name]; ok {
			v, err := s.view(ctx, tenant, name, c, tails)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	}
	return list, nil
}

// MoveCheckpoint moves a consumer's checkpoint, creating the consumer when it has none, and
// returns the consumer after the move. Without Reset the checkpoint moves forward only: a position
// behind it or beside it is ErrCheckpointBehind, a start for an existing consumer
// ErrConsumerExists, and the same position again changes nothing. A position of another tenant is
// ErrBadCursor. The write is conditional on the version read, so that two writers racing never
// move a checkpoint backwards.
func (s *Store) MoveCheckpoint(ctx context.Context, tenant, name string, to Checkpoint) (Consumer, error) {
	if err := CheckConsumerName(name); err != nil {
		return Consumer{}, err
	}
	var target feedPosition
	var err error
	if to.Start != nil {
		target, err = s.startPosition(ctx, tenant, *to.Start)
	} else {
		target, err = decodeFeedPosition(tenant, to.Position)
	}
	if err != nil {
		return Consumer{}, err
	}
	position := encodeFeedPosition(tenant, target)
	for attempt := 1; ; attempt++ {
		cur, exists, err := s.consumerItem(ctx, tenant, name)
		if err != nil {
			return Consumer{}, err
		}
		now := s.now().UTC().Format(time.RFC3339Nano)
		next := storedConsumer{position: position, createdAt: now, movedAt: now, version: 1}
		cond := "attribute_not_exists(pk)"
		values := map[string]types.AttributeValue(nil)
		if exists {
			if !to.Reset {
				if to.Start != nil {
					return Consumer{}, ErrConsumerExists
				}
				stored, err := decodeFeedPosition(tenant, cur.position)
				if err != nil {
					return Consumer{}, fmt.Errorf("consumer %s holds a position that does not read: %w", name, err)
				}
				if equalPositions(stored, target) {
					return s.viewNow(ctx, tenant, name, cur)
				}
				if !aheadOrEqual(target, stored) {
					return Consumer{}, ErrCheckpointBehind
				}
			}
			next.createdAt, next.version = cur.createdAt, cur.version+1
			cond = "version = :read"
			values = map[string]types.AttributeValue{":read": &types.AttributeValueMemberN{Value: strconv.FormatInt(cur.version, 10)}}
		} else if err := s.registerConsumer(ctx, tenant, name); err != nil {
			return Consumer{}, err
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table),
			Item: map[string]types.AttributeValue{
				attrPK: str(consumerPK(tenant, name)), attrSK: str(skConsumer),
				"tenant": str(tenant), "name": str(name), "position": str(next.position),
				"createdAt": str(next.createdAt), "movedAt": str(next.movedAt),
				"version": &types.AttributeValueMemberN{Value: strconv.FormatInt(next.version, 10)},
			},
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeValues: values,
		})
		var moved *types.ConditionalCheckFailedException
		switch {
		case err == nil:
			return s.viewNow(ctx, tenant, name, next)
		case errors.As(err, &moved) && attempt < maxAttempts:
			continue // another writer moved it (or this write's lost answer was retried): read again
		default:
			return Consumer{}, fmt.Errorf("move the checkpoint of consumer %s: %w", name, err)
		}
	}
}

// registerConsumer adds a name to the tenant's consumers.
func (s *Store) registerConsumer(ctx context.Context, tenant, name string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(consumerRegistryPK(tenant), skConsumers),
		UpdateExpression:          aws.String("ADD consumerNames :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberSS{Value: []string{name}}},
	})
	if err != nil {
		return fmt.Errorf("register consumer %s: %w", name, err)
	}
	return nil
}

// aheadOrEqual reports whether a is ahead of or at b on every partition (a partition a position
// does not name is at its start).
func aheadOrEqual(a, b feedPosition) bool {
	for shard, at := range b {
		if a[shard].before(at) {
			return false
		}
	}
	return true
}

func equalPositions(a, b feedPosition) bool { return aheadOrEqual(a, b) && aheadOrEqual(b, a) }
