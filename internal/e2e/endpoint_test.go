package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// fault is what the edge does to one request instead of passing it on.
type fault int

const (
	noFault     fault = iota
	failBefore        // answer 500 without passing the request on
	failAfter         // pass it on, drop the emulator's answer, answer 500: applied, but the caller cannot know
	faultsCount       // the number of kinds, for counting
)

// edgeServer serves Kinesis and DynamoDB on one endpoint, as LocalStack's edge port does: each
// request goes to the emulator its X-Amz-Target names. It counts the requests by target, and
// injects the faults its fault function picks.
type edgeServer struct {
	*httptest.Server
	mu       sync.Mutex
	counts   map[string]int // X-Amz-Target → requests
	injected [faultsCount]int
}

// count returns how many requests named target went through.
func (e *edgeServer) count(target string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[target]
}

// faults returns how many requests got each fault.
func (e *edgeServer) faults() [faultsCount]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.injected
}

// edge starts the edge; pick (nil for none) chooses each request's fault from its target and the
// DynamoDB table it names, under the edge's lock.
func edge(t *testing.T, kinesisURL, dynamoURL string, pick func(target, table string) fault) *edgeServer {
	targets := map[string]*url.URL{}
	for prefix, raw := range map[string]string{"Kinesis_": kinesisURL, "DynamoDB_": dynamoURL} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		targets[prefix] = u
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		for prefix, u := range targets {
			if strings.HasPrefix(r.In.Header.Get("X-Amz-Target"), prefix) {
				r.SetURL(u)
				return
			}
		}
	}}
	e := &edgeServer{counts: map[string]int{}}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		if !strings.HasPrefix(target, "Kinesis_") && !strings.HasPrefix(target, "DynamoDB_") {
			http.Error(w, "the edge serves Kinesis and DynamoDB only, not "+target, http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		e.mu.Lock()
		e.counts[target]++
		f := noFault
		if pick != nil {
			f = pick(target, tableOf(body))
		}
		e.injected[f]++
		e.mu.Unlock()
		switch f {
		case failAfter:
			proxy.ServeHTTP(httptest.NewRecorder(), r)
			fallthrough
		case failBefore:
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected by the test's edge"}`))
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(e.Close)
	return e
}

// tableOf is the DynamoDB table a request names (TableName, or the first of a batch's tables).
func tableOf(body []byte) string {
	var req struct {
		TableName    string
		RequestItems map[string]json.RawMessage
	}
	if json.Unmarshal(body, &req) != nil {
		return ""
	}
	for name := range req.RequestItems {
		return name
	}
	return req.TableName
}

// edgeStack starts the local stack on the edge, as `local up --endpoint` does, with the template
// parameters given and its event source mappings running; ran yields their end.
func edgeStack(t *testing.T, ep *edgeServer, params map[string]string) (st *devstack.Stack, ran <-chan error) {
	st, done := runStack(t, devstack.Options{Root: repositoryRoot(t), Endpoint: ep.URL, Mappings: true,
		LogDir: t.TempDir(), Parameters: params})
	if st.KinesisEndpoint != ep.URL || st.DynamoDBEndpoint != ep.URL {
		t.Fatalf("stack uses Kinesis %s and DynamoDB %s, want both at %s", st.KinesisEndpoint, st.DynamoDBEndpoint, ep.URL)
	}
	return st, done
}

// runStack starts a local stack with opts and runs it (its event source mappings, when
// opts.Mappings) until the test ends; ran yields the end of Run.
func runStack(t *testing.T, opts devstack.Options) (st *devstack.Stack, ran <-chan error) {
	t.Helper()
	st, err := devstack.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if err := st.Stop(); err != nil {
			t.Errorf("stop the stack: %v", err)
		}
	})
	return st, done
}

// sendAndDrain puts a generated stream and waits (bounded) until the stack has checkpointed all
// of it. It returns what the stream must leave and this run's sequence numbers: the emulators,
// and so the stack's fixed-name stream and table, are shared by the package's tests and by
// repeated runs, so each run sends a new stream (a seed of its own unless opts has one).
func sendAndDrain(t *testing.T, st *devstack.Stack, ran <-chan error, opts eventgen.Options, limit time.Duration) (eventgen.Expected, map[string]bool) {
	if opts.Seed == 0 {
		opts.Seed = uint64(time.Now().UnixNano())
	}
	records := eventgen.Generate(opts)
	entries := make([]kinesistypes.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		entries[i] = kinesistypes.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
	}
	stream := st.Resources.Streams[0].Name
	ours := map[string]bool{}
	for start := 0; start < len(entries); start += 500 { // PutRecords takes 500 at most
		batch := entries[start:min(start+500, len(entries))]
		out, err := st.Kinesis.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: batch})
		if err != nil {
			t.Fatalf("put %d records on %s: %v", len(batch), stream, err)
		}
		if n := aws.ToInt32(out.FailedRecordCount); n > 0 {
			t.Fatalf("put %d records on %s: %d refused", len(batch), stream, n)
		}
		for _, r := range out.Records {
			ours[aws.ToString(r.SequenceNumber)] = true
		}
	}
	deadline := time.After(limit)
	for caughtUp := false; !caughtUp; {
		select {
		case err := <-ran:
			t.Fatalf("the event source mappings stopped: %v", err)
		case <-deadline:
			t.Fatalf("the stack had not checkpointed every record after %s", limit)
		case <-time.After(100 * time.Millisecond):
			caughtUp, _ = st.CaughtUp(t.Context())
		}
	}
	return eventgen.Expect(records), ours
}

