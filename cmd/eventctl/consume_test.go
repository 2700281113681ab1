package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/producer"
)

// TestConsumeOnTheStack is the "done when", through the CLI on `local up`: after `send`
// of events for two tenants, `consume --name ledger --key local-bank-a-key --from start -o
// ndjson` prints each of bank-a's stored events once and exits 0; run again it prints nothing;
// after more events (one with an old event time among them) it prints exactly the new ones. Then
// a consumer killed after its handler printed a page but before its checkpoint was stored reads
// at most that page again, and one killed anywhere, again and again, misses nothing.
func TestConsumeOnTheStack(t *testing.T) {
	bin := buildEventctl(t)
	data := t.TempDir()
	startUp(t, bin, data, "--fresh")
	st := waitState(t, data)
	env := append(os.Environ(), "AWS_ENDPOINT_URL_KINESIS="+st.KinesisEndpoint, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "GEP_DATA_DIR="+data)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("eventctl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return string(out)
	}
	ids := func(ndjson string) []string {
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(ndjson), "\n") {
			if line == "" {
				continue
			}
			var e struct{ ID string }
			if err := json.Unmarshal([]byte(line), &e); err != nil || e.ID == "" {
				t.Fatalf("an ndjson line without an id: %q (%v)", line, err)
			}
			out = append(out, e.ID)
		}
		return out
	}
	s := store.New(emulators.DynamoDBClient(st.DynamoDBEndpoint), "EventsTable")
	storedIDs := func() []string {
		var all []string
		for _, typ := range event.Types {
			events, err := s.AllTypeEvents(t.Context(), "bank-a", typ)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range events {
				all = append(all, e.ID)
			}
		}
		return all
	}
	waitStored := func(n int) {
		t.Helper()
		var got int
		waitFor(t, 120*time.Second, func() string { return fmt.Sprintf("%d of %d bank-a events in the feed", got, n) }, func() bool {
			got = len(storedIDs())
			return got >= n
		})
	}
	bankA := func(opts eventgen.Options) []string {
		var out []string
		for _, e := range eventgen.Expect(eventgen.Generate(opts)).Stored {
			if e.Tenant == "bank-a" {
				out = append(out, e.ID)
			}
		}
		return out
	}

	first := eventgen.Options{Events: 500, Accounts: 20, Seed: 41, Tenants: []string{"bank-a", "bank-b"}}
	run("send", "--generate", "500", "--accounts", "20", "--seed", "41", "--tenants", "bank-a,bank-b")
	want := bankA(first)
	waitStored(len(want))
	consume := []string{"consume", "--name", "ledger", "--key", "local-bank-a-key", "--from", "start", "-o", "ndjson"}
	got := ids(run(consume...))
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("consume printed %d events (%d distinct), want bank-a's %d stored events, each once", len(got), len(distinctIDs(got)), len(want))
	}
	if again := ids(run(consume...)); len(again) != 0 {
		t.Errorf("consume again printed %d events, want none", len(again))
	}

	// More events, one of them a day older than everything sent so far.
	amount := int64(990)
	late, err := producer.Transaction("bank-a", "urn:bank:authorizer", time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC), event.Transaction{
		TransactionID: uuid.NewString(), AccountID: "acc-late", CustomerID: "cus-late", Amount: &amount,
		Currency: "EUR", Direction: event.ActionDebit, Channel: event.ActionCard})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(late)
	lateFile := filepath.Join(t.TempDir(), "late.json")
	if err := os.WriteFile(lateFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	second := eventgen.Options{Events: 120, Accounts: 20, Seed: 42, Tenants: []string{"bank-a", "bank-b"}}
	run("send", "--generate", "120", "--accounts", "20", "--seed", "42", "--tenants", "bank-a,bank-b")
	run("send", lateFile)
	added := append(bankA(second), late.ID)
	waitStored(len(want) + len(added))
	if got := ids(run(consume...)); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(added))) {
		t.Errorf("consume after more events printed %d (%d distinct), want exactly the %d new ones", len(got), len(distinctIDs(got)), len(added))
	}
	all := storedIDs()

	// Killed after its handler printed a page, before the checkpoint was stored: a proxy in
	// front of the query API holds the first checkpoint of a page until the process is killed.
	api, _ := url.Parse(st.APIEndpoints["QueryApi"])
	var held atomic.Int32
	arrived := make(chan struct{}, 1)
	proxy := httputil.NewSingleHostReverseProxy(api)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/checkpoint") && strings.Contains(readBody(r), `"position"`) && held.Add(1) == 1 {
			arrived <- struct{}{}
			<-r.Context().Done() // the client is gone
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	audit := []string{"consume", "--name", "audit", "--key", "local-bank-a-key", "-o", "ndjson"}
	cmd := exec.Command(bin, append(audit, "--api", front.URL)...)
	cmd.Env = env
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	printed := make(chan []string, 1)
	go func() {
		b, _ := io.ReadAll(stdout)
		printed <- ids(string(b))
	}()
	select {
	case <-arrived:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the consumer never checkpointed")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	page := <-printed
	if len(page) == 0 {
		t.Fatal("the killed consumer printed nothing before its checkpoint")
	}
	rest := ids(run(audit...))
	if len(rest) < len(page) || !slices.Equal(rest[:len(page)], page) {
		t.Errorf("after a kill before the checkpoint: the next run began with %d events, want the %d of the page printed before", len(rest), len(page))
	}
	if reread := len(page) + len(rest) - len(all); reread > len(page) {
		t.Errorf("after a kill before the checkpoint, %d events were read again, more than the page of %d", reread, len(page))
	}
	if !slices.Equal(distinctIDs(append(page, rest...)), distinctIDs(all)) {
		t.Errorf("killed and restarted: %d distinct events read, want %d", len(distinctIDs(append(page, rest...))), len(all))
	}

	// Killed anywhere, over and over, while following: nothing is missed.
	var seen []string
	follow := []string{"consume", "--name", "restarts", "--key", "local-bank-a-key", "-o", "ndjson", "--follow"}
	for i := range 5 {
		cmd := exec.Command(bin, follow...)
		cmd.Env = env
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []string, 1)
		go func() {
			var got []string
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			for sc.Scan() {
				got = append(got, ids(sc.Text())...)
			}
			lines <- got
		}()
		time.Sleep(time.Duration(150+i*120) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		seen = append(seen, <-lines...)
	}
	seen = append(seen, ids(run("consume", "--name", "restarts", "--key", "local-bank-a-key", "-o", "ndjson"))...)
	if !slices.Equal(distinctIDs(seen), distinctIDs(all)) {
		t.Errorf("killed five times and restarted: %d distinct events read, want the %d stored", len(distinctIDs(seen)), len(all))
	}
	t.Logf("killed five times: %d events printed for %d stored", len(seen), len(all))
	var listed []struct {
		Name      string
		LagEvents int64
	}
	if err := json.Unmarshal([]byte(run("consumers", "--key", "local-bank-a-key", "-o", "json")), &listed); err != nil || len(listed) != 3 {
		t.Errorf("consumers: %+v (%v), want ledger, audit and restarts", listed, err)
	}
	for _, c := range listed {
		if c.LagEvents != 0 {
			t.Errorf("consumer %s: lag %d, want 0", c.Name, c.LagEvents)
		}
	}
	if out := run("consumers", "--key", "local-bank-b-key", "-o", "json"); strings.Contains(out, "audit") {
		t.Errorf("bank-b's consumers list bank-a's: %s", out)
	}
}

// readBody reads a request's body and puts it back for the proxy.
func readBody(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(b)))
	return string(b)
}

func distinctIDs(ids []string) []string { return slices.Compact(slices.Sorted(slices.Values(ids))) }
