package esm

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// KinesisAPI is the part of the Kinesis API a mapping uses; *kinesis.Client
// satisfies it. Calls name the stream by StreamName, which kinesalite needs.
type KinesisAPI interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// LambdaAPI is the part of the Lambda API a mapping uses; *lambda.Client
// satisfies it.
type LambdaAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// DynamoDBAPI is the part of the DynamoDB API that DynamoCheckpoints,
// DynamoFailures and the table helpers use; *dynamodb.Client satisfies it.
type DynamoDBAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var (
	_ KinesisAPI  = (*kinesis.Client)(nil)
	_ LambdaAPI   = (*lambda.Client)(nil)
	_ DynamoDBAPI = (*dynamodb.Client)(nil)
)

// ErrNoCheckpoint is returned by Checkpoints.Get for a shard that has none.
var ErrNoCheckpoint = errors.New("no checkpoint")

// ShardEnd is the checkpoint of a closed shard whose records have all been
// processed: its child shards may be read.
const ShardEnd = "SHARD_END"

// Checkpoints stores, per mapping and shard, the sequence number of the last
// record processed (delivered successfully, or discarded after its OnFailure
// record was sent), or ShardEnd. A mapping writes a checkpoint after every
// batch that moves it and reads one when it starts reading a shard.
type Checkpoints interface {
	// Get returns the shard's checkpoint, or ErrNoCheckpoint.
	Get(ctx context.Context, mappingID, shardID string) (string, error)
	// Put stores the shard's checkpoint, replacing the previous one.
	Put(ctx context.Context, mappingID, shardID, sequenceNumber string) error
}

// FailureSink receives the OnFailure records of discarded batches (in AWS:
// the mapping's OnFailure destination, an SQS queue or SNS topic). The
// mapping retries Send until it succeeds, so it may be called more than once
// with the same record; only then are the records checkpointed.
type FailureSink interface {
	Send(ctx context.Context, mappingID string, rec OnFailureRecord) error
}

// FailureSinkFunc adapts a function to a FailureSink.
type FailureSinkFunc func(ctx context.Context, mappingID string, rec OnFailureRecord) error

// Send calls f.
func (f FailureSinkFunc) Send(ctx context.Context, mappingID string, rec OnFailureRecord) error {
	return f(ctx, mappingID, rec)
}
