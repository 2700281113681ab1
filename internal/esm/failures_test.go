package esm_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/internal/esm"
)

// itemFailures answers batch item failures for the records at idx.
func itemFailures(ev events.KinesisEvent, idx ...int) ([]byte, error) {
	var resp events.KinesisEventResponse
	for _, i := range idx {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: ev.Records[i].Kinesis.SequenceNumber})
	}
	return json.Marshal(resp)
}

// A batch item failure checkpoints the records before the lowest failed
// sequence number and redelivers only it and the records after it.
func TestPartialFailureResumesAtLowestFailedRecord(t *testing.T) {
	e := newEnv(t, 1, func(n int, ev events.KinesisEvent) ([]byte, error) {
		if n == 0 {
			return itemFailures(ev, 7, 4) // unordered on purpose: 4 is the lowest
		}
		return nil, nil
	})
	seqs, shards := e.put(records("acc-1", "r", 10)...)
	cfg := e.config(func(c *esm.Config) {
		c.BatchSize = 10
		c.ReportBatchItemFailures = true
		c.MaximumRetryAttempts = 3
	})
	m := e.newMapping(cfg)
	stop := e.start(m)
	waitCaughtUp(t, m)
	stop()

	calls := e.fn.Calls()
	if len(calls) != 2 {
		t.Fatalf("invocations = %v records each, want 2 (the batch, then its failed tail)", sizes(calls))
	}
	if got := calls[0].seqs(); !slices.Equal(got, seqs) {
		t.Errorf("first invocation = %v, want all 10 records %v", got, seqs)
	}
	if got := calls[1].seqs(); !slices.Equal(got, seqs[4:]) {
		t.Errorf("second invocation = %v, want records 4..9 %v (none before the lowest failure)", got, seqs[4:])
	}
	if cp := e.checkpoint(cfg.ID, shards[0]); cp != seqs[9] {
		t.Errorf("checkpoint = %s, want the last record %s", cp, seqs[9])
	}
	st := m.Stats()
	if st.PartialFailures != 1 || st.Retries != 1 || st.RecordsSucceeded != 10 || st.FailuresSent != 0 {
		t.Errorf("stats = %+v, want 1 partial failure, 1 retry, 10 records succeeded, no OnFailure", st)
	}
}

// BisectBatchOnFunctionError halves a failing batch until the poison record
// is alone; halving consumes no retry attempt, so with MaximumRetryAttempts 0
// only the poison record is discarded.
func TestBisectIsolatesPoisonRecord(t *testing.T) {
	e := newEnv(t, 1, func(_ int, ev events.KinesisEvent) ([]byte, error) {
		if containsData(ev, "poison") {
			return failWith("poison record")
		}
		return nil, nil
	})
	recs := records("acc-1", "r", 8)
	recs[5][1] = "poison"
	seqs, shards := e.put(recs...)
	cfg := e.config(func(c *esm.Config) {
		c.BatchSize = 8
		c.BisectBatchOnFunctionError = true
		c.MaximumRetryAttempts = 0
	})
	m := e.newMapping(cfg)
	stop := e.start(m)
	waitCaughtUp(t, m)
	stop()

	calls := e.fn.Calls()
	want := [][]string{seqs, seqs[0:4], seqs[4:8], seqs[4:6], seqs[4:5], seqs[5:6], seqs[6:8]}
	if len(calls) != len(want) {
		t.Fatalf("invocation sizes = %v, want %v", sizes(calls), []int{8, 4, 4, 2, 1, 1, 2})
	}
	for i, c := range calls {
		if !slices.Equal(c.seqs(), want[i]) {
			t.Errorf("invocation %d = %v, want %v", i, c.seqs(), want[i])
		}
	}
	fails := e.failuresOf(cfg.ID)
	if len(fails) != 1 {
		t.Fatalf("OnFailure records = %d, want 1", len(fails))
	}
	f := fails[0].Record
	if f.RequestContext.Condition != esm.ConditionRetryAttemptsExhausted || f.KinesisBatchInfo.BatchSize != 1 ||
		f.KinesisBatchInfo.StartSequenceNumber != seqs[5] || f.KinesisBatchInfo.EndSequenceNumber != seqs[5] ||
		f.RequestContext.ApproximateInvokeCount != 4 {
		t.Errorf("OnFailure record = %s, want RetryAttemptsExhausted for the poison record %s alone, invoked 4 times", fails[0].JSON, seqs[5])
	}
	if cp := e.checkpoint(cfg.ID, shards[0]); cp != seqs[7] {
		t.Errorf("checkpoint = %s, want the last record %s", cp, seqs[7])
	}
	if st := m.Stats(); st.Bisections != 3 || st.Retries != 0 || st.RecordsDiscarded != 1 {
		t.Errorf("stats = %+v, want 3 bisections, 0 retries, 1 record discarded", st)
	}
}

