package esm

import (
	"crypto/rand"
	"fmt"
	"time"
)

// Conditions of an OnFailure record: why its records were discarded.
const (
	ConditionRetryAttemptsExhausted = "RetryAttemptsExhausted"
	ConditionRecordAgeExceeded      = "RecordAgeExceeded"
)

// TimestampLayout is the layout of the timestamps in OnFailure records
// (UTC, milliseconds), e.g. 2023-12-10T22:06:23.446Z.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// OnFailureRecord is what Lambda sends to a Kinesis mapping's OnFailure
// destination for a discarded batch: metadata only, not the records' data
// (read them from the stream by KinesisBatchInfo's shard and sequence
// numbers while the stream retains them).
type OnFailureRecord struct {
	RequestContext   RequestContext   `json:"requestContext"`
	ResponseContext  ResponseContext  `json:"responseContext"`
	Version          string           `json:"version"`   // "1.0"
	Timestamp        string           `json:"timestamp"` // TimestampLayout
	KinesisBatchInfo KinesisBatchInfo `json:"KinesisBatchInfo"`
}

// RequestContext describes the last invocation with the discarded records.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`              // ConditionRetryAttemptsExhausted or ConditionRecordAgeExceeded
	ApproximateInvokeCount int    `json:"approximateInvokeCount"` // invocations that included the first discarded record
}

// ResponseContext is the function's last answer for the discarded records:
// zero values when it was never invoked with them.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError"` // "Unhandled", "Handled", or "" (e.g. a batch item failure)
}

// KinesisBatchInfo locates the discarded records in the stream.
type KinesisBatchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"` // TimestampLayout
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`  // TimestampLayout
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// formatTime formats t in TimestampLayout.
func formatTime(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// newRequestID returns a random version 4 UUID, for invocations whose
// response carried no request id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
