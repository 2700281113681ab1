package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/gen"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/store"
)

// edgeServer serves Kinesis and DynamoDB on one endpoint, as LocalStack's edge port does: each
// request goes to the emulator its X-Amz-Target names. It counts the requests by target.
type edgeServer struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int // X-Amz-Target → requests
}

// count returns how many requests named target went through.
func (e *edgeServer) count(target string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[target]
}

func edge(t *testing.T, kinesisURL, dynamoURL string) *edgeServer {
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
		e.mu.Lock()
		e.counts[target]++
		e.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(e.Close)
	return e
}

// TestStackOnOneEndpoint runs `eventctl local up --endpoint URL`'s path: the stack creates the
// template's stream and table behind one endpoint it did not start (LocalStack's edge, here a
// proxy to the emulators), runs the functions and event source mapping itself, and a mixed stream
// ends up persisted and quarantined exactly as the rules say.
func TestStackOnOneEndpoint(t *testing.T) {
	emu := emutest.Start(t)
	ep := edge(t, emu.KinesisEndpoint, emu.DynamoDBEndpoint)
	st, err := devstack.Start(t.Context(), devstack.Options{Root: repositoryRoot(t), Endpoint: ep.URL, Mappings: true, LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- st.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ran
		if err := st.Stop(); err != nil {
			t.Errorf("stop the stack: %v", err)
		}
	})
	if st.KinesisEndpoint != ep.URL || st.DynamoDBEndpoint != ep.URL {
		t.Fatalf("stack uses Kinesis %s and DynamoDB %s, want both at %s", st.KinesisEndpoint, st.DynamoDBEndpoint, ep.URL)
	}

	// A new stream on every run: the emulators, and so the stack's fixed-name stream and table,
	// are shared by the package's tests and by repeated runs (-count=2).
	records := gen.Generate(gen.Options{Events: 400, Seed: uint64(time.Now().UnixNano())})
	want := gen.Expect(records)
	entries := make([]kinesistypes.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		entries[i] = kinesistypes.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
	}
	stream := st.Resources.Streams[0].Name
	out, err := st.Kinesis.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil {
		t.Fatalf("put %d records on %s through the edge: %v", len(records), stream, err)
	}
	if n := aws.ToInt32(out.FailedRecordCount); n > 0 {
		t.Fatalf("put %d records on %s through the edge: %d refused", len(records), stream, n)
	}
	// This run's sequence numbers, to tell its quarantined records from an earlier run's.
	ours := map[string]bool{}
	for _, r := range out.Records {
		ours[aws.ToString(r.SequenceNumber)] = true
	}
	deadline := time.After(90 * time.Second)
	for caughtUp := false; !caughtUp; {
		select {
		case err := <-ran:
			t.Fatalf("the event source mappings stopped: %v", err)
		case <-deadline:
			t.Fatal("the stack had not checkpointed every record after 90 s")
		case <-time.After(100 * time.Millisecond):
			caughtUp, _ = st.CaughtUp(t.Context())
		}
	}

	s := store.New(st.DynamoDB, *st.Resources.Tables[0].TableName)
	for _, e := range want.Stored {
		got, err := s.GetEvent(t.Context(), e.Tenant, e.ID)
		if err != nil || got.Type != string(e.Type) {
			t.Errorf("event %s/%s: %+v (%v), want a stored %s", e.Tenant, e.ID, got, err, e.Type)
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
	// The pipeline's own traffic went through the edge, not around it.
	for _, target := range []string{"Kinesis_20131202.GetRecords", "DynamoDB_20120810.TransactWriteItems", "DynamoDB_20120810.BatchWriteItem"} {
		if ep.count(target) == 0 {
			t.Errorf("no %s request went through the edge", target)
		}
	}
}
