package producer

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// Codes of the failures the producer reports itself; the others are Kinesis's ErrorCode values
// (ProvisionedThroughputExceededException, InternalFailure, …) and, for events Send refuses,
// the pipeline's reject codes (event.CodeInvalid, event.CodeOversize, …).
const (
	// CodeTooLarge: the record is over MaxRecordBytes (data and partition key); never sent.
	CodeTooLarge = "too_large"
	// CodeBadPartitionKey: the partition key is empty or over MaxPartitionKeyLength; never sent.
	CodeBadPartitionKey = "bad_partition_key"
	// CodeCallFailed: the PutRecords call carrying the record failed as a whole, with an error
	// that is not worth retrying or on the last attempt.
	CodeCallFailed = "call_failed"
	// CodeInterrupted: the context ended while a call carrying the record was in flight; the
	// stream may or may not have stored it.
	CodeInterrupted = "interrupted"
	// CodeCanceled: the context ended before the record was sent (again).
	CodeCanceled = "canceled"
)

// ErrTooLarge is wrapped by the error of a record over MaxRecordBytes.
var ErrTooLarge = errors.New("record too large for Kinesis")

// ErrBadPartitionKey is wrapped by the error of a record whose partition key Kinesis would refuse.
var ErrBadPartitionKey = errors.New("bad partition key")

// Result says what a Send or SendRaw did.
type Result struct {
	Total   int            // records given
	Sent    int            // records the stream stored
	Shards  map[string]int // records stored per shard id
	Failed  []Failure      // records not sent or not known to be, by Index
	Calls   int            // PutRecords calls made, failed ones included
	Retries int            // records put again after a failed attempt
	Elapsed time.Duration  // time from the start of Send to its return
}

// Failure is one record that was not sent, or not known to be (CodeInterrupted).
type Failure struct {
	Index        int    // the record's position among the arguments of Send or SendRaw
	PartitionKey string // its partition key
	Code         string // Kinesis's ErrorCode, an event.Code* reject code, or a producer Code*
	Message      string // what went wrong, for people
	Attempts     int    // how many times it was put
	Err          error  // the cause: *RecordError, *event.RejectError, ErrTooLarge, the call's or context's error
}

// Err returns nil when every record was sent, and otherwise an *Error summarising the failures.
func (r Result) Err() error {
	if len(r.Failed) == 0 {
		return nil
	}
	return &Error{Total: r.Total, Sent: r.Sent, Failed: r.Failed}
}

// Error is what Result.Err returns when records were not sent. It unwraps to the first cause of
// each failure code, so errors.Is(err, context.Canceled) and errors.As(err, **event.RejectError)
// work on it.
type Error struct {
	Total, Sent int
	Failed      []Failure
}

// Error reads as "producer: 3 of 10 records not sent (2 ProvisionedThroughputExceededException,
// 1 too_large); first: record 4: …".
func (e *Error) Error() string {
	counts := map[string]int{}
	for _, f := range e.Failed {
		counts[f.Code]++
	}
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if counts[codes[i]] != counts[codes[j]] {
			return counts[codes[i]] > counts[codes[j]]
		}
		return codes[i] < codes[j]
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d %s", counts[c], c)
	}
	first := e.Failed[0]
	return fmt.Sprintf("producer: %d of %d records not sent (%s); first: record %d: %s",
		len(e.Failed), e.Total, strings.Join(parts, ", "), first.Index, first.Message)
}

// Unwrap returns the first cause of each failure code.
func (e *Error) Unwrap() []error {
	seen := map[string]bool{}
	var errs []error
	for _, f := range e.Failed {
		if f.Err != nil && !seen[f.Code] {
			seen[f.Code] = true
			errs = append(errs, f.Err)
		}
	}
	return errs
}

// RecordError is why a PutRecords call refused one record: the ErrorCode and ErrorMessage
// Kinesis gave. It is a smithy.APIError, so the SDK's retry helpers classify it (e.g.
// ProvisionedThroughputExceededException is a throttle).
type RecordError struct {
	Code    string
	Message string
}

var _ smithy.APIError = (*RecordError)(nil)

// Error returns "Code: Message".
func (e *RecordError) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns Kinesis's ErrorCode.
func (e *RecordError) ErrorCode() string { return e.Code }

// ErrorMessage returns Kinesis's ErrorMessage.
func (e *RecordError) ErrorMessage() string { return e.Message }

// ErrorFault reports the fault as the server's: the record itself was acceptable.
func (e *RecordError) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }
