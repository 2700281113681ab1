package esm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoCheckpoints keeps checkpoints in a DynamoDB table made by
// CheckpointTableInput: one item per mapping and shard, key pk =
// "<mapping id>#<shard id>", the checkpoint in attribute sequenceNumber.
// Reads are strongly consistent.
type DynamoCheckpoints struct {
	client DynamoDBAPI
	table  string
}

var (
	_ Checkpoints = (*DynamoCheckpoints)(nil)
	_ Checkpoints = (*MemoryCheckpoints)(nil)
)

// NewDynamoCheckpoints returns checkpoints kept in table.
func NewDynamoCheckpoints(client DynamoDBAPI, table string) *DynamoCheckpoints {
	return &DynamoCheckpoints{client: client, table: table}
}

// checkpointKey is the pk of a shard's checkpoint item.
func checkpointKey(mappingID, shardID string) string { return mappingID + "#" + shardID }

// Get returns the shard's checkpoint, or ErrNoCheckpoint.
func (c *DynamoCheckpoints) Get(ctx context.Context, mappingID, shardID string) (string, error) {
	out, err := c.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(c.table),
		Key:            map[string]ddbtypes.AttributeValue{"pk": str(checkpointKey(mappingID, shardID))},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("get checkpoint %s %s: %w", mappingID, shardID, err)
	}
	v, ok := out.Item["sequenceNumber"].(*ddbtypes.AttributeValueMemberS)
	if !ok || v.Value == "" {
		return "", ErrNoCheckpoint
	}
	return v.Value, nil
}

// Put stores the shard's checkpoint.
func (c *DynamoCheckpoints) Put(ctx context.Context, mappingID, shardID, sequenceNumber string) error {
	_, err := c.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(c.table),
		Item: map[string]ddbtypes.AttributeValue{
			"pk":             str(checkpointKey(mappingID, shardID)),
			"mappingId":      str(mappingID),
			"shardId":        str(shardID),
			"sequenceNumber": str(sequenceNumber),
			"updatedAt":      str(formatTime(time.Now())),
		},
	})
	if err != nil {
		return fmt.Errorf("put checkpoint %s %s: %w", mappingID, shardID, err)
	}
	return nil
}

// CheckpointTableInput is the table DynamoCheckpoints needs, named name:
// string key pk (HASH), on demand.
func CheckpointTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
		},
	}
}

// CreateCheckpointTable creates the checkpoint table name unless it exists,
// and waits until it is ACTIVE.
func CreateCheckpointTable(ctx context.Context, client DynamoDBAPI, name string) error {
	return createTable(ctx, client, CheckpointTableInput(name))
}

// createTable creates a table unless it exists and waits until it is ACTIVE.
func createTable(ctx context.Context, client DynamoDBAPI, in *dynamodb.CreateTableInput) error {
	name := aws.ToString(in.TableName)
	_, err := client.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 500*time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	return nil
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

// MemoryCheckpoints keeps checkpoints in memory, for tests and for runs that
// need not survive a restart. The zero value is ready to use.
type MemoryCheckpoints struct {
	mu sync.Mutex
	m  map[string]string
}

// Get returns the shard's checkpoint, or ErrNoCheckpoint.
func (c *MemoryCheckpoints) Get(_ context.Context, mappingID, shardID string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[checkpointKey(mappingID, shardID)]; ok {
		return v, nil
	}
	return "", ErrNoCheckpoint
}

// Put stores the shard's checkpoint.
func (c *MemoryCheckpoints) Put(_ context.Context, mappingID, shardID, sequenceNumber string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[checkpointKey(mappingID, shardID)] = sequenceNumber
	return nil
}
