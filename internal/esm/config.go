package esm

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Starting positions (Config.StartingPosition).
const (
	TrimHorizon = "TRIM_HORIZON"
	Latest      = "LATEST"
	AtTimestamp = "AT_TIMESTAMP"
)

// Limits of the Kinesis event source mapping, as AWS documents them.
const (
	DefaultBatchSize         = 100
	MaxBatchSize             = 10000
	MaxBatchingWindow        = 300 * time.Second
	MaxParallelizationFactor = 10
	MaxRetryAttempts         = 10000
	MaxRecordAge             = 604800 * time.Second
	// MaxPayload is the largest synchronous invocation payload: a batch stops
	// growing before its event would exceed it.
	MaxPayload = 6 << 20
)

// Defaults of the settings that have no AWS counterpart.
const (
	DefaultPollInterval = 50 * time.Millisecond
	DefaultRetryDelay   = 100 * time.Millisecond
	DefaultShardRefresh = time.Second
)

// Config is one Kinesis event source mapping: the properties of a template's
// Kinesis event (AWS::Serverless::Function Events, Type: Kinesis), plus a few
// local settings. The zero value of every optional field is the AWS default
// or a safe local one; New validates the rest.
type Config struct {
	// ID names the mapping, e.g. "RouterFunction-Stream". Checkpoints and
	// OnFailure records are keyed by it, so a restarted mapping with the same
	// ID resumes where the previous one stopped. Required.
	ID string
	// StreamName and StreamARN identify the stream; one is required. A missing
	// name is taken from the ARN, a missing ARN is asked of Kinesis
	// (DescribeStreamSummary) when Run starts. The ARN is the records'
	// eventSourceARN and the OnFailure records' streamArn; its region and
	// account make the records' awsRegion and the function's ARN.
	StreamName, StreamARN string
	// FunctionName is the function invoked (Lambda Invoke, RequestResponse),
	// a name or an ARN. Required.
	FunctionName string
	// BatchSize is the most records in one invocation: 0 means 100, at most
	// 10000. A batch also stops before its payload would exceed 6 MB.
	BatchSize int32
	// MaximumBatchingWindow is how long records are gathered before the
	// function is invoked, 0 (invoke as soon as records are read) to 300 s.
	// As in AWS the window starts when the previous invocation of the same
	// batch stream completes, and a full batch goes at once.
	MaximumBatchingWindow time.Duration
	// StartingPosition is where a shard without a checkpoint is read from:
	// TRIM_HORIZON (the default here; AWS requires it to be set), LATEST or
	// AT_TIMESTAMP (from StartingPositionTimestamp).
	StartingPosition          string
	StartingPositionTimestamp time.Time
	// ParallelizationFactor is how many batches of one shard are in flight at
	// once, 1 (0 means 1) to 10. Records are split by a hash of their
	// partition key, so records with the same key are delivered in order and
	// never concurrently.
	ParallelizationFactor int
	// ReportBatchItemFailures is set when FunctionResponseTypes contains
	// ReportBatchItemFailures: the function's batchItemFailures response is
	// honoured (see the package documentation).
	ReportBatchItemFailures bool
	// BisectBatchOnFunctionError splits a batch that failed with a function
	// error in two halves and retries each; splitting consumes no retry
	// attempt.
	BisectBatchOnFunctionError bool
	// MaximumRetryAttempts is how often a batch that failed with a function
	// error is retried before its records are discarded (OnFailure record,
	// condition RetryAttemptsExhausted): -1 for no limit, 0 to 10000. The
	// zero value is 0 (no retries); AWS's default is -1.
	MaximumRetryAttempts int
	// MaximumRecordAge discards records older than this (by their approximate
	// arrival time) instead of invoking the function with them (OnFailure
	// record, condition RecordAgeExceeded). 0 or negative: no limit (AWS's
	// -1). At most 7 days; unlike AWS (60 s minimum) any positive age is
	// accepted, so tests can use short ones.
	MaximumRecordAge time.Duration

	// PollInterval is how long a caught-up shard (its last read did not fill)
	// waits before it is read again: 0 means 50 ms (AWS reads once a second).
	PollInterval time.Duration
	// RetryDelay is the first delay before a failed batch is retried or a
	// failed AWS call is repeated; it doubles up to 5 s. 0 means 100 ms.
	RetryDelay time.Duration
	// ShardRefresh is how often the stream's shards are listed, to find new
	// shards after a reshard: 0 means 1 s.
	ShardRefresh time.Duration
}

