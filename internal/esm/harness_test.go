package esm_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/esm"
	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
)

func TestMain(m *testing.M) { emutest.Main(m) }

// testTimeout bounds every wait of a test.
const testTimeout = 20 * time.Second

// call is one invocation of a fake function.
type call struct {
	function   string
	records    []events.KinesisEventRecord
	start, end time.Time
}

func (c call) seqs() []string {
	out := make([]string, len(c.records))
	for i, r := range c.records {
		out[i] = r.Kinesis.SequenceNumber
	}
	return out
}

// answerFunc scripts a fake function: n counts its invocations from 0.
type answerFunc func(n int, ev events.KinesisEvent) ([]byte, error)

// fakeFunction records its invocations and answers as scripted.
type fakeFunction struct {
	mu     sync.Mutex
	calls  []call
	answer answerFunc
}

func (f *fakeFunction) handler(name string) localinvoke.Func {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		var ev events.KinesisEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		f.mu.Lock()
		n := len(f.calls)
		f.calls = append(f.calls, call{function: name, records: ev.Records, start: time.Now()})
		answer := f.answer
		f.mu.Unlock()
		var (
			out []byte
			err error
		)
		if answer != nil {
			out, err = answer(n, ev)
		}
		f.mu.Lock()
		f.calls[n].end = time.Now()
		f.mu.Unlock()
		return out, err
	}
}

// Calls returns the invocations so far.
func (f *fakeFunction) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// env is one test's stream, fake function and tables on the shared emulators.
type env struct {
	t           *testing.T
	stack       *emutest.Stack
	stream      string
	streamARN   string
	fn          *fakeFunction
	lambda      *lambda.Client
	checkpoints *esm.DynamoCheckpoints
	failures    *esm.DynamoFailures
	log         *slog.Logger
}

// fnNames are the names the fake function is served under.
var fnNames = []string{"fn", "fn-run1", "fn-run2"}

func newEnv(t *testing.T, shards int32, answer answerFunc) *env {
	t.Helper()
	stack := emutest.Start(t)
	e := &env{t: t, stack: stack, fn: &fakeFunction{answer: answer}}
	e.stream = stack.CreateStream(t, shards)
	out, err := stack.Kinesis.DescribeStreamSummary(t.Context(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(e.stream)})
	if err != nil {
		t.Fatalf("DescribeStreamSummary: %v", err)
	}
	e.streamARN = aws.ToString(out.StreamDescriptionSummary.StreamARN)
	srv := localinvoke.New()
	for _, name := range fnNames {
		srv.Register(name, e.fn.handler(name))
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.lambda = emulators.LambdaClient(hs.URL)
	e.checkpoints = esm.NewDynamoCheckpoints(stack.DynamoDB, stack.CreateTable(t, esm.CheckpointTableInput))
	e.failures = esm.NewDynamoFailures(stack.DynamoDB, stack.CreateTable(t, esm.FailureTableInput))
	e.log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	return e
}

// config returns a mapping of the env's stream to function "fn", with fast
// local timings, changed by mods.
func (e *env) config(mods ...func(*esm.Config)) esm.Config {
	cfg := esm.Config{
		ID:                   "Fn-Stream-" + e.stream,
		StreamName:           e.stream,
		StreamARN:            e.streamARN,
		FunctionName:         "fn",
		StartingPosition:     esm.TrimHorizon,
		MaximumRetryAttempts: -1,
		PollInterval:         10 * time.Millisecond,
		RetryDelay:           10 * time.Millisecond,
		ShardRefresh:         200 * time.Millisecond,
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	return cfg
}

func (e *env) newMapping(cfg esm.Config) *esm.Mapping {
	e.t.Helper()
	m, err := esm.New(cfg, e.stack.Kinesis, e.lambda, e.checkpoints, e.failures, e.log)
	if err != nil {
		e.t.Fatalf("esm.New: %v", err)
	}
	return m
}

// start runs m until the returned stop is called (at the latest when the test
// ends). stop cancels Run, waits for it to return nil and checks that no
// goroutine of the package is left.
func (e *env) start(m *esm.Mapping) (stop func()) {
	t := e.t
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil after cancel", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Run did not return within 5 s of cancel")
			}
			checkNoLeak(t)
		})
	}
	t.Cleanup(stop)
	return stop
}

