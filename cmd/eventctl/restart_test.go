package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
)

// TestKilledStackResumes kills `eventctl local up` with SIGKILL while it is working through a
// stream, starts it again on the same data, and checks that every record ends up persisted or
// quarantined exactly once: nothing lost, nothing applied twice.
func TestKilledStackResumes(t *testing.T) {
	bin := buildEventctl(t)
	data := t.TempDir()
	records := eventgen.Generate(eventgen.Options{Events: 1500, Seed: 11})
	want := eventgen.Expect(records)

	// Batches of five keep the first stack busy long enough to be killed mid-stream.
	first := startUp(t, bin, data, "--fresh", "--parameter-overrides", "RouterBatchSize=5")
	st := waitState(t, data)
	put(t, st, records)
	db := emulators.DynamoDBClient(st.DynamoDBEndpoint)
	stored := 0
	waitFor(t, 60*time.Second, func() string { return fmt.Sprintf("%d items stored, want more than 50", stored) },
		func() bool { stored = count(t, db); return stored > 50 })
	if err := first.Process.Kill(); err != nil { // SIGKILL: no clean-up at all
		t.Fatal(err)
	}
	_ = first.Wait()
	t.Logf("killed after at least %d of %d items were written", stored, len(want.Stored)+want.QuarantinedTotal())
	if stored >= len(want.Stored)+want.QuarantinedTotal() {
		t.Fatalf("the stack finished before it was killed; slow it down")
	}
	_ = os.Remove(filepath.Join(data, "state.json"))

	second := startUp(t, bin, data, "--parameter-overrides", "RouterBatchSize=5")
	st = waitState(t, data)
	db = emulators.DynamoDBClient(st.DynamoDBEndpoint)
	total := len(want.Stored) + want.QuarantinedTotal()
	// Alone this takes about 25 s here; the bound leaves room for a loaded CI machine, and the
	// message says whether anything went to the OnFailure destination (lost to the pipeline) or was
	// still on its way.
	waitFor(t, 180*time.Second, func() string {
		return fmt.Sprintf("%d items stored, want %d; %d OnFailure records", count(t, db), total, onFailure(t, db))
	}, func() bool { return count(t, db) >= total })
	time.Sleep(time.Second) // anything applied twice would show now
	if got := count(t, db); got != total {
		t.Errorf("table holds %d event and quarantine items, want %d (%d events, %d quarantined)", got, total, len(want.Stored), want.QuarantinedTotal())
	}
	if err := second.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- second.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("local up after Ctrl-C: %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = second.Process.Kill()
		t.Error("local up did not stop within 20 s of Ctrl-C")
	}
}

// startUp starts `eventctl local up` on data with small batches, so that it takes a while.
// buildEventctl builds this command into a temporary directory for a test that runs it as a user
// would; it skips the test when GEP_SKIP_EMULATORS=1, as every such test needs the emulators.
func buildEventctl(t *testing.T) string {
	t.Helper()
	if os.Getenv("GEP_SKIP_EMULATORS") == "1" {
		t.Skip("GEP_SKIP_EMULATORS=1")
	}
	bin := filepath.Join(t.TempDir(), "eventctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build eventctl: %v\n%s", err, out)
	}
	return bin
}

func startUp(t *testing.T, bin, data string, extra ...string) *exec.Cmd {
	args := append([]string{"local", "up", "--data-dir", data}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(os.Environ(), emulators.EnvToolsDir+"="+repoRoot(t))
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if line := s.Text(); strings.Contains(line, "level=ERROR") {
				t.Log("local up:", line)
			}
		}
	}()
	return cmd
}

func repoRoot(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func waitState(t *testing.T, data string) devstack.State {
	var st devstack.State
	var err error
	waitFor(t, 60*time.Second, func() string { return fmt.Sprintf("state file of local up in %s: %v", data, err) }, func() bool {
		st, err = devstack.ReadState(data)
		return err == nil
	})
	return st
}

// waitFor polls ok every 50 ms for at most limit; on time-out it fails naming what it waited for.
func waitFor(t *testing.T, limit time.Duration, what func() string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %s: %s", limit, what())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func put(t *testing.T, st devstack.State, records []eventgen.Record) {
	k := emulators.KinesisClient(st.KinesisEndpoint)
	for start := 0; start < len(records); start += 500 {
		var entries []ktypes.PutRecordsRequestEntry
		for _, r := range records[start:min(start+500, len(records))] {
			entries = append(entries, ktypes.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)})
		}
		out, err := k.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("EventStream"), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
			t.Fatalf("PutRecords: %v", err)
		}
	}
}

// count counts the table's event and quarantine items (account states and API keys excluded).
func count(t *testing.T, db *dynamodb.Client) int {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	n := 0
	pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String("EventsTable"), Select: "COUNT",
		FilterExpression:          aws.String("sk IN (:event, :quarantine)"),
		ExpressionAttributeValues: map[string]ddbAttr{":event": &ddbS{Value: "EVENT"}, ":quarantine": &ddbS{Value: "QUARANTINE"}}})
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			return -1
		}
		n += int(p.Count)
	}
	return n
}

// onFailure counts the OnFailure records of the local stack (batches its mapping gave up on).
func onFailure(t *testing.T, db *dynamodb.Client) int {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(devstack.FailureTable), Select: "COUNT"})
	if err != nil {
		return -1
	}
	return int(out.Count)
}

type (
	ddbAttr = ddbtypes.AttributeValue
	ddbS    = ddbtypes.AttributeValueMemberS
)
