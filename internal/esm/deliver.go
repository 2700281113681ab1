package esm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// attempt is a batch on its way to the function: its records and what
// happened to them so far.
type attempt struct {
	recs      []*record
	retries   int             // retry attempts consumed (bisecting consumes none)
	invokes   int             // invocations that included recs[0]
	resp      ResponseContext // the function's last answer
	requestID string          // of the last invocation
}

// outcome is how an invocation ended.
type outcome int

const (
	succeeded      outcome = iota // every record processed
	invokeFailed                  // the function did not run (throttled, unreachable, unknown)
	functionFailed                // function error or unusable response: the whole batch failed
	partlyFailed                  // batch item failures: records from result.from on failed
)

type result struct {
	outcome   outcome
	from      int // partlyFailed: index of the lowest failed sequence number
	resp      ResponseContext
	requestID string
	err       error // why it failed, for the log
}

// deliver invokes the function with batch until every record is processed:
// delivered, or discarded with an OnFailure record. As AWS documents it:
//   - records older than MaximumRecordAge are discarded before an invocation
//     (condition RecordAgeExceeded);
//   - an invocation that fails before the function runs is retried, without
//     consuming a retry attempt, until the records are too old;
//   - batch item failures (ReportBatchItemFailures) checkpoint the records
//     before the lowest failed sequence number and retry the rest, one retry
//     attempt (with BisectBatchOnFunctionError this is AWS's "bisect at the
//     returned sequence number");
//   - a function error splits the batch in two halves if
//     BisectBatchOnFunctionError is set and it has more than one record,
//     consuming no retry attempt; otherwise it is retried;
//   - after MaximumRetryAttempts retries the records are discarded
//     (condition RetryAttemptsExhausted).
//
// It returns an error only when ctx ends; the unprocessed records are then
// left unchecked, to be delivered again by the next run.
func (s *shard) deliver(ctx context.Context, batch []*record) error {
	cfg := &s.m.cfg
	work := []*attempt{{recs: batch}}
	bo := s.m.newBackoff()
	for len(work) > 0 {
		a := work[0]
		if n := s.expired(a.recs); n > 0 {
			if err := s.discard(ctx, a, a.recs[:n], ConditionRecordAgeExceeded); err != nil {
				return err
			}
			a.recs = a.recs[n:]
			if len(a.recs) == 0 {
				work = work[1:]
				continue
			}
		}
		start := time.Now()
		res := s.invoke(ctx, a.recs)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log := s.log.With("first", a.recs[0].seq, "last", a.recs[len(a.recs)-1].seq, "size", len(a.recs),
			"retry", a.retries, "duration", time.Since(start).Round(time.Millisecond))
		if res.outcome == invokeFailed {
			s.m.counts.invokeErrors.Add(1)
			log.Warn("invoke failed; retrying until the records are too old", "status", res.resp.StatusCode, "error", res.err)
			if !bo.wait(ctx) {
				return ctx.Err()
			}
			continue
		}
		s.m.counts.invocations.Add(1)
		s.m.counts.recordsInvoked.Add(int64(len(a.recs)))
		a.invokes++
		a.resp, a.requestID = res.resp, res.requestID
		switch res.outcome {
		case succeeded:
			log.Info("batch invoked")
			if err := s.succeed(ctx, a.recs); err != nil {
				return err
			}
			work = work[1:]
			bo.reset()
			continue
		case partlyFailed:
			s.m.counts.partialFailures.Add(1)
			log.Warn("batch item failures: checkpointing before the lowest failed record, retrying from it",
				"failedFrom", a.recs[res.from].seq, "succeeded", res.from)
			if err := s.succeed(ctx, a.recs[:res.from]); err != nil {
				return err
			}
			a.recs = a.recs[res.from:]
		case functionFailed:
			s.m.counts.functionErrors.Add(1)
			log.Warn("batch failed", "functionError", res.resp.FunctionError, "error", res.err)
			if cfg.BisectBatchOnFunctionError && len(a.recs) > 1 {
				half := len(a.recs) / 2
				first := &attempt{recs: a.recs[:half], retries: a.retries, invokes: a.invokes, resp: a.resp, requestID: a.requestID}
				second := &attempt{recs: a.recs[half:], retries: a.retries, invokes: a.invokes, resp: a.resp, requestID: a.requestID}
				work = append([]*attempt{first, second}, work[1:]...)
				s.m.counts.bisections.Add(1)
				log.Info("bisecting batch", "halves", []int{len(first.recs), len(second.recs)})
				continue
			}
		}
		if cfg.MaximumRetryAttempts >= 0 && a.retries >= cfg.MaximumRetryAttempts {
			if err := s.discard(ctx, a, a.recs, ConditionRetryAttemptsExhausted); err != nil {
				return err
			}
			work = work[1:]
			continue
		}
		a.retries++
		s.m.counts.retries.Add(1)
		if !bo.wait(ctx) {
			return ctx.Err()
		}
	}
	return nil
}

// succeed checkpoints records the function processed.
func (s *shard) succeed(ctx context.Context, recs []*record) error {
	if len(recs) == 0 {
		return nil
	}
	s.m.counts.recordsSucceeded.Add(int64(len(recs)))
	return s.markProcessed(ctx, recs)
}

// expired returns how many leading records are older than MaximumRecordAge.
func (s *shard) expired(recs []*record) int {
	maxAge := s.m.cfg.MaximumRecordAge
	if maxAge <= 0 {
		return 0
	}
	now, n := time.Now(), 0
	for n < len(recs) && now.Sub(recs[n].arrival) > maxAge {
		n++
	}
	return n
}