// checkStored checks that every event the stream must leave is stored, and that exactly its
// records that can never succeed are quarantined.
func checkStored(t *testing.T, s *store.Store, want eventgen.Expected, ours map[string]bool) {
	t.Helper()
	for _, e := range want.Stored {
		got, err := s.GetEvent(t.Context(), e.Tenant, e.ID)
		// Source too: a conflicting copy of an event has its id and type, and another source.
		if err != nil || got.Type != string(e.Type) || got.Source != e.Source || got.AccountID != e.Data.Account() {
			t.Errorf("event %s/%s: %+v (%v), want the %s from %s", e.Tenant, e.ID, got, err, e.Type, e.Source)
		}
	}
	q, err := s.QuarantinedBetween(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	quarantined := 0
	for _, r := range q {
		if ours[r.SequenceNumber] {
			quarantined++
		}
	}
	if quarantined != want.QuarantinedTotal() {
		t.Errorf("%d records quarantined, want %d", quarantined, want.QuarantinedTotal())
	}
	checkFeeds(t, s, want)
}

// checkFeeds reads every tenant's feed from the beginning to the end: each stored event is in it
// exactly once, however often its record was retried, and reading it again from the start gives
// the same events in the same order.
func checkFeeds(t *testing.T, s *store.Store, want eventgen.Expected) {
	t.Helper()
	tenants := map[string]bool{}
	for _, e := range want.Stored {
		tenants[e.Tenant] = true
	}
	for tenant := range tenants {
		var order []string
		for _, limit := range []int{1000, 37} { // whole pages, then pages that end inside feed items
			seen := map[string]int{}
			var ids []string
			q := store.FeedQuery{Limit: limit}
			for pages := 0; ; pages++ {
				if pages > 10000 {
					t.Fatalf("feed of %s: no end after %d pages", tenant, pages)
				}
				page, err := s.Feed(t.Context(), tenant, q)
				if err != nil {
					t.Fatalf("feed of %s: %v", tenant, err)
				}
				for _, e := range page.Events {
					seen[e.ID]++
					ids = append(ids, e.ID)
				}
				if page.CaughtUp {
					break
				}
				q.After = page.Position
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("feed of %s: event %s %d times", tenant, id, n)
				}
			}
			for _, e := range want.Stored {
				if e.Tenant == tenant && seen[e.ID] != 1 {
					t.Errorf("feed of %s: event %s %d times, want once", tenant, e.ID, seen[e.ID])
				}
			}
			if order == nil {
				order = ids
			} else if !slices.Equal(order, ids) {
				t.Errorf("feed of %s read in pages of %d: %d events in another order than in pages of 1,000 (%d)", tenant, limit, len(ids), len(order))
			}
		}
	}
}

// TestStackOnOneEndpoint runs `eventctl local up --endpoint URL`'s path: the stack creates the
// template's stream and table behind one endpoint it did not start (LocalStack's edge, here a
// proxy to the emulators), runs the functions and event source mapping itself, and a mixed stream
// ends up persisted and quarantined exactly as the rules say.
func TestStackOnOneEndpoint(t *testing.T) {
	emu := emutest.Start(t)
	ep := edge(t, emu.KinesisEndpoint, emu.DynamoDBEndpoint, nil)
	st, ran := edgeStack(t, ep, nil)
	want, ours := sendAndDrain(t, st, ran, eventgen.Options{Events: 400}, 90*time.Second)
	checkStored(t, store.New(st.DynamoDB, *st.Resources.Tables[0].TableName), want, ours)
	// The pipeline's own traffic went through the edge, not around it.
	for _, target := range []string{"Kinesis_20131202.GetRecords", "DynamoDB_20120810.PutItem", "DynamoDB_20120810.BatchWriteItem"} {
		if ep.count(target) == 0 {
			t.Errorf("no %s request went through the edge", target)
		}
	}
}
