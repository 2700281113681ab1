package e2e_test

import (
	"fmt"
	"log"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

const (
	// outageLength is how long DynamoDB Local stays stopped; starting it again takes a few
	// seconds more.
	outageLength = 20 * time.Second
	// outageBeforeBound bounds the first part's way through the stack, before the outage.
	outageBeforeBound = 60 * time.Second
	// outageCaughtUp bounds the time from the last put, right after DynamoDB Local is back, to the
	// whole stream checkpointed: a failed batch waits at most 5 s (the mapping's longest backoff)
	// before its next attempt, and the stream takes seconds once the table answers.
	outageCaughtUp = 120 * time.Second

	outageSeed   = 20261111
	outageEvents = 1200 // records, invalid, duplicated and conflicting ones included
	outageParts  = 6
)

// TestDynamoDBOutage: DynamoDB stops answering in the middle of a stream, for 20 s, and comes
// back with its data. A mixed stream goes through the local stack in six parts: the first before
// the outage, the second as DynamoDB Local stops, two while it is down, two once it is back on
// the same data directory and port (the stack's clients keep their endpoint). From then on the
// test only puts and reads: the event source mapping must carry on by itself, and the table must
// hold exactly what the stream's rules say — every event once, the same quarantine, the same
// account states and flags — with nothing sent to OnFailure.
func TestDynamoDBOutage(t *testing.T) {
	ctx := t.Context()
	// Emulators of its own: DynamoDB Local kept on disk, to be stopped and started on its data;
	// and a kinesalite whose stream no other test wrote to, since the new DynamoDB has no
	// checkpoints and the mapping reads the stream from its start.
	kin, err := emulators.StartKinesis(ctx, emulators.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := kin.Stop(); err != nil {
			t.Errorf("stop kinesalite: %v", err)
		}
	})
	dataDir := t.TempDir()
	var (
		mu     sync.Mutex
		dynamo *emulators.Process // the DynamoDB Local running now, or the last one stopped
	)
	current := func() *emulators.Process { mu.Lock(); defer mu.Unlock(); return dynamo }
	if dynamo, err = emulators.StartDynamoDB(ctx, emulators.Options{DataDir: dataDir}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // Stop is idempotent: a process stopped already is not stopped again
		if err := current().Stop(); err != nil {
			t.Errorf("stop DynamoDB Local: %v", err)
		}
	})
	port, dynamoEndpoint := dynamo.Port(), dynamo.Endpoint()

	// The stack reaches both emulators through one endpoint (as `local up --endpoint` does),
	// which stays up through the outage: during it the edge answers 502 Bad Gateway for
	// DynamoDB, as a load balancer in front of a dead service does.
	ep := edge(t, kin.Endpoint(), dynamoEndpoint, nil)
	st, ran := edgeStack(t, ep, nil) // the template's settings, MaximumRetryAttempts 10 included

	records := eventgen.Generate(eventgen.Options{Events: outageEvents, Seed: outageSeed})
	want := eventgen.Expect(records)
	quarantine := expectQuarantine(records)
	if n := countTrue(quarantine); n != want.QuarantinedTotal() {
		t.Fatalf("test bug: %d records to quarantine, eventgen.Expect says %d", n, want.QuarantinedTotal())
	}
	entries := make([]kinesistypes.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		entries[i] = kinesistypes.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
	}
	shards, seqs := make([]string, len(records)), make([]string, len(records))
	partOf := func(i int) int { return i * outageParts / len(records) }
	put := func(part int) {
		lo, hi := part*len(records)/outageParts, (part+1)*len(records)/outageParts
		for k, r := range putAll(t, st, entries[lo:hi]) {
			shards[lo+k], seqs[lo+k] = aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber)
		}
	}
	sleepUntil := func(at time.Time) {
		select {
		case <-ctx.Done():
			t.Fatal("the test ended while waiting")
		case <-time.After(time.Until(at)):
		}
	}

	// The edge's reverse proxy logs, through package log, every request it cannot pass on:
	// during the outage those lines are counted instead of printed by the hundred.
	edgeErrors := &proxyErrorCounter{}
	log.SetOutput(edgeErrors)
	quiet := true
	t.Cleanup(func() {
		if quiet {
			log.SetOutput(os.Stderr)
		}
	})

	put(0)
	if _, ok := waitCaughtUp(t, st, ran, outageBeforeBound, "part 1 of 6, before the outage"); !ok {
		t.FailNow()
	}
	put(1)
	deliveredAtStop := st.Delivered()
	stopping := time.Now()
	if err := dynamo.Stop(); err != nil {
		t.Fatalf("stop DynamoDB Local: %v", err)
	}
	down := time.Now()
	t.Logf("DynamoDB Local stopped (in %s) with %d of %d records put delivered", down.Sub(stopping).Round(time.Millisecond), deliveredAtStop, 2*len(records)/outageParts)
	sleepUntil(down.Add(outageLength / 3))
	put(2)
	sleepUntil(down.Add(2 * outageLength / 3))
	put(3)
	sleepUntil(down.Add(outageLength))
	during := st.Stats()
	restarted, err := emulators.StartDynamoDB(ctx, emulators.Options{Port: port, DataDir: dataDir})
	if err != nil {
		t.Fatalf("start DynamoDB Local again on port %d and %s: %v", port, dataDir, err)
	}
	mu.Lock()
	dynamo = restarted
	mu.Unlock()
	up := time.Now()
	log.SetOutput(os.Stderr)
	quiet = false
	t.Logf("the edge answered %d DynamoDB requests 502 Bad Gateway while DynamoDB Local was down", edgeErrors.count())
	t.Logf("DynamoDB Local back on %s after %s down (%s to start); during the outage: %d invocations, %d invoke errors, %d partial failures, %d retries, %d records discarded",
		restarted.Endpoint(), up.Sub(down).Round(time.Millisecond), up.Sub(down.Add(outageLength)).Round(time.Millisecond),
		during.Invocations, during.InvokeErrors, during.PartialFailures, during.Retries, during.RecordsDiscarded)
	put(4)
	put(5)
	waited, caughtUp := waitCaughtUp(t, st, ran, outageCaughtUp, "the whole stream, after DynamoDB Local came back")
	if caughtUp {
		t.Logf("caught up %s after the last put, %s after DynamoDB Local came back (bound %s)",
			waited.Round(time.Millisecond), time.Since(up).Round(time.Millisecond), outageCaughtUp)
	}
	stats := st.Stats()
	t.Logf("event source mapping: %d batches, %d invocations, %d invoke errors, %d function errors, %d partial failures, %d retries, %d bisections, %d records discarded to OnFailure",
		stats.Batches, stats.Invocations, stats.InvokeErrors, stats.FunctionErrors, stats.PartialFailures, stats.Retries, stats.Bisections, stats.RecordsDiscarded)
	if stats.Retries == 0 && stats.InvokeErrors == 0 {
		t.Errorf("the mapping retried nothing: the outage never reached it")
	}

	// Nothing sent to OnFailure. The table is this test's own: every record in it counts.
	failures, err := st.Failures.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		b := f.Record.KinesisBatchInfo
		lost := map[int]int{}
		for i := range records {
			if shards[i] == b.ShardID && seqBetween(seqs[i], b.StartSequenceNumber, b.EndSequenceNumber) {
				lost[partOf(i)+1]++
			}
		}
		t.Errorf("OnFailure record %s (sent %s); its records by part: %v", describeFailure(f), f.Record.Timestamp, lost)
	}
	if stats.RecordsDiscarded != 0 && len(failures) == 0 {
		t.Errorf("%d records discarded, and no OnFailure record found for them", stats.RecordsDiscarded)
	}

	db := emulators.DynamoDBClient(dynamoEndpoint) // the restarted one, on the same port; not through the edge
	table := *st.Resources.Tables[0].TableName
	s := store.New(db, table)

	// Every event stored, with its content; no other event, and no record quarantined twice.
	var missing []string
	for _, e := range want.Stored {
		got, err := s.GetEvent(ctx, e.Tenant, e.ID)
		if err != nil || got.Type != string(e.Type) || got.Source != e.Source || got.AccountID != e.Data.Account() {
			missing = append(missing, fmt.Sprintf("%s/%s: %+v (%v), want the %s from %s", e.Tenant, e.ID, got, err, e.Type, e.Source))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Errorf("%d of %d events not stored as sent, e.g. %s", len(missing), len(want.Stored), strings.Join(missing[:min(3, len(missing))], "; "))
	}
	events, quarantined := scanKinds(t, db, table)
	if len(events) != len(want.Stored) {
		var extra []string
		for _, pk := range events {
			tenant, id, _ := strings.Cut(strings.TrimPrefix(pk, "EVT#"), "#")
			if want.Stored[tenant+"/"+id] == nil {
				extra = append(extra, pk)
			}
		}
		t.Errorf("%d events in the table, want %d; not in the stream: %v", len(events), len(want.Stored), extra[:min(5, len(extra))])
	}
	if quarantined != want.QuarantinedTotal() {
		t.Errorf("%d quarantine items in the table, want %d", quarantined, want.QuarantinedTotal())
	}
	var wrong []string
	for i := range records {
		items, err := quarantineItems(ctx, db, table, shards[i], seqs[i])
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case quarantine[i] && (len(items) != 1 || items[0].Code == "" || items[0].Reason == ""):
			wrong = append(wrong, fmt.Sprintf("record %d (part %d, %s): %d quarantine items, want 1 with a code and a reason", i, partOf(i)+1, seqs[i], len(items)))
		case !quarantine[i] && len(items) > 0:
			wrong = append(wrong, fmt.Sprintf("record %d (part %d, %s): quarantined (%s), want it stored or a duplicate", i, partOf(i)+1, seqs[i], items[0].Code))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d of %d records quarantined wrongly: %s", len(wrong), len(records), strings.Join(wrong[:min(5, len(wrong))], "; "))
	}
	checkStates(t, s, want)
	t.Logf("%d records: %d events stored, %d duplicates, %d quarantined %v", len(records), len(want.Stored), want.Duplicates, want.QuarantinedTotal(), want.Quarantined)
}

