package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

// TestForcedRedriveTwice runs `eventctl redrive --force` twice on a running stack whose pipeline
// quarantined records that still fail: the first sends each once and the pipeline quarantines it
// again as a copy; the second sends nothing and the quarantine holds as many items as after the
// first.
func TestForcedRedriveTwice(t *testing.T) {
	bin := buildEventctl(t)
	data := t.TempDir()
	up := startUp(t, bin, data, "--fresh")
	st := waitState(t, data)
	db := emulators.DynamoDBClient(st.DynamoDBEndpoint)
	bad := [][]byte{[]byte(`{"broken`), []byte(`{"specversion":"1.0","id":"evt-redrive-1","type":"transaction"}`), []byte(`not an event at all`)}
	var entries []ktypes.PutRecordsRequestEntry
	for i, d := range bad {
		entries = append(entries, ktypes.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String(fmt.Sprintf("acc-%d", i))})
	}
	if _, err := emulators.KinesisClient(st.KinesisEndpoint).PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String("EventStream"), Records: entries}); err != nil {
		t.Fatal(err)
	}
	rows := func() (total, copies int) {
		pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String("EventsTable"), ConsistentRead: aws.Bool(true),
			FilterExpression: aws.String("sk = :q"), ExpressionAttributeValues: map[string]ddbAttr{":q": &ddbS{Value: "QUARANTINE"}}})
		for pages.HasMorePages() {
			p, err := pages.NextPage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, item := range p.Items {
				total++
				if _, ok := item["redrivenFromSequence"]; ok {
					copies++
				}
			}
		}
		return total, copies
	}
	waitRows := func(want int) {
		t.Helper()
		var n int
		waitFor(t, 60*time.Second, func() string { return fmt.Sprintf("%d quarantine items, want %d", n, want) }, func() bool {
			n, _ = rows()
			return n >= want
		})
	}
	waitRows(len(bad))
	redrive := func() string {
		t.Helper()
		cmd := exec.Command(bin, "redrive", "--force", "--quarantine", "--data-dir", data)
		cmd.Env = append(os.Environ(), emulators.EnvToolsDir+"="+repoRoot(t))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("eventctl redrive --force: %v\n%s", err, out)
		}
		return string(out)
	}
	first := redrive()
	if !strings.Contains(first, fmt.Sprintf("quarantine: %d records redriven", len(bad))) {
		t.Errorf("first forced redrive:\n%s", first)
	}
	waitRows(2 * len(bad))
	second := redrive()
	if !strings.Contains(second, "quarantine: 0 records redriven") || !strings.Contains(second, fmt.Sprintf("%d quarantine items are redrive copies", len(bad))) {
		t.Errorf("second forced redrive:\n%s", second)
	}
	time.Sleep(2 * time.Second) // anything the second one sent would be quarantined by now
	if n, copies := rows(); n != 2*len(bad) || copies != len(bad) {
		t.Errorf("after two forced redrives: %d quarantine items (%d marked as copies), want %d (%d copies)", n, copies, 2*len(bad), len(bad))
	}
	t.Logf("first:\n%ssecond:\n%s", first, second)
	_ = up.Process.Signal(syscall.SIGINT)
	_ = up.Wait()
}