// withDefaults returns cfg with zero values replaced by defaults and derived
// names filled in, or an error naming the first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.ID == "" {
		bad("ID is required")
	}
	if cfg.FunctionName == "" {
		bad("FunctionName is required")
	}
	if cfg.StreamName == "" && cfg.StreamARN != "" {
		cfg.StreamName = streamNameFromARN(cfg.StreamARN)
	}
	if cfg.StreamName == "" {
		bad("StreamName or a stream ARN (arn:…:stream/NAME) is required")
	}
	switch {
	case cfg.BatchSize == 0:
		cfg.BatchSize = DefaultBatchSize
	case cfg.BatchSize < 0 || cfg.BatchSize > MaxBatchSize:
		bad("BatchSize %d: must be 1..%d", cfg.BatchSize, MaxBatchSize)
	}
	if cfg.MaximumBatchingWindow < 0 || cfg.MaximumBatchingWindow > MaxBatchingWindow {
		bad("MaximumBatchingWindow %v: must be 0..%v", cfg.MaximumBatchingWindow, MaxBatchingWindow)
	}
	switch cfg.StartingPosition {
	case "":
		cfg.StartingPosition = TrimHorizon
	case TrimHorizon, Latest:
	case AtTimestamp:
		if cfg.StartingPositionTimestamp.IsZero() {
			bad("StartingPosition AT_TIMESTAMP needs StartingPositionTimestamp")
		}
	default:
		bad("StartingPosition %q: must be TRIM_HORIZON, LATEST or AT_TIMESTAMP", cfg.StartingPosition)
	}
	switch {
	case cfg.ParallelizationFactor == 0:
		cfg.ParallelizationFactor = 1
	case cfg.ParallelizationFactor < 0 || cfg.ParallelizationFactor > MaxParallelizationFactor:
		bad("ParallelizationFactor %d: must be 1..%d", cfg.ParallelizationFactor, MaxParallelizationFactor)
	}
	if cfg.MaximumRetryAttempts < -1 || cfg.MaximumRetryAttempts > MaxRetryAttempts {
		bad("MaximumRetryAttempts %d: must be -1 (no limit) or 0..%d", cfg.MaximumRetryAttempts, MaxRetryAttempts)
	}
	if cfg.MaximumRecordAge > MaxRecordAge {
		bad("MaximumRecordAge %v: must be at most %v", cfg.MaximumRecordAge, MaxRecordAge)
	}
	if cfg.MaximumRecordAge < 0 {
		cfg.MaximumRecordAge = 0
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.ShardRefresh <= 0 {
		cfg.ShardRefresh = DefaultShardRefresh
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("esm: mapping %q: %w", cfg.ID, err)
	}
	return cfg, nil
}

// streamNameFromARN returns NAME of arn:partition:kinesis:region:account:stream/NAME, or "".
func streamNameFromARN(arn string) string {
	_, name, ok := strings.Cut(arn, ":stream/")
	if !ok || !strings.HasPrefix(arn, "arn:") {
		return ""
	}
	return name
}

// arnRegionAccount returns the region and account of an ARN, or ("", "").
func arnRegionAccount(arn string) (region, account string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return "", ""
	}
	return parts[3], parts[4]
}

// functionARN returns the function's ARN: FunctionName if it is one, else one
// built from the stream's partition, region and account.
func functionARN(function, streamARN string) string {
	if strings.HasPrefix(function, "arn:") {
		return function
	}
	partition := "aws"
	if parts := strings.SplitN(streamARN, ":", 3); len(parts) == 3 && parts[0] == "arn" {
		partition = parts[1]
	}
	region, account := arnRegionAccount(streamARN)
	return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", partition, region, account, function)
}