// expectQuarantine says which records of a one-shard stream must be quarantined, by the rules
// eventgen.Expect applies: those that do not decode, and those that reuse an earlier event's id
// with other content.
func expectQuarantine(records []eventgen.Record) []bool {
	out := make([]bool, len(records))
	first := map[string]string{} // tenant/id → fingerprint of the first event
	for i, r := range records {
		e, err := event.Decode(r.Data)
		if err != nil {
			out[i] = true
			continue
		}
		k := e.Tenant + "/" + e.ID
		if fp, seen := first[k]; !seen {
			first[k] = e.Fingerprint()
		} else if fp != e.Fingerprint() {
			out[i] = true
		}
	}
	return out
}

// proxyErrorCounter counts the reverse proxy's error lines and writes every other line to stderr.
type proxyErrorCounter struct {
	mu sync.Mutex
	n  int
}

func (c *proxyErrorCounter) Write(p []byte) (int, error) {
	if !strings.Contains(string(p), "http: proxy error") {
		return os.Stderr.Write(p)
	}
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return len(p), nil
}

func (c *proxyErrorCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// scanKinds reads the whole table and returns the keys of its event items (sk EVENT) and the
// number of its quarantine items (sk QUARANTINE); see internal/store keys.go.
func scanKinds(t *testing.T, db *dynamodb.Client, table string) (events []string, quarantined int) {
	t.Helper()
	pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ProjectionExpression: aws.String("pk, sk"), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(t.Context())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, item := range page.Items {
			var k struct {
				PK string `dynamodbav:"pk"`
				SK string `dynamodbav:"sk"`
			}
			if err := attributevalue.UnmarshalMap(item, &k); err != nil {
				t.Fatal(err)
			}
			switch k.SK {
			case "EVENT":
				events = append(events, k.PK)
			case "QUARANTINE":
				quarantined++
			}
		}
	}
	return events, quarantined
}

