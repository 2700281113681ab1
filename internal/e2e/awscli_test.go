package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// awsCLI runs the AWS CLI against one endpoint of a local stack, as a user would with
// `--endpoint-url` and dummy credentials, isolated from the machine's AWS configuration.
type awsCLI struct {
	t       *testing.T
	env     []string
	v2      bool // AWS CLI v2 reads blobs in JSON input as base64 unless told otherwise
	version string
}

func newAWSCLI(t *testing.T) *awsCLI {
	t.Helper()
	if os.Getenv(emutest.EnvSkip) == "1" {
		t.Skipf("%s=1: skipping a test that needs the local emulators", emutest.EnvSkip)
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI (aws) is not on PATH: this test drives the local stack with it (pip install awscli, or the AWS CLI v2 installer)")
	}
	home := t.TempDir()
	env := []string{"HOME=" + home}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") && k != "HOME" {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION="+devstack.Region,
		"AWS_CONFIG_FILE="+filepath.Join(home, "no-config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "no-credentials"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true")
	c := &awsCLI{t: t, env: env}
	out, err := c.cmd(context.Background(), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("aws --version: %v\n%s", err, out)
	}
	c.version = strings.TrimSpace(string(out))
	c.v2 = strings.HasPrefix(c.version, "aws-cli/2.")
	return c
}

func (c *awsCLI) cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "aws", args...)
	cmd.Env = c.env
	return cmd
}

