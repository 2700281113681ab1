package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// TestInvokeOnRunningStack: `eventctl invoke --stack` runs a function against the running `local
// up`: the query function's sample answers 404 before its event was sent and 200 after (under
// both runtimes), and a router invocation reaches the stack's type functions and table.
func TestInvokeOnRunningStack(t *testing.T) {
	bin := buildEventctl(t)
	root := repoRoot(t)
	data := t.TempDir()
	up := startUp(t, bin, data, "--fresh")
	st := waitState(t, data)
	invoke := func(args ...string) (stdout string, code int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"invoke"}, append(args, "--stack", "--data-dir", data)...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), emulators.EnvToolsDir+"="+root)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("eventctl invoke %s: %v", strings.Join(args, " "), err)
		}
		if exit != nil {
			code = exit.ExitCode()
		}
		if code != 0 {
			t.Logf("eventctl invoke %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String(), code
	}
	queryStatus := func(runtime string) int {
		t.Helper()
		out, code := invoke("QueryFunction", "-e", filepath.Join(root, "events", "query", "event.json"), "--runtime", runtime)
		var resp events.APIGatewayProxyResponse
		if code != 0 || json.Unmarshal([]byte(out), &resp) != nil {
			t.Fatalf("invoke QueryFunction --stack --runtime %s: exit %d, output %q", runtime, code, out)
		}
		if resp.StatusCode == 200 && !strings.Contains(resp.Body, `"evt-txn-0001"`) {
			t.Errorf("the query function answered 200 without the event: %s", resp.Body)
		}
		return resp.StatusCode
	}
	if got := queryStatus("inproc"); got != 404 {
		t.Errorf("before the event was sent, the query sample answered %d, want 404", got)
	}

	// The transaction sample on the stack's stream; the stack's mapping stores it.
	raw, err := os.ReadFile(filepath.Join(root, "events", "transaction", "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var batch typefn.Batch
	if err := json.Unmarshal(raw, &batch); err != nil {
		t.Fatal(err)
	}
	var entries []ktypes.PutRecordsRequestEntry
	for _, r := range batch.Records {
		e, err := event.Decode(r.Event)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, ktypes.PutRecordsRequestEntry{Data: r.Event, PartitionKey: aws.String(e.Data.Account())})
	}
	if _, err := emulators.KinesisClient(st.KinesisEndpoint).PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("EventStream"), Records: entries}); err != nil {
		t.Fatal(err)
	}
	s := store.New(emulators.DynamoDBClient(st.DynamoDBEndpoint), "EventsTable")
	waitFor(t, 60*time.Second, func() string { return "evt-txn-0001 stored by the stack" }, func() bool {
		_, err := s.GetEvent(t.Context(), "examplebank", "evt-txn-0001")
		return err == nil
	})
	for _, runtime := range []string{"inproc", "rie"} {
		if got := queryStatus(runtime); got != 200 {
			t.Errorf("--runtime %s: after the event was sent, the query sample answered %d, want 200", runtime, got)
		}
	}

	// The router's sample: its records reach the stack's type functions, which store them in the
	// stack's table.
	out, code := invoke("RouterFunction", "-e", filepath.Join(root, "events", "router", "kinesis.json"), "--runtime", "inproc")
	var resp events.KinesisEventResponse
	if code != 0 || json.Unmarshal([]byte(out), &resp) != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("invoke RouterFunction --stack: exit %d, output %q", code, out)
	}
	if _, err := s.GetEvent(t.Context(), "examplebank", "evt-check-0001"); err != nil {
		t.Errorf("the router's sample event is not in the stack's table: %v", err)
	}

	// No stack: said at once, with a non-zero exit.
	_ = up.Process.Signal(syscall.SIGINT)
	_ = up.Wait()
	if _, code := invoke("QueryFunction", "-e", filepath.Join(root, "events", "query", "event.json"), "--runtime", "inproc"); code == 0 {
		t.Error("invoke --stack succeeded with no stack running")
	}
}