// discard sends the OnFailure record of recs (retrying until the sink takes
// it) and then checkpoints them.
func (s *shard) discard(ctx context.Context, a *attempt, recs []*record, condition string) error {
	s.m.mu.Lock()
	fnARN, streamARN := s.m.functionARN, s.m.streamARN
	s.m.mu.Unlock()
	first, last := recs[0], recs[len(recs)-1]
	requestID := a.requestID
	if requestID == "" {
		requestID = newRequestID()
	}
	rec := OnFailureRecord{
		RequestContext: RequestContext{
			RequestID: requestID, FunctionARN: fnARN, Condition: condition, ApproximateInvokeCount: a.invokes,
		},
		ResponseContext: a.resp,
		Version:         "1.0",
		Timestamp:       formatTime(time.Now()),
		KinesisBatchInfo: KinesisBatchInfo{
			ShardID:                         s.id,
			StartSequenceNumber:             first.seq,
			EndSequenceNumber:               last.seq,
			ApproximateArrivalOfFirstRecord: formatTime(first.arrival),
			ApproximateArrivalOfLastRecord:  formatTime(last.arrival),
			BatchSize:                       len(recs),
			StreamARN:                       streamARN,
		},
	}
	log := s.log.With("condition", condition, "first", first.seq, "last", last.seq, "size", len(recs),
		"invokes", a.invokes, "retries", a.retries)
	if s.m.sink == nil {
		log.Error("discarding records (no OnFailure destination)")
	} else {
		bo := s.m.newBackoff()
		for {
			err := s.m.sink.Send(ctx, s.m.cfg.ID, rec)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Warn("send OnFailure record", "error", err)
			if !bo.wait(ctx) {
				return ctx.Err()
			}
		}
		s.m.counts.failuresSent.Add(1)
		log.Error("discarded records; OnFailure record sent")
	}
	s.m.counts.recordsDiscarded.Add(int64(len(recs)))
	return s.markProcessed(ctx, recs)
}

// invoke calls the function (RequestResponse) with recs and classifies the answer.
func (s *shard) invoke(ctx context.Context, recs []*record) result {
	out, err := s.m.lam.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(s.m.cfg.FunctionName),
		InvocationType: lambdatypes.InvocationTypeRequestResponse,
		Payload:        eventPayload(recs),
	})
	if err != nil {
		res := result{outcome: invokeFailed, err: err}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			res.resp.StatusCode = re.HTTPStatusCode()
		}
		return res
	}
	res := result{resp: ResponseContext{
		StatusCode:      int(out.StatusCode),
		ExecutedVersion: aws.ToString(out.ExecutedVersion),
		FunctionError:   aws.ToString(out.FunctionError),
	}}
	res.requestID, _ = awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if out.FunctionError != nil {
		res.outcome, res.err = functionFailed, fmt.Errorf("function error %s: %s", *out.FunctionError, abbreviate(out.Payload))
		return res
	}
	if !s.m.cfg.ReportBatchItemFailures {
		return res
	}
	from, err := firstFailed(out.Payload, recs)
	switch {
	case err != nil:
		res.outcome, res.err = functionFailed, err
	case from < len(recs):
		res.outcome, res.from = partlyFailed, from
	}
	return res
}

// firstFailed reads a ReportBatchItemFailures response and returns the index
// of the lowest failed sequence number in recs, or len(recs) if none failed.
// As AWS documents it, an empty or null response, or an empty or null
// batchItemFailures list, is a complete success; an itemIdentifier that is
// missing, null, empty or not a sequence number of the batch, or a response
// that is not such an object, fails the whole batch (returned as an error).
// Keys are matched exactly.
func firstFailed(payload []byte, recs []*record) (int, error) {
	body := bytes.TrimSpace(payload)
	if len(body) == 0 || string(body) == "null" {
		return len(recs), nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return 0, fmt.Errorf("response is not a batchItemFailures object: %s", abbreviate(body))
	}
	raw, ok := top["batchItemFailures"]
	if !ok || string(raw) == "null" {
		return len(recs), nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return 0, fmt.Errorf("batchItemFailures is not a list of objects: %s", abbreviate(raw))
	}
	index := make(map[string]int, len(recs))
	for i, r := range recs {
		index[r.seq] = i
	}
	lowest := len(recs)
	for _, item := range items {
		var id string
		if raw, ok := item["itemIdentifier"]; !ok || json.Unmarshal(raw, &id) != nil || id == "" {
			return 0, fmt.Errorf("batch item failure without an itemIdentifier string: %s", abbreviate(body))
		}
		i, ok := index[id]
		if !ok {
			return 0, fmt.Errorf("batch item failure %q is not a sequence number of the batch", id)
		}
		lowest = min(lowest, i)
	}
	return lowest, nil
}

// eventPayload is the Kinesis event of recs: {"Records":[…]}.
func eventPayload(recs []*record) []byte {
	n := eventOverhead + len(recs)
	for _, r := range recs {
		n += len(r.body)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, `{"Records":[`...)
	for i, r := range recs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, r.body...)
	}
	return append(buf, "]}"...)
}

// abbreviate returns b as a string of at most 200 bytes, for logs and errors.
func abbreviate(b []byte) string {
	const max = 200
	if len(b) <= max {
		return string(b)
	}
	return string(b[:max]) + "…"
}