// checkStates checks every account's state and every transaction's flag against the oracle: every
// stored event's change applied, in any order, and each transaction flagged from the final state
// at its time. It returns how many accounts changed and how many transactions are flagged.
func checkStates(t *testing.T, s *store.Store, want eventgen.Expected) (changed, flagged int) {
	t.Helper()
	states := map[typefn.AccountKey]*account.State{}
	for _, e := range want.Stored {
		if c := account.ChangeOf(e); c != nil {
			k := typefn.KeyOf(e)
			if states[k] == nil {
				states[k] = &account.State{}
			}
			states[k].Apply(c)
		}
	}
	keys := make([]typefn.AccountKey, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	got, err := s.States(t.Context(), keys)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range states {
		g := got[k]
		slices.Sort(g.FreezeLog)
		slices.Sort(g.MonitorLevels)
		if !slices.Equal(g.FreezeLog, w.FreezeLog) || !slices.Equal(g.MonitorLevels, w.MonitorLevels) {
			t.Errorf("account %s/%s: state %+v, want %+v", k.Tenant, k.Account, g, *w)
		}
	}
	for _, e := range want.Stored {
		txn, ok := e.Data.(*event.Transaction)
		if !ok {
			continue
		}
		wantFlag := ""
		if st := states[typefn.KeyOf(e)]; st != nil {
			wantFlag = st.BlockedBy(txn, e.Time)
		}
		stored, err := s.GetEvent(t.Context(), e.Tenant, e.ID)
		if err != nil {
			continue // reported with the events
		}
		if stored.BlockedBy != wantFlag {
			t.Errorf("transaction %s/%s: blockedBy %q, want %q", e.Tenant, e.ID, stored.BlockedBy, wantFlag)
		}
		if wantFlag != "" {
			flagged++
		}
	}
	return len(states), flagged
}
