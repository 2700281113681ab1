package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoFailures keeps OnFailure records in a DynamoDB table made by
// FailureTableInput, standing in locally for the SQS queue of the template's
// OnFailure destination: pk = mapping id, sk =
// "<timestamp>#<shard id>#<start sequence number>", the record's JSON in
// attribute record and its condition in attribute condition. Sending the same
// record twice stores it once.
type DynamoFailures struct {
	client DynamoDBAPI
	table  string
}

var _ FailureSink = (*DynamoFailures)(nil)

// NewDynamoFailures returns a FailureSink that stores records in table.
func NewDynamoFailures(client DynamoDBAPI, table string) *DynamoFailures {
	return &DynamoFailures{client: client, table: table}
}

// StoredFailure is an OnFailure record as DynamoFailures keeps it.
type StoredFailure struct {
	MappingID string
	SortKey   string
	JSON      string // the record as sent to the destination
	Record    OnFailureRecord
}

// Send stores rec under mappingID.
func (f *DynamoFailures) Send(ctx context.Context, mappingID string, rec OnFailureRecord) error {
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode OnFailure record: %w", err)
	}
	info := rec.KinesisBatchInfo
	_, err = f.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(f.table),
		Item: map[string]ddbtypes.AttributeValue{
			"pk":        str(mappingID),
			"sk":        str(rec.Timestamp + "#" + info.ShardID + "#" + info.StartSequenceNumber),
			"condition": str(rec.RequestContext.Condition),
			"record":    str(string(body)),
		},
	})
	if err != nil {
		return fmt.Errorf("store OnFailure record of %s %s %s: %w", mappingID, info.ShardID, info.StartSequenceNumber, err)
	}
	return nil
}

// List returns every stored record, by mapping id and then oldest first.
func (f *DynamoFailures) List(ctx context.Context) ([]StoredFailure, error) {
	var (
		out   []StoredFailure
		start map[string]ddbtypes.AttributeValue
	)
	for {
		page, err := f.client.Scan(ctx, &dynamodb.ScanInput{
			TableName:         aws.String(f.table),
			ExclusiveStartKey: start,
			ConsistentRead:    aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("list OnFailure records in %s: %w", f.table, err)
		}
		for _, item := range page.Items {
			s := StoredFailure{MappingID: attrString(item, "pk"), SortKey: attrString(item, "sk"), JSON: attrString(item, "record")}
			if err := json.Unmarshal([]byte(s.JSON), &s.Record); err != nil {
				return nil, fmt.Errorf("OnFailure record %s %s: %w", s.MappingID, s.SortKey, err)
			}
			out = append(out, s)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		start = page.LastEvaluatedKey
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MappingID != out[j].MappingID {
			return out[i].MappingID < out[j].MappingID
		}
		return out[i].SortKey < out[j].SortKey
	})
	return out, nil
}

// FailureTableInput is the table DynamoFailures needs, named name: string
// keys pk (HASH) and sk (RANGE), on demand.
func FailureTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
		},
	}
}

// CreateFailureTable creates the OnFailure table name unless it exists, and
// waits until it is ACTIVE.
func CreateFailureTable(ctx context.Context, client DynamoDBAPI, name string) error {
	return createTable(ctx, client, FailureTableInput(name))
}

func attrString(item map[string]ddbtypes.AttributeValue, name string) string {
	if v, ok := item[name].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Delete removes a stored record, once it has been redriven.
func (f *DynamoFailures) Delete(ctx context.Context, s StoredFailure) error {
	_, err := f.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(f.table),
		Key: map[string]ddbtypes.AttributeValue{"pk": str(s.MappingID), "sk": str(s.SortKey)}})
	if err != nil {
		return fmt.Errorf("delete OnFailure record %s: %w", s.SortKey, err)
	}
	return nil
}