// After MaximumRetryAttempts retries the batch is discarded with an OnFailure
// record in AWS's shape, checkpointed, and the next batch is delivered.
func TestRetriesExhaustedSendsOnFailureRecord(t *testing.T) {
	e := newEnv(t, 1, func(_ int, ev events.KinesisEvent) ([]byte, error) {
		if containsData(ev, "r2") {
			return failWith("cannot process r2")
		}
		return nil, nil
	})
	seqs, shards := e.put(records("acc-1", "r", 10)...)
	cfg := e.config(func(c *esm.Config) {
		c.BatchSize = 5
		c.MaximumRetryAttempts = 2
	})
	m := e.newMapping(cfg)
	stop := e.start(m)
	waitCaughtUp(t, m)
	stop()

	calls := e.fn.Calls()
	wantCalls := [][]string{seqs[:5], seqs[:5], seqs[:5], seqs[5:]}
	if len(calls) != len(wantCalls) {
		t.Fatalf("invocation sizes = %v, want the failing batch 3 times (1 + 2 retries), then the next one", sizes(calls))
	}
	for i, c := range calls {
		if !slices.Equal(c.seqs(), wantCalls[i]) {
			t.Errorf("invocation %d = %v, want %v", i, c.seqs(), wantCalls[i])
		}
	}
	fails := e.failuresOf(cfg.ID)
	if len(fails) != 1 {
		t.Fatalf("OnFailure records = %d, want 1", len(fails))
	}

	// The record's JSON has exactly AWS's keys.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(fails[0].JSON), &raw); err != nil {
		t.Fatalf("OnFailure record is not JSON: %v", err)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"KinesisBatchInfo", "requestContext", "responseContext", "timestamp", "version"}; !slices.Equal(keys, want) {
		t.Errorf("OnFailure record keys = %v, want %v", keys, want)
	}

	first, last := calls[0].records[0].Kinesis, calls[0].records[4].Kinesis
	f := fails[0].Record
	want := esm.OnFailureRecord{
		RequestContext: esm.RequestContext{
			RequestID:              f.RequestContext.RequestID,
			FunctionARN:            "arn:aws:lambda:us-east-1:" + accountOf(e.streamARN) + ":function:fn",
			Condition:              esm.ConditionRetryAttemptsExhausted,
			ApproximateInvokeCount: 3,
		},
		ResponseContext: esm.ResponseContext{StatusCode: 200, ExecutedVersion: "$LATEST", FunctionError: "Unhandled"},
		Version:         "1.0",
		Timestamp:       f.Timestamp,
		KinesisBatchInfo: esm.KinesisBatchInfo{
			ShardID:                         shards[0],
			StartSequenceNumber:             seqs[0],
			EndSequenceNumber:               seqs[4],
			ApproximateArrivalOfFirstRecord: first.ApproximateArrivalTimestamp.Round(time.Millisecond).UTC().Format(esm.TimestampLayout),
			ApproximateArrivalOfLastRecord:  last.ApproximateArrivalTimestamp.Round(time.Millisecond).UTC().Format(esm.TimestampLayout),
			BatchSize:                       5,
			StreamARN:                       e.streamARN,
		},
	}
	if f != want {
		t.Errorf("OnFailure record =\n%+v\nwant\n%+v", f, want)
	}
	if f.RequestContext.RequestID == "" {
		t.Error("OnFailure record has no requestId")
	}
	if ts, err := time.Parse(esm.TimestampLayout, f.Timestamp); err != nil || time.Since(ts) > time.Minute {
		t.Errorf("timestamp %q: %v, want a recent time in %s", f.Timestamp, err, esm.TimestampLayout)
	}
	if cp := e.checkpoint(cfg.ID, shards[0]); cp != seqs[9] {
		t.Errorf("checkpoint = %s, want the last record %s", cp, seqs[9])
	}
	if st := m.Stats(); st.Retries != 2 || st.FailuresSent != 1 || st.RecordsDiscarded != 5 || st.RecordsSucceeded != 5 {
		t.Errorf("stats = %+v, want 2 retries, 1 OnFailure record for 5 records, 5 succeeded", st)
	}
}

// accountOf returns the account of an ARN.
func accountOf(arn string) string { return strings.Split(arn, ":")[4] }