// run runs `aws SERVICE ARGS --endpoint-url ENDPOINT --region us-east-1 --output json` and
// returns its exit code, stdout and stderr; a CLI that does not end within a minute fails the test.
func (c *awsCLI) run(endpoint string, args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), time.Minute)
	defer cancel()
	args = append(args, "--endpoint-url", endpoint, "--region", devstack.Region, "--output", "json")
	if c.v2 && (slices.Contains(args, "put-records") || slices.Contains(args, "invoke")) {
		args = append(args, "--cli-binary-format", "raw-in-base64-out")
	}
	cmd := c.cmd(ctx, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		c.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

// ok runs the CLI as run does, fails the test unless it exits 0, and decodes its JSON output
// into v (when v is not nil).
func (c *awsCLI) ok(v any, endpoint string, args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(endpoint, args...)
	if code != 0 {
		c.t.Fatalf("aws %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("aws %s: output is not the JSON expected: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return out
}

// invokeOutput is what `aws lambda invoke` prints.
type invokeOutput struct {
	StatusCode      int
	FunctionError   string
	LogResult       string
	ExecutedVersion string
}

// sampleRecords builds the records of `aws kinesis put-records` from the samples in events/:
// every event of the type functions' batches and every record of the router's Kinesis event,
// keyed by its account as a producer keys them.
func sampleRecords(t *testing.T, root string) (records []map[string]string, ids []string) {
	t.Helper()
	add := func(data []byte, key string) {
		e, err := event.Decode(data)
		if err == nil {
			ids = append(ids, e.Tenant+"/"+e.ID)
		}
		if key == "" {
			key = "unknown"
			if err == nil {
				key = e.Data.Account()
			}
		}
		records = append(records, map[string]string{"Data": string(data), "PartitionKey": key})
	}
	batches, err := filepath.Glob(filepath.Join(root, "events", "*", "batch.json"))
	if err != nil || len(batches) == 0 {
		t.Fatalf("no events/*/batch.json: %v", err)
	}
	for _, f := range batches {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var b typefn.Batch
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, r := range b.Records {
			add(r.Event, "")
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, "events", "router", "kinesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	var k events.KinesisEvent
	if err := json.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	for _, r := range k.Records {
		add(r.Kinesis.Data, r.Kinesis.PartitionKey)
	}
	return records, ids
}

// TestAWSCLIDrivesTheStack drives a running local stack with the AWS CLI, a client nobody here
// wrote: the samples of events/ put on the stream with `aws kinesis put-records`, a stored event
// read back with `aws dynamodb get-item` once the event source mapping stored it, and every
// function invoked with `aws lambda invoke`, by name and by ARN, with each of its samples, then
// asynchronously (--invocation-type Event: 202), as a dry run (204) and with --log-type Tail
// (a LogResult that decodes to the invocation's log). Exit codes and outputs are checked.
func TestAWSCLIDrivesTheStack(t *testing.T) {
	aws := newAWSCLI(t)
	t.Logf("%s", aws.version)
	root := repositoryRoot(t)
	keys, err := devstack.ReadAPIKeys(filepath.Join(root, "api-keys.local.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, ran := runStack(t, devstack.Options{Root: root, Mappings: true, LogDir: t.TempDir(), APIKeys: keys})
	stream, table := st.Resources.Streams[0].Name, "EventsTable"

	// Kinesis: the stream is there, and takes the samples.
	var streams struct{ StreamNames []string }
	aws.ok(&streams, st.KinesisEndpoint, "kinesis", "list-streams")
	if !slices.Contains(streams.StreamNames, stream) {
		t.Fatalf("aws kinesis list-streams: %v, want %s", streams.StreamNames, stream)
	}
	records, ids := sampleRecords(t, root)
	file := filepath.Join(t.TempDir(), "records.json")
	b, _ := json.Marshal(records)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var put struct {
		FailedRecordCount int
		Records           []struct{ SequenceNumber, ShardId, ErrorCode string }
	}
	aws.ok(&put, st.KinesisEndpoint, "kinesis", "put-records", "--stream-name", stream, "--records", "file://"+file)
	if put.FailedRecordCount != 0 || len(put.Records) != len(records) {
		t.Fatalf("aws kinesis put-records: %d failed, %d results for %d records", put.FailedRecordCount, len(put.Records), len(records))
	}
	for i, r := range put.Records {
		if r.SequenceNumber == "" || !strings.HasPrefix(r.ShardId, "shardId-") || r.ErrorCode != "" {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	t.Logf("put %d sample records (%d of them events) on %s", len(records), len(ids), stream)

	// DynamoDB: the event source mapping stores the events; read one back (the store keys an
	// event by pk EVT#<tenant>#<id>, sk EVENT: internal/store keys.go).
	const tenant, id = "examplebank", "evt-txn-0001"
	if !slices.Contains(ids, tenant+"/"+id) {
		t.Fatalf("the samples hold no event %s of %s", id, tenant)
	}
	getItem := []string{"dynamodb", "get-item", "--table-name", table, "--consistent-read",
		"--key", fmt.Sprintf(`{"pk": {"S": "EVT#%s#%s"}, "sk": {"S": "EVENT"}}`, tenant, id)}
	var item struct {
		Item map[string]map[string]any
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		item.Item = nil
		aws.ok(&item, st.DynamoDBEndpoint, getItem...)
		if item.Item != nil {
			break
		}
		if time.Now().After(deadline) {
			s := st.Stats()
			t.Fatalf("aws dynamodb get-item: %s not stored within 60 s (%d records delivered, %d invocations, %d function errors)", id, st.Delivered(), s.Invocations, s.FunctionErrors)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if item.Item["id"]["S"] != id || item.Item["tenant"]["S"] != tenant || item.Item["type"]["S"] != "transaction" {
		t.Errorf("aws dynamodb get-item: %v", item.Item)
	}
	// Wait until every sample is through, so that the query samples see them all.
	if _, ok := waitCaughtUp(t, st, ran, 60*time.Second, "the samples"); !ok {
		t.FailNow()
	}

	// Lambda: every function, by name and by ARN, with each of its samples.
	out := t.TempDir()
	invoke := func(name, sample string, extra ...string) (invokeOutput, []byte) {
		t.Helper()
		resp := filepath.Join(out, fmt.Sprintf("response-%d.json", time.Now().UnixNano()))
		args := append([]string{"lambda", "invoke", "--function-name", name, "--payload", "fileb://" + sample}, extra...)
		var o invokeOutput
		aws.ok(&o, st.LambdaEndpoint, append(args, resp)...)
		body, err := os.ReadFile(resp)
		if err != nil {
			t.Fatalf("aws lambda invoke %s: no response file: %v", name, err)
		}
		return o, body
	}
	invoked := 0
	for _, f := range st.Resources.Functions {
		samples, _ := filepath.Glob(filepath.Join(root, "events", filepath.Base(f.CodeURI), "*.json"))
		if len(samples) == 0 {
			t.Errorf("%s has no sample in events/%s/", f.LogicalID, filepath.Base(f.CodeURI))
			continue
		}
		arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", devstack.Region, devstack.Account, f.Name)
		for _, sample := range samples {
			for _, name := range []string{f.Name, arn} {
				o, body := invoke(name, sample)
				invoked++
				rel, _ := filepath.Rel(root, sample)
				if o.StatusCode != 200 || o.FunctionError != "" || o.ExecutedVersion != "$LATEST" || !json.Valid(body) {
					t.Errorf("aws lambda invoke %s with %s: %+v\n%s", name, rel, o, body)
					continue
				}
				if why := checkResponse(f.CodeURI, filepath.Base(sample), body); why != "" {
					t.Errorf("aws lambda invoke %s with %s: %s\n%s", name, rel, why, body)
				}
			}
		}
	}
	t.Logf("%d invocations with the AWS CLI, by name and by ARN", invoked)

	// The issue's own check: a partial ARN, and an ARN with a qualifier.
	check := filepath.Join(root, "events", "accountcheck", "batch.json")
	for _, name := range []string{devstack.Account + ":function:AccountCheckFunction", "arn:aws:lambda:us-east-1:000000000000:function:AccountCheckFunction:$LATEST"} {
		if o, body := invoke(name, check); o.StatusCode != 200 || o.FunctionError != "" {
			t.Errorf("aws lambda invoke %s: %+v\n%s", name, o, body)
		}
	}

	// Asynchronous: 202 at once and an empty body; the function runs later.
	txn := filepath.Join(root, "events", "transaction", "batch.json")
	before := st.Invocations.AsyncStats()
	o, body := invoke("arn:aws:lambda:us-east-1:000000000000:function:TransactionFunction", txn, "--invocation-type", "Event")
	if o.StatusCode != 202 || len(bytes.TrimSpace(body)) != 0 || o.FunctionError != "" {
		t.Errorf("aws lambda invoke --invocation-type Event: %+v, body %q", o, body)
	}
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	if err := st.Invocations.WaitAsync(wctx); err != nil {
		t.Error(err)
	}
	wcancel()
	if after := st.Invocations.AsyncStats(); after.Done != before.Done+1 || after.Failed != before.Failed {
		t.Errorf("the Event invocation did not run once without error: before %+v, after %+v", before, after)
	}

	// DryRun: 204, nothing runs.
	calls := st.Invocations.Invocations()
	if o, body := invoke("TransactionFunction", txn, "--invocation-type", "DryRun"); o.StatusCode != 204 || len(bytes.TrimSpace(body)) != 0 {
		t.Errorf("aws lambda invoke --invocation-type DryRun: %+v, body %q", o, body)
	}
	if st.Invocations.Invocations() != calls {
		t.Error("a DryRun invocation ran the function")
	}

	// The log tail: the last 4 KB of the invocation's log, base64, framed as Lambda frames it.
	o, _ = invoke("TransactionFunction", txn, "--log-type", "Tail")
	log, err := base64.StdEncoding.DecodeString(o.LogResult)
	if err != nil || o.StatusCode != 200 {
		t.Fatalf("aws lambda invoke --log-type Tail: %+v: LogResult does not decode: %v", o, err)
	}
	text := string(log)
	if len(log) == 0 || len(log) > 4096 || !strings.HasPrefix(text, "START RequestId: ") || !strings.Contains(text, "\nEND RequestId: ") ||
		!strings.Contains(text, "\nREPORT RequestId: ") || !strings.Contains(text, `"msg":"batch handled"`) {
		t.Errorf("aws lambda invoke --log-type Tail: the log tail is not the invocation's log:\n%s", text)
	}

	// Unknown function: the CLI reports Lambda's ResourceNotFoundException and fails.
	code, stdout, stderr := aws.run(st.LambdaEndpoint, "lambda", "invoke", "--function-name", "arn:aws:lambda:us-east-1:000000000000:function:NoSuchFunction",
		"--payload", "fileb://"+txn, filepath.Join(out, "none.json"))
	if code == 0 || !strings.Contains(stderr, "ResourceNotFoundException") || !strings.Contains(stderr, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:NoSuchFunction") {
		t.Errorf("aws lambda invoke of an unknown function: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// checkResponse says what is wrong with a function's response to one of its samples, or "".
func checkResponse(codeURI, sample string, body []byte) string {
	switch filepath.Base(codeURI) {
	case "router":
		var r events.KinesisEventResponse
		if err := json.Unmarshal(body, &r); err != nil || r.BatchItemFailures == nil || len(r.BatchItemFailures) != 0 {
			return fmt.Sprintf("want no batch item failures (%v)", err)
		}
	case "query":
		var r events.APIGatewayProxyResponse
		if err := json.Unmarshal(body, &r); err != nil || r.StatusCode != 200 {
			return fmt.Sprintf("want statusCode 200 (%v)", err)
		}
		if sample == "event.json" && !strings.Contains(r.Body, `"evt-txn-0001"`) {
			return "want the event evt-txn-0001"
		}
		if sample == "account-events.json" && !strings.Contains(r.Body, `"evt-txn-0001"`) {
			return "want the account's transactions, evt-txn-0001 among them"
		}
		if sample == "feed.json" && !strings.Contains(r.Body, `"evt-txn-0001"`) {
			return "want the tenant's feed, evt-txn-0001 in it"
		}
		if sample == "checkpoint.json" && !strings.Contains(r.Body, `"name":"sam-local"`) {
			return "want the consumer sam-local"
		}
	case "authorizer":
		var r events.APIGatewayCustomAuthorizerResponse
		if err := json.Unmarshal(body, &r); err != nil || r.PrincipalID != "tenant:examplebank" || len(r.PolicyDocument.Statement) == 0 ||
			r.PolicyDocument.Statement[0].Effect != "Allow" {
			return fmt.Sprintf("want an Allow policy for tenant:examplebank (%v)", err)
		}
	default: // a type function
		var r typefn.Response
		if err := json.Unmarshal(body, &r); err != nil || len(r.Results) == 0 {
			return fmt.Sprintf("want a result per record (%v)", err)
		}
		for _, res := range r.Results {
			if res.Status != typefn.Stored && res.Status != typefn.Duplicate {
				return fmt.Sprintf("record %s: %s %s, want stored or duplicate", res.ID, res.Status, res.Reason)
			}
		}
	}
	return ""
}

// TestAWSCLILogTailUnderRIE: with the function's bootstrap under aws-lambda-rie, `aws lambda
// invoke --log-type Tail` returns that invocation's log as the emulator frames it (its START, END
// and REPORT lines, under the request id of the invocation), without the emulator's own lines.
func TestAWSCLILogTailUnderRIE(t *testing.T) {
	aws := newAWSCLI(t)
	root := repositoryRoot(t)
	keys, err := devstack.ReadAPIKeys(filepath.Join(root, "api-keys.local.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := devstack.Start(t.Context(), devstack.Options{Root: root, Runtime: devstack.RuntimeRIE, Focus: "TransactionFunction",
		LogDir: t.TempDir(), APIKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("stop the stack: %v", err)
		}
	})
	txn := filepath.Join(root, "events", "transaction", "batch.json")
	resp := filepath.Join(t.TempDir(), "response.json")
	var o invokeOutput
	aws.ok(&o, st.LambdaEndpoint, "lambda", "invoke", "--function-name", "arn:aws:lambda:us-east-1:000000000000:function:TransactionFunction",
		"--log-type", "Tail", "--payload", "fileb://"+txn, resp)
	log, err := base64.StdEncoding.DecodeString(o.LogResult)
	if err != nil || o.StatusCode != 200 || o.FunctionError != "" {
		t.Fatalf("aws lambda invoke --log-type Tail: %+v (%v)", o, err)
	}
	text := string(log)
	start, _, _ := strings.Cut(text, "\n")
	id := strings.TrimSuffix(strings.TrimPrefix(start, "START RequestId: "), " Version: $LATEST")
	if id == start || len(log) > 4096 || !strings.Contains(text, "\nEND RequestId: "+id+"\n") ||
		!strings.Contains(text, "\nREPORT RequestId: "+id+"\t") || !strings.Contains(text, "Memory Size: 256 MB") ||
		!strings.Contains(text, `"msg":"batch handled"`) || strings.Contains(text, "(rapid)") {
		t.Errorf("log tail under rie:\n%s", text)
	}
	t.Logf("log tail under rie (%d bytes):\n%s", len(log), text)
	body, _ := os.ReadFile(resp)
	if why := checkResponse("functions/transaction", "batch.json", body); why != "" {
		t.Errorf("response: %s\n%s", why, body)
	}
}
