package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/gen"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/store"
)

// edge serves Kinesis and DynamoDB on one endpoint, as LocalStack's edge port does: each request
// goes to the emulator its X-Amz-Target names.
func edge(t *testing.T, kinesisURL, dynamoURL string) *httptest.Server {
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
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		if !strings.HasPrefix(target, "Kinesis_") && !strings.HasPrefix(target, "DynamoDB_") {
			http.Error(w, "the edge serves Kinesis and DynamoDB only, not "+target, http.StatusBadRequest)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
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

	records := gen.Generate(gen.Options{Events: 400, Seed: 8})
	want := gen.Expect(records)
	entries := make([]kinesistypes.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		entries[i] = kinesistypes.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
	}
	stream := st.Resources.Streams[0].Name
	out, err := st.Kinesis.PutRecords(t.Context(), &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
	if err != nil || aws.ToInt32(out.FailedRecordCount) > 0 {
		t.Fatalf("put %d records on %s through the edge: %v", len(records), stream, err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if ok, err := st.CaughtUp(t.Context()); err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stack had not checkpointed every record after 90 s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	s := store.New(st.DynamoDB, *st.Resources.Tables[0].TableName)
	perType := map[[2]string]int{}
	for _, e := range want.Stored {
		perType[[2]string{e.Tenant, string(e.Type)}]++
	}
	for key, n := range perType {
		got, err := s.AllTypeEvents(t.Context(), key[0], event.Type(key[1]))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Errorf("tenant %s, %s: %d events stored, want %d", key[0], key[1], len(got), n)
		}
	}
	q, err := s.QuarantinedBetween(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != want.QuarantinedTotal() {
		t.Errorf("%d records quarantined, want %d", len(q), want.QuarantinedTotal())
	}
}
