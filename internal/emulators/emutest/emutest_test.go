package emutest_test

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
)

func TestMain(m *testing.M) { emutest.Main(m) }

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_.-]{3,128}$`)
	a, b := emutest.UniqueName(t), emutest.UniqueName(t)
	if a == b {
		t.Errorf("UniqueName returned %q twice", a)
	}
	t.Run("sub test/with spaces", func(t *testing.T) {
		if n := emutest.UniqueName(t); !valid.MatchString(n) {
			t.Errorf("UniqueName = %q, not a valid stream or table name", n)
		}
	})
}

func TestStreamPutGet(t *testing.T) {
	stack := emutest.Start(t)
	ctx := t.Context()
	stream := stack.CreateStream(t, 2)

	put, err := stack.Kinesis.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName:   aws.String(stream),
		PartitionKey: aws.String("acct-1"),
		Data:         []byte(`{"hello":"kinesis"}`),
	})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	it, err := stack.Kinesis.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName:        aws.String(stream),
		ShardId:           put.ShardId,
		ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	got, err := stack.Kinesis.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	if len(got.Records) != 1 {
		t.Fatalf("GetRecords returned %d records, want 1", len(got.Records))
	}
	r := got.Records[0]
	if !bytes.Equal(r.Data, []byte(`{"hello":"kinesis"}`)) || aws.ToString(r.PartitionKey) != "acct-1" ||
		aws.ToString(r.SequenceNumber) != aws.ToString(put.SequenceNumber) {
		t.Errorf("record = %q key %q seq %q, want what was put (seq %q)",
			r.Data, aws.ToString(r.PartitionKey), aws.ToString(r.SequenceNumber), aws.ToString(put.SequenceNumber))
	}
}

// tableWithGSI is a pk/sk table with one global secondary index, GSI1.
func tableWithGSI(name string) *dynamodb.CreateTableInput {
	str := ddbtypes.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: str},
			{AttributeName: aws.String("sk"), AttributeType: str},
			{AttributeName: aws.String("gsi1pk"), AttributeType: str},
			{AttributeName: aws.String("gsi1sk"), AttributeType: str},
		},
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName: aws.String("GSI1"),
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String("gsi1pk"), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String("gsi1sk"), KeyType: ddbtypes.KeyTypeRange},
			},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}},
	}
}

// putNew is a transactional put that fails if the item exists.
func putNew(table, pk, gsi1sk string) ddbtypes.TransactWriteItem {
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	return ddbtypes.TransactWriteItem{Put: &ddbtypes.Put{
		TableName: aws.String(table),
		Item: map[string]ddbtypes.AttributeValue{
			"pk": s(pk), "sk": s("EVENT"), "gsi1pk": s("ACC#t#a1"), "gsi1sk": s(gsi1sk),
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	}}
}

func TestTableTransaction(t *testing.T) {
	stack := emutest.Start(t)
	ctx := t.Context()
	table := stack.CreateTable(t, tableWithGSI)

	if _, err := stack.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []ddbtypes.TransactWriteItem{putNew(table, "EVT#t#1", "T#1"), putNew(table, "EVT#t#2", "T#2")},
	}); err != nil {
		t.Fatalf("first transaction: %v", err)
	}

	// The second transaction repeats EVT#t#1: the condition fails and EVT#t#3
	// must not be written either.
	_, err := stack.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []ddbtypes.TransactWriteItem{putNew(table, "EVT#t#3", "T#3"), putNew(table, "EVT#t#1", "T#1")},
	})
	var canceled *ddbtypes.TransactionCanceledException
	if !errors.As(err, &canceled) {
		t.Fatalf("second transaction: err = %v, want TransactionCanceledException", err)
	}
	if reasons := canceled.CancellationReasons; len(reasons) != 2 || aws.ToString(reasons[1].Code) != "ConditionalCheckFailed" {
		t.Errorf("cancellation reasons = %+v, want the second item's ConditionalCheckFailed", reasons)
	}

	q, err := stack.DynamoDB.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(table),
		IndexName:              aws.String("GSI1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": &ddbtypes.AttributeValueMemberS{Value: "ACC#t#a1"},
		},
		ScanIndexForward: aws.Bool(false),
	})
	if err != nil {
		t.Fatalf("Query GSI1: %v", err)
	}
	var got []string
	for _, item := range q.Items {
		got = append(got, item["pk"].(*ddbtypes.AttributeValueMemberS).Value)
	}
	if want := []string{"EVT#t#2", "EVT#t#1"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("GSI1 items newest first = %v, want %v", got, want)
	}
}
