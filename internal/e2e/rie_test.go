package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/inproc"
	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
	"github.com/go-event-processor/go-event-processor/internal/reqcount"
	"github.com/go-event-processor/go-event-processor/internal/rie"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/syncbuf"
)

// rieFunctions are the functions of template.yaml: code directory → timeout and memory there.
var rieFunctions = map[string]struct {
	timeout time.Duration
	memory  int
}{
	inproc.RouterCode:         {120 * time.Second, 512},
	"functions/transaction":   {30 * time.Second, 256},
	"functions/fraudalert":    {30 * time.Second, 256},
	"functions/accountstatus": {30 * time.Second, 256},
	"functions/accountcheck":  {30 * time.Second, 256},
}

// TestMixedStreamUnderRIE runs the pipeline as `sam local invoke` would run its functions: each
// function built as `sam build` builds it and run under aws-lambda-rie. The router is invoked
// through the Lambda API (a localinvoke server on loopback) with the stream's batches; its
// bootstrap invokes the type functions' bootstraps through that same API, and they write to
// DynamoDB Local.
func TestMixedStreamUnderRIE(t *testing.T) {
	stack := emutest.Start(t) // skips when GEP_SKIP_EMULATORS=1
	ctx := t.Context()
	root := repositoryRoot(t)
	bin := t.TempDir()

	// Build the five bootstraps (one go command) and the emulator.
	begin := time.Now()
	var (
		wg              sync.WaitGroup
		emulator        string
		boots           map[string]string
		errEmu, errBoot error
	)
	codes := make([]string, 0, len(rieFunctions))
	for code := range rieFunctions {
		codes = append(codes, code)
	}
	wg.Go(func() { emulator, errEmu = rie.BuildEmulator(ctx, root, bin) })
	wg.Go(func() { boots, errBoot = rie.BuildFunctions(ctx, root, bin, codes...) })
	wg.Wait()
	if err := errors.Join(errEmu, errBoot); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s and %d bootstraps in %s", rie.EmulatorName, len(boots), time.Since(begin).Round(time.Millisecond))

	table := stack.CreateTable(t, store.Schema)
	stream := stack.CreateStream(t, 2)
	invokes := localinvoke.New()
	srv := httptest.NewServer(invokes)
	t.Cleanup(srv.Close) // after the runtimes have stopped (cleanups run last first)

	names := map[string]string{} // code directory → function name
	for code := range rieFunctions {
		names[code] = "rie-" + filepath.Base(code)
	}
	env := func(code string) map[string]string {
		e := map[string]string{
			"TABLE_NAME":                table,
			"AWS_ENDPOINT_URL_DYNAMODB": stack.DynamoDBEndpoint,
			"AWS_ENDPOINT_URL_LAMBDA":   srv.URL,
			"AWS_REGION":                emulators.Region,
			"AWS_ACCESS_KEY_ID":         "local",
			"AWS_SECRET_ACCESS_KEY":     "local",
		}
		if code == inproc.RouterCode {
			for other := range rieFunctions {
				if typ, ok := inproc.TypeOfCode(other); ok {
					e[inproc.RouterFunctionsEnv[typ]] = names[other]
				}
			}
		}
		return e
	}

	// One emulator per function, started together.
	runtimes := map[string]*rie.Runtime{}
	logs := map[string]*syncbuf.Buffer{}
	var mu sync.Mutex
	var startErrs []error
	begin = time.Now()
	for code, cfg := range rieFunctions {
		out := &syncbuf.Buffer{}
		logs[code] = out
		f := rie.Function{
			Name: names[code], Bootstrap: boots[code], Emulator: emulator, Env: env(code),
			LogOutput: out, Timeout: cfg.timeout, MemoryMB: cfg.memory,
		}
		wg.Go(func() {
			rt, err := rie.Start(ctx, f)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				startErrs = append(startErrs, err)
				return
			}
			runtimes[code] = rt
		})
	}
	wg.Wait()
	for code, rt := range runtimes {
		t.Cleanup(func() {
			if err := rt.Stop(); err != nil {
				t.Errorf("stop %s: %v", names[code], err)
			}
			if t.Failed() {
				t.Logf("--- output of %s ---\n%s", names[code], logs[code].String())
			}
		})
		invokes.Register(names[code], rt.Func())
	}
	if err := errors.Join(startErrs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("started %d emulators in %s", len(runtimes), time.Since(begin).Round(time.Millisecond))

	// The stream, read as the event source mapping reads it, each batch sent to the router's
	// bootstrap through the Lambda API.
	client := emulators.LambdaClient(srv.URL)
	p := &pipeline{stack: stack, stream: stream, store: store.New(stack.DynamoDB, table), dynamo: &reqcount.Counter{}, invokes: invokes}
	p.handle = func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		return invokeRouter(t, ctx, client, names[inproc.RouterCode], ev)
	}
	recs := mix(10, 5)
	p.put(t, recs)
	begin = time.Now()
	batches := p.drain(t, 100)
	elapsed := time.Since(begin)

	ex := expect(recs)
	stored, wantQuarantined, perType := ex.stored, ex.quarantined, ex.perType
	// Every valid event, once.
	for _, r := range stored {
		got, err := p.store.GetEvent(ctx, r.tenant, r.id)
		if err != nil {
			t.Errorf("event %s/%s: %v", r.tenant, r.id, err)
			continue
		}
		if got.Type != string(r.typ) || got.AccountID != r.account || got.BlockedBy != r.blockedBy {
			t.Errorf("event %s read back as %+v, want type %s account %s blockedBy %q", r.id, got, r.typ, r.account, r.blockedBy)
		}
	}
	total := 0
	for key, want := range perType {
		tenant, typ := split(key)
		events, err := p.store.AllTypeEvents(ctx, tenant, event.Type(typ))
		if err != nil {
			t.Fatal(err)
		}
		n := len(events)
		if n != want {
			t.Errorf("%s: %d events stored, want %d", key, n, want)
		}
		total += n
	}
	// What can never succeed, quarantined once each.
	q, err := p.store.QuarantinedBetween(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	gotQuarantined := map[string]int{}
	for _, r := range q {
		gotQuarantined[r.Code]++
	}
	for code, want := range wantQuarantined {
		if gotQuarantined[code] != want {
			t.Errorf("quarantined %s: %d, want %d", code, gotQuarantined[code], want)
		}
	}
	if len(q) != len(recs)-len(stored)-countDuplicates(recs) {
		t.Errorf("quarantined %d records, want %d", len(q), len(recs)-len(stored)-countDuplicates(recs))
	}

	t.Logf("%d records (%d valid events, %d stored, %d quarantined) in %d batches through the router's bootstrap in %s; %d Lambda invocations",
		len(recs), len(stored), total, len(q), batches, elapsed.Round(time.Millisecond), invokes.Invocations())
	for _, code := range codes {
		rt := runtimes[code]
		st, err := os.Stat(boots[code])
		if err != nil {
			t.Fatal(err)
		}
		last, _ := rt.LastReport()
		t.Logf("%-17s bootstrap %5.2f MiB  REPORT Init Duration %-8s  runtime init (INIT REPORT) %-8s  last Duration %-8s  inits %d",
			names[code], float64(st.Size())/(1<<20), rt.InitDuration(), rt.RuntimeInitDuration(), last.Duration, rt.Inits())
		if rt.Inits() != 1 {
			t.Errorf("%s: the emulator started the bootstrap %d times, want once (a crash or timeout restarts it)", names[code], rt.Inits())
		}
	}
}

// invokeRouter invokes the router with a Kinesis event through the Lambda API, as the event
// source mapping does; a failed invocation fails the test.
func invokeRouter(t *testing.T, ctx context.Context, client *lambda.Client, name string, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	t.Helper()
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
	if err != nil {
		t.Fatalf("invoke %s: %v", name, err)
	}
	if out.FunctionError != nil {
		t.Fatalf("invoke %s: function error %s: %s", name, aws.ToString(out.FunctionError), out.Payload)
	}
	var resp events.KinesisEventResponse
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		t.Fatalf("invoke %s: response %q: %v", name, out.Payload, err)
	}
	return resp, nil
}

// repositoryRoot returns the directory of the go.mod above the working directory.
func repositoryRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module "+emulators.ModulePath+"\n") {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod of %s above %s", emulators.ModulePath, dir)
		}
	}
}