// Records older than MaximumRecordAge are discarded with condition
// RecordAgeExceeded, even with unlimited retries, and processing goes on.
func TestRecordAgeExceededSendsOnFailureRecord(t *testing.T) {
	e := newEnv(t, 1, func(_ int, ev events.KinesisEvent) ([]byte, error) {
		if containsData(ev, "old0") {
			return failWith("always failing")
		}
		return nil, nil
	})
	old, shards := e.put(records("acc-1", "old", 3)...)
	cfg := e.config(func(c *esm.Config) {
		c.MaximumRecordAge = 400 * time.Millisecond
		c.MaximumRetryAttempts = -1
	})
	m := e.newMapping(cfg)
	stop := e.start(m)
	waitFor(t, "an OnFailure record", func() bool { return m.Stats().FailuresSent == 1 })
	fresh, _ := e.put([2]string{"acc-1", "fresh"})
	waitCaughtUp(t, m)
	stop()

	fails := e.failuresOf(cfg.ID)
	if len(fails) != 1 {
		t.Fatalf("OnFailure records = %d, want 1", len(fails))
	}
	f := fails[0].Record
	info := f.KinesisBatchInfo
	if f.RequestContext.Condition != esm.ConditionRecordAgeExceeded || info.BatchSize != 3 ||
		info.StartSequenceNumber != old[0] || info.EndSequenceNumber != old[2] || info.ShardID != shards[0] {
		t.Errorf("OnFailure record = %s, want RecordAgeExceeded for records %s..%s", fails[0].JSON, old[0], old[2])
	}
	if f.RequestContext.ApproximateInvokeCount < 2 || f.ResponseContext.FunctionError != "Unhandled" {
		t.Errorf("OnFailure record = %s, want the batch retried (invoke count ≥ 2) with the last function error", fails[0].JSON)
	}
	calls := e.fn.Calls()
	if got := calls[len(calls)-1].seqs(); !slices.Equal(got, fresh) {
		t.Errorf("last invocation = %v, want the fresh record %v", got, fresh)
	}
	for _, c := range calls[:len(calls)-1] {
		if !slices.Equal(c.seqs(), old) {
			t.Errorf("invocation %v, want only the old batch before the fresh record", c.seqs())
		}
	}
	if cp := e.checkpoint(cfg.ID, shards[0]); cp != fresh[0] {
		t.Errorf("checkpoint = %s, want the fresh record %s", cp, fresh[0])
	}
}

// With ReportBatchItemFailures, an answer that does not name records of the
// batch correctly fails the whole batch: it is delivered again entire.
func TestUnusableResponseFailsWholeBatch(t *testing.T) {
	for name, body := range map[string]func(ev events.KinesisEvent) string{
		"identifier not in batch": func(events.KinesisEvent) string { return `{"batchItemFailures":[{"itemIdentifier":"12345"}]}` },
		"empty identifier":        func(events.KinesisEvent) string { return `{"batchItemFailures":[{"itemIdentifier":""}]}` },
		"null identifier":         func(events.KinesisEvent) string { return `{"batchItemFailures":[{"itemIdentifier":null}]}` },
		"wrong key name": func(ev events.KinesisEvent) string {
			return fmt.Sprintf(`{"batchItemFailures":[{"ItemIdentifier":%q}]}`, ev.Records[2].Kinesis.SequenceNumber)
		},
		"numeric identifier": func(events.KinesisEvent) string { return `{"batchItemFailures":[{"itemIdentifier":12345}]}` },
		"not JSON":           func(events.KinesisEvent) string { return `batch failed` },
		"list not a list":    func(events.KinesisEvent) string { return `{"batchItemFailures":"all"}` },
		"array":              func(events.KinesisEvent) string { return `[]` },
		"string":             func(events.KinesisEvent) string { return `"ok"` },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 1, func(n int, ev events.KinesisEvent) ([]byte, error) {
				if n == 0 {
					return []byte(body(ev)), nil
				}
				return nil, nil
			})
			seqs, _ := e.put(records("acc-1", "r", 4)...)
			m := e.newMapping(e.config(func(c *esm.Config) {
				c.BatchSize = 4
				c.ReportBatchItemFailures = true
				c.MaximumRetryAttempts = 1
			}))
			stop := e.start(m)
			waitCaughtUp(t, m)
			stop()
			calls := e.fn.Calls()
			if len(calls) != 2 || !slices.Equal(calls[0].seqs(), seqs) || !slices.Equal(calls[1].seqs(), seqs) {
				t.Errorf("invocation sizes = %v, want the whole batch of 4 twice", sizes(calls))
			}
			if st := m.Stats(); st.FunctionErrors != 1 || st.PartialFailures != 0 || st.FailuresSent != 0 {
				t.Errorf("stats = %+v, want 1 whole-batch failure, no partial failure, no OnFailure record", st)
			}
		})
	}
}

// Empty or null answers and lists are complete successes; without
// ReportBatchItemFailures, batch item failures are ignored.
func TestSuccessResponses(t *testing.T) {
	cases := []struct {
		name   string
		report bool
		body   string
	}{
		{"empty body", true, ``},
		{"null", true, `null`},
		{"empty object", true, `{}`},
		{"empty list", true, `{"batchItemFailures":[]}`},
		{"null list", true, `{"batchItemFailures":null}`},
		{"failures without ReportBatchItemFailures", false, `{"batchItemFailures":[{"itemIdentifier":"1"}]}`},
		{"garbage without ReportBatchItemFailures", false, `garbage`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 1, func(int, events.KinesisEvent) ([]byte, error) { return []byte(tc.body), nil })
			seqs, _ := e.put(records("acc-1", "r", 4)...)
			m := e.newMapping(e.config(func(c *esm.Config) {
				c.BatchSize = 4
				c.ReportBatchItemFailures = tc.report
			}))
			stop := e.start(m)
			waitCaughtUp(t, m)
			stop()
			calls := e.fn.Calls()
			if len(calls) != 1 || !slices.Equal(calls[0].seqs(), seqs) {
				t.Errorf("invocation sizes = %v, want one of all 4 records", sizes(calls))
			}
		})
	}
}
