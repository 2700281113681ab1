package esm_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/go-event-processor/go-event-processor/internal/esm"
)

// flakyKinesis fails some calls: the first ListShards and GetShardIterator
// calls, and three of every four GetRecords calls of the reader (expired
// iterator, throttling, a connection error).
type flakyKinesis struct {
	esm.KinesisAPI
	lists, iterators, reads atomic.Int64
}

func (f *flakyKinesis) ListShards(ctx context.Context, in *kinesis.ListShardsInput, o ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	if f.lists.Add(1) == 1 {
		return nil, errors.New("injected: connection refused")
	}
	return f.KinesisAPI.ListShards(ctx, in, o...)
}

func (f *flakyKinesis) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, o ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	if f.iterators.Add(1) == 1 {
		return nil, &kintypes.LimitExceededException{Message: aws.String("injected")}
	}
	return f.KinesisAPI.GetShardIterator(ctx, in, o...)
}

func (f *flakyKinesis) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, o ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	if aws.ToInt32(in.Limit) == 1 { // CaughtUp's probe: left alone, so the reader gets the failures
		return f.KinesisAPI.GetRecords(ctx, in, o...)
	}
	switch f.reads.Add(1) % 4 {
	case 1:
		return nil, &kintypes.ExpiredIteratorException{Message: aws.String("injected")}
	case 2:
		return nil, &kintypes.ProvisionedThroughputExceededException{Message: aws.String("injected")}
	case 3:
		return nil, errors.New("injected: connection reset by peer")
	}
	return f.KinesisAPI.GetRecords(ctx, in, o...)
}

// flakyLambda throttles the first two invocations.
type flakyLambda struct {
	esm.LambdaAPI
	calls atomic.Int64
}

func (f *flakyLambda) Invoke(ctx context.Context, in *lambda.InvokeInput, o ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	if f.calls.Add(1) <= 2 {
		return nil, &lambdatypes.TooManyRequestsException{Message: aws.String("injected: rate exceeded")}
	}
	return f.LambdaAPI.Invoke(ctx, in, o...)
}

// flakyCheckpoints fails the first two writes.
type flakyCheckpoints struct {
	esm.Checkpoints
	puts atomic.Int64
}

func (f *flakyCheckpoints) Put(ctx context.Context, id, shard, seq string) error {
	if f.puts.Add(1) <= 2 {
		return errors.New("injected: DynamoDB unavailable")
	}
	return f.Checkpoints.Put(ctx, id, shard, seq)
}

// Kinesis errors, throttled invocations and failed checkpoint writes are
// retried: every record is delivered exactly once, in order, and throttling
// consumes no retry attempt.
func TestTransientErrorsAreRetried(t *testing.T) {
	e := newEnv(t, 1, nil)
	seqs, shards := e.put(records("acc-1", "r", 30)...)
	cfg := e.config(func(c *esm.Config) {
		c.BatchSize = 5
		c.MaximumRetryAttempts = 0
	})
	m, err := esm.New(cfg, &flakyKinesis{KinesisAPI: e.stack.Kinesis}, &flakyLambda{LambdaAPI: e.lambda},
		&flakyCheckpoints{Checkpoints: e.checkpoints}, e.failures, e.log)
	if err != nil {
		t.Fatalf("esm.New: %v", err)
	}
	stop := e.start(m)
	waitCaughtUp(t, m)
	stop()

	if got := delivered(e.fn.Calls()); !slices.Equal(got, seqs) {
		t.Errorf("delivered %v, want every record once in order %v", got, seqs)
	}
	if cp := e.checkpoint(cfg.ID, shards[0]); cp != seqs[len(seqs)-1] {
		t.Errorf("checkpoint = %s, want the last record %s", cp, seqs[len(seqs)-1])
	}
	if st := m.Stats(); st.InvokeErrors != 2 || st.Retries != 0 || st.FailuresSent != 0 || st.RecordsSucceeded != 30 {
		t.Errorf("stats = %+v, want 2 invoke errors, no retry attempt, no OnFailure record, 30 records succeeded", st)
	}
}

// New rejects invalid settings, naming them, and fills in defaults.
func TestNewValidatesConfig(t *testing.T) {
	ok := esm.Config{ID: "Fn-Stream", StreamARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/events", FunctionName: "fn"}
	var k esm.KinesisAPI = &kinesis.Client{}
	var l esm.LambdaAPI = &lambda.Client{}
	m, err := esm.New(ok, k, l, &esm.MemoryCheckpoints{}, nil, nil)
	if err != nil {
		t.Fatalf("New(valid config): %v", err)
	}
	got := m.Config()
	if got.StreamName != "events" || got.BatchSize != 100 || got.ParallelizationFactor != 1 ||
		got.StartingPosition != esm.TrimHorizon || got.PollInterval != esm.DefaultPollInterval {
		t.Errorf("defaults = %+v, want stream name from the ARN, batch size 100, factor 1, TRIM_HORIZON", got)
	}
	for _, tc := range []struct {
		field string
		mod   func(*esm.Config)
	}{
		{"ID", func(c *esm.Config) { c.ID = "" }},
		{"FunctionName", func(c *esm.Config) { c.FunctionName = "" }},
		{"StreamName", func(c *esm.Config) { c.StreamARN = "" }},
		{"BatchSize", func(c *esm.Config) { c.BatchSize = 10001 }},
		{"MaximumBatchingWindow", func(c *esm.Config) { c.MaximumBatchingWindow = 301e9 }},
		{"StartingPosition", func(c *esm.Config) { c.StartingPosition = "EARLIEST" }},
		{"StartingPositionTimestamp", func(c *esm.Config) { c.StartingPosition = esm.AtTimestamp }},
		{"ParallelizationFactor", func(c *esm.Config) { c.ParallelizationFactor = 11 }},
		{"MaximumRetryAttempts", func(c *esm.Config) { c.MaximumRetryAttempts = -2 }},
		{"MaximumRecordAge", func(c *esm.Config) { c.MaximumRecordAge = esm.MaxRecordAge + 1 }},
	} {
		cfg := ok
		tc.mod(&cfg)
		if _, err := esm.New(cfg, k, l, &esm.MemoryCheckpoints{}, nil, nil); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("New with a bad %s: err = %v, want one naming it", tc.field, err)
		}
	}
	if _, err := esm.New(ok, k, l, nil, nil, nil); err == nil {
		t.Error("New without checkpoints: err = nil, want an error")
	}
}