// checkNoLeak fails t if a goroutine is still running code of package esm.
func checkNoLeak(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var leaked []string
		for g := range strings.SplitSeq(stacks, "\n\n") {
			if strings.Contains(g, "/internal/esm.") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines of package esm still running after Run returned:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// put sends records (partition key, data) in one PutRecords call and returns
// their sequence numbers and shards, in order.
func (e *env) put(recs ...[2]string) (seqs, shards []string) {
	e.t.Helper()
	for start := 0; start < len(recs); start += 500 {
		var entries []kintypes.PutRecordsRequestEntry
		for _, r := range recs[start:min(start+500, len(recs))] {
			entries = append(entries, kintypes.PutRecordsRequestEntry{PartitionKey: aws.String(r[0]), Data: []byte(r[1])})
		}
		out, err := e.stack.Kinesis.PutRecords(e.t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(e.stream), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
			e.t.Fatalf("PutRecords: %v (failed %d)", err, aws.ToInt32(out.FailedRecordCount))
		}
		for _, r := range out.Records {
			seqs = append(seqs, aws.ToString(r.SequenceNumber))
			shards = append(shards, aws.ToString(r.ShardId))
		}
	}
	return seqs, shards
}

// records returns n records of one partition key with data prefix0..prefix(n-1).
func records(key, prefix string, n int) [][2]string {
	out := make([][2]string, n)
	for i := range out {
		out[i] = [2]string{key, prefix + strconv.Itoa(i)}
	}
	return out
}

// waitFor polls cond until it holds, failing t after testTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", testTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitCaughtUp waits until every record of the stream is checkpointed.
func waitCaughtUp(t *testing.T, m *esm.Mapping) {
	t.Helper()
	var lastErr error
	waitFor(t, "the mapping to catch up", func() bool {
		ok, err := m.CaughtUp(t.Context())
		lastErr = err
		return ok
	})
	if lastErr != nil {
		t.Fatalf("CaughtUp: %v", lastErr)
	}
}

// checkpoint returns a shard's stored checkpoint, or "" if it has none.
func (e *env) checkpoint(id, shard string) string {
	e.t.Helper()
	cp, err := e.checkpoints.Get(e.t.Context(), id, shard)
	if errors.Is(err, esm.ErrNoCheckpoint) {
		return ""
	}
	if err != nil {
		e.t.Fatalf("read checkpoint: %v", err)
	}
	return cp
}

// failuresOf returns the stored OnFailure records of mapping id.
func (e *env) failuresOf(id string) []esm.StoredFailure {
	e.t.Helper()
	all, err := e.failures.List(e.t.Context())
	if err != nil {
		e.t.Fatalf("List: %v", err)
	}
	var out []esm.StoredFailure
	for _, f := range all {
		if f.MappingID == id {
			out = append(out, f)
		}
	}
	return out
}

// seqLess orders sequence numbers (decimal strings) numerically.
func seqLess(a, b string) bool {
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y) < 0
}

// sizes returns the number of records of each call.
func sizes(calls []call) []int {
	out := make([]int, len(calls))
	for i, c := range calls {
		out[i] = len(c.records)
	}
	return out
}

// failWith answers a function error.
func failWith(msg string) ([]byte, error) { return nil, errors.New(msg) }

// containsData reports whether the event has a record with data d.
func containsData(ev events.KinesisEvent, d string) bool {
	for _, r := range ev.Records {
		if string(r.Kinesis.Data) == d {
			return true
		}
	}
	return false
}
