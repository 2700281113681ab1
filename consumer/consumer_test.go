package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
)

func TestNewChecksConfig(t *testing.T) {
	good := Config{Endpoint: "http://127.0.0.1:3000", Key: "k", Name: "ledger.v2_a-1"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // in the error
	}{
		{"no endpoint", func(c *Config) { c.Endpoint = "" }, "endpoint"},
		{"endpoint without scheme", func(c *Config) { c.Endpoint = "127.0.0.1:3000" }, "endpoint"},
		{"endpoint with a query", func(c *Config) { c.Endpoint = "http://h/Prod?x=1" }, "endpoint"},
		{"no key", func(c *Config) { c.Key = "" }, "API key"},
		{"key with a line break", func(c *Config) { c.Key = "a\nb" }, "line break"},
		{"no name", func(c *Config) { c.Name = "" }, "name"},
		{"name with a slash", func(c *Config) { c.Name = "a/b" }, "name"},
		{"name with a space", func(c *Config) { c.Name = "a b" }, "name"},
		{"name too long", func(c *Config) { c.Name = strings.Repeat("a", MaxNameLength+1) }, "name"},
		{"unknown type", func(c *Config) { c.Types = []event.Type{"transfer"} }, `type "transfer"`},
		{"page size too big", func(c *Config) { c.PageSize = MaxPageSize + 1 }, "page size"},
		{"negative page size", func(c *Config) { c.PageSize = -1 }, "page size"},
		{"negative poll interval", func(c *Config) { c.PollInterval = -time.Second }, "poll interval"},
		{"negative backoff", func(c *Config) { c.MaxBackoff = -time.Second }, "backoff"},
		{"negative retry timeout", func(c *Config) { c.RetryTimeout = -time.Second }, "retry timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error naming %s", err, tc.want)
			}
		})
	}

	c, err := New(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.PageSize != DefaultPageSize || c.cfg.PollInterval != DefaultPollInterval || c.api.maxBackoff != DefaultMaxBackoff ||
		c.api.retryFor != DefaultRetryTimeout || c.api.http == nil || c.api.http.Timeout != DefaultHTTPTimeout {
		t.Errorf("defaults not filled in: %+v, client %+v", c.cfg, c.api)
	}
	if _, err := New(Config{Endpoint: "https://abc.execute-api.eu-west-1.amazonaws.com/v1/", Key: "k",
		Name: strings.Repeat("a", MaxNameLength), Types: event.Types, PageSize: MaxPageSize}); err != nil {
		t.Errorf("New with every type, the longest name and the largest page: %v", err)
	}
}

func TestStart(t *testing.T) {
	at := time.Date(2026, 11, 10, 23, 0, 0, 500, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		in   string
		want Start
		str  string
	}{
		{"start", Beginning, "start"},
		{"beginning", Beginning, "start"},
		{"now", Now, "now"},
		{"2026-11-10T23:00:00.0000005+01:00", At(at), "2026-11-10T22:00:00.0000005Z"},
	} {
		got, err := ParseStart(tc.in)
		if err != nil || !got.at.Equal(tc.want.at) || got.now != tc.want.now || got.String() != tc.str {
			t.Errorf("ParseStart(%q) = %v (%s), %v; want %s", tc.in, got, got, err, tc.str)
		}
	}
	if _, err := ParseStart("yesterday"); err == nil {
		t.Error("ParseStart(yesterday): no error")
	}
	if (Start{}) != Beginning || At(time.Time{}) != Beginning {
		t.Error("the zero Start, or At the zero time, is not Beginning")
	}
}

func TestTransient(t *testing.T) {
	for status, want := range map[int]bool{400: false, 401: false, 403: false, 404: false, 409: false, 413: false,
		408: true, 429: true, 500: true, 502: true, 503: true, 504: true} {
		if transient(status) != want {
			t.Errorf("transient(%d) = %v", status, !want)
		}
	}
}

func TestAnswerError(t *testing.T) {
	for _, tc := range []struct {
		body string
		want APIError
		text string
	}{
		{`{"error":{"code":"bad_parameter","message":"must be 1 to 1000","parameter":"limit"}}`,
			APIError{Code: "bad_parameter", Message: "must be 1 to 1000", Parameter: "limit"},
			"GET /feed: 400 bad_parameter: limit: must be 1 to 1000"},
		{`{"message":"Unauthorized"}`, APIError{Message: "Unauthorized"}, "GET /feed: 400: Unauthorized"},
		{"upstream connect error\n", APIError{Message: "upstream connect error"}, "GET /feed: 400: upstream connect error"},
		{"", APIError{Message: "Bad Request"}, "GET /feed: 400: Bad Request"},
	} {
		got := answerError("GET /feed", 400, []byte(tc.body))
		tc.want.Request, tc.want.Status = "GET /feed", 400
		if *got != tc.want || got.Error() != tc.text {
			t.Errorf("answerError(%q) = %+v %q, want %+v %q", tc.body, *got, got, tc.want, tc.text)
		}
	}
}

func TestCheckpointJSON(t *testing.T) {
	in := `{"name":"ledger","position":"p3","createdAt":"2026-11-10T23:00:00Z","movedAt":"","lagEvents":7,"lagSeconds":1.5}`
	var c Checkpoint
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	want := Checkpoint{Name: "ledger", Position: "p3", CreatedAt: time.Date(2026, 11, 10, 23, 0, 0, 0, time.UTC), LagEvents: 7, LagSeconds: 1.5}
	if !c.CreatedAt.Equal(want.CreatedAt) || c.Name != want.Name || c.Position != want.Position || !c.MovedAt.IsZero() ||
		c.LagEvents != want.LagEvents || c.LagSeconds != want.LagSeconds {
		t.Errorf("decoded %+v, want %+v", c, want)
	}
	out, _ := json.Marshal(c)
	if string(out) != in {
		t.Errorf("encoded %s, want %s", out, in)
	}
	if err := json.Unmarshal([]byte(`{"name":"x","movedAt":"yesterday"}`), &c); err == nil || !strings.Contains(err.Error(), "movedAt") {
		t.Errorf("a bad time: %v", err)
	}
}

// fakeAPI serves the consumer endpoints of the query API in memory, as the contract in
// docs/design.md says, over events whose position is how many events it is past ("p<n>").
type fakeAPI struct {
	t      *testing.T
	mu     sync.Mutex
	events []Event
	stored map[string]int // checkpoints by name
	fail   map[string][]int
	log    []string // requests: method, path, and the after parameter or body
	onFeed func(after int)
}

func newFakeAPI(t *testing.T, events ...Event) (*fakeAPI, *httptest.Server) {
	f := &fakeAPI{t: t, events: events, stored: map[string]int{}, fail: map[string][]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func evts(spec ...string) []Event { // "id:type", type transaction by default
	var out []Event
	for _, s := range spec {
		id, typ, ok := strings.Cut(s, ":")
		if !ok {
			typ = string(event.TypeTransaction)
		}
		out = append(out, Event{ID: id, Type: event.Type(typ), Data: json.RawMessage(`{}`)})
	}
	return out
}

func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.log)
}

func (f *fakeAPI) checkpoint(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stored[name]
}

func position(s string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(s, "p"))
	return n
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer key-a" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Unauthorized"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	route := r.Method + " " + r.URL.Path
	var body struct {
		Position, From *string
		Reset          bool
	}
	if r.Method == http.MethodPut {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("%s: body: %v", route, err)
		}
		b, _ := json.Marshal(body)
		f.log = append(f.log, route+" "+string(b))
	} else {
		f.log = append(f.log, strings.TrimSpace(route+" "+r.URL.Query().Get("after")))
	}
	if q := f.fail[route]; len(q) > 0 {
		f.fail[route] = q[1:]
		w.WriteHeader(q[0])
		fmt.Fprintf(w, `{"error":{"code":"injected","message":"injected failure %d"}}`, q[0])
		return
	}
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/consumers/"), "/checkpoint")
	answer := func(name string) {
		n := f.stored[name]
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "position": "p" + strconv.Itoa(n),
			"createdAt": "2026-11-10T23:00:00Z", "movedAt": "2026-11-10T23:00:00Z", "lagEvents": len(f.events) - n, "lagSeconds": 0})
	}
	switch {
	case route == "GET /feed":
		after, limit := position(r.URL.Query().Get("after")), 100
		if l := r.URL.Query().Get("limit"); l != "" {
			limit, _ = strconv.Atoi(l)
		}
		var types []string
		if ts := r.URL.Query().Get("types"); ts != "" {
			types = strings.Split(ts, ",")
		}
		if f.onFeed != nil {
			f.onFeed(after)
		}
		page := []Event{}
		end := after
		for ; end < len(f.events) && len(page) < limit; end++ {
			if len(types) == 0 || slices.Contains(types, string(f.events[end].Type)) {
				page = append(page, f.events[end])
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"events": page, "position": "p" + strconv.Itoa(end), "caughtUp": end == len(f.events)})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/consumers/"):
		if _, ok := f.stored[name]; !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"not_found","message":"no consumer `+name+`"}}`)
			return
		}
		answer(name)
	case r.Method == http.MethodGet && r.URL.Path == "/consumers":
		_ = json.NewEncoder(w).Encode(map[string]any{"consumers": []map[string]any{{"name": "a", "position": "p1", "lagEvents": 2, "lagSeconds": 0.5}}})
	case r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/checkpoint"):
		n, exists := f.stored[name]
		switch {
		case body.From != nil && exists && !body.Reset:
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"error":{"code":"consumer_exists","message":"exists"}}`)
			return
		case body.From != nil:
			f.stored[name] = map[string]int{"start": 0, "now": len(f.events)}[*body.From]
		case body.Position != nil && position(*body.Position) < n && !body.Reset:
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"error":{"code":"checkpoint_conflict","message":"behind the stored position"}}`)
			return
		default:
			f.stored[name] = position(*body.Position)
		}
		answer(name)
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	}
}

// testConsumer is a Consumer of the fake API with waits of a millisecond.
func testConsumer(t *testing.T, srv *httptest.Server, edit func(*Config)) *Consumer {
	t.Helper()
	cfg := Config{Endpoint: srv.URL, Key: "key-a", Name: "ledger", PageSize: 2, PollInterval: time.Millisecond, MaxBackoff: time.Millisecond}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect is a handler that records the ids of the pages it gets.
func collect(ids *[]string) Handler {
	return func(_ context.Context, p Page) error {
		for _, e := range p.Events {
			*ids = append(*ids, e.ID)
		}
		return nil
	}
}

func TestCatchUpCreatesThenCarriesOn(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1", "e2", "e3")...)
	var ids []string
	if err := testConsumer(t, srv, nil).CatchUp(context.Background(), collect(&ids)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /consumers/ledger", `PUT /consumers/ledger/checkpoint {"Position":null,"From":"start","Reset":false}`,
		"GET /feed p0", `PUT /consumers/ledger/checkpoint {"Position":"p2","From":null,"Reset":false}`,
		"GET /feed p2", `PUT /consumers/ledger/checkpoint {"Position":"p3","From":null,"Reset":false}`,
	}
	if got := f.requests(); !slices.Equal(got, want) || !slices.Equal(ids, []string{"e1", "e2", "e3"}) {
		t.Fatalf("events %v, requests\n%s\nwant\n%s", ids, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	f.mu.Lock()
	f.events = append(f.events, evts("e4")...)
	f.mu.Unlock()
	ids = nil
	c := testConsumer(t, srv, func(c *Config) { c.Start = Now }) // Start does not move an existing consumer
	if err := c.CatchUp(context.Background(), collect(&ids)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"e4"}) || f.checkpoint("ledger") != 4 {
		t.Errorf("second run: events %v, checkpoint %d", ids, f.checkpoint("ledger"))
	}
	if lag := c.Lag(); lag.Position != "p4" || lag.Events != 0 || !lag.CaughtUp || lag.MeasuredAt.IsZero() {
		t.Errorf("Lag = %+v", lag)
	}
}

func TestResetMovesBack(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1", "e2")...)
	f.stored["ledger"] = 2
	var ids []string
	if err := testConsumer(t, srv, func(c *Config) { c.Reset = true }).CatchUp(context.Background(), collect(&ids)); err != nil {
		t.Fatal(err)
	}
	if got := f.requests(); got[0] != `PUT /consumers/ledger/checkpoint {"Position":null,"From":"start","Reset":true}` || !slices.Equal(ids, []string{"e1", "e2"}) {
		t.Errorf("events %v, requests %q", ids, got)
	}
}

func TestCreatedMeanwhile(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1", "e2", "e3")...)
	f.fail["GET /consumers/ledger"] = []int{http.StatusNotFound}
	f.stored["ledger"] = 2 // the PUT from finds it: 409, then GET
	var ids []string
	if err := testConsumer(t, srv, nil).CatchUp(context.Background(), collect(&ids)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"e3"}) {
		t.Errorf("events %v, requests %q", ids, f.requests())
	}
}

func TestHandlerRetriedWithTheSamePage(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1", "e2", "e3")...)
	var calls []string
	var retries int
	c := testConsumer(t, srv, func(c *Config) { c.OnRetry = func(error, time.Duration) { retries++ } })
	err := c.CatchUp(context.Background(), func(_ context.Context, p Page) error {
		calls = append(calls, p.Events[0].ID+"@"+p.Position)
		if len(calls) <= 2 {
			if f.checkpoint("ledger") != 0 {
				t.Error("checkpoint moved before the handler succeeded")
			}
			return errors.New("database down")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"e1@p2", "e1@p2", "e1@p2", "e3@p3"}; !slices.Equal(calls, want) || retries != 2 {
		t.Errorf("handler calls %v (want %v), OnRetry %d times", calls, want, retries)
	}
}

func TestStopEndsWithoutCheckpoint(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1", "e2", "e3")...)
	poison := errors.New("cannot decode")
	err := testConsumer(t, srv, nil).Run(context.Background(), func(context.Context, Page) error { return Stop(poison) })
	if !errors.Is(err, poison) || !strings.Contains(err.Error(), "consumer ledger: handler, page of 2 events from e1: cannot decode") {
		t.Errorf("Run: %v", err)
	}
	if f.checkpoint("ledger") != 0 {
		t.Errorf("checkpoint %d after Stop", f.checkpoint("ledger"))
	}
}

func TestTransientAndPermanentFailures(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1")...)
	f.fail["GET /feed"] = []int{http.StatusBadGateway, http.StatusTooManyRequests, http.StatusGatewayTimeout}
	f.fail["PUT /consumers/ledger/checkpoint"] = []int{http.StatusInternalServerError}
	var ids []string
	if err := testConsumer(t, srv, nil).CatchUp(context.Background(), collect(&ids)); err != nil {
		t.Fatalf("transient failures: %v", err)
	}

	f.fail["GET /feed"] = []int{http.StatusBadRequest}
	err := testConsumer(t, srv, nil).CatchUp(context.Background(), collect(&ids))
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || err.Error() != "consumer ledger: GET /feed: 400 injected: injected failure 400" {
		t.Errorf("a 400: %v", err)
	}

	err = testConsumer(t, srv, func(c *Config) { c.Key = "other" }).CatchUp(context.Background(), collect(&ids))
	if err == nil || err.Error() != "consumer ledger: GET /consumers/ledger: 401: Unauthorized" {
		t.Errorf("a bad key: %v", err)
	}

	f.fail["GET /feed"] = slices.Repeat([]int{http.StatusServiceUnavailable}, 1000)
	err = testConsumer(t, srv, func(c *Config) { c.RetryTimeout = 20 * time.Millisecond }).CatchUp(context.Background(), collect(&ids))
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Errorf("a 503 past the retry timeout: %v", err)
	}
}

func TestConflictCarriesOnFromTheStoredPosition(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1", "e2", "e3", "e4", "e5")...)
	f.onFeed = func(after int) {
		if after == 0 {
			f.stored["ledger"] = 4 // another process of the name got ahead
		}
	}
	var ids []string
	if err := testConsumer(t, srv, nil).CatchUp(context.Background(), collect(&ids)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"e1", "e2", "e5"}) || f.checkpoint("ledger") != 5 {
		t.Errorf("events %v, checkpoint %d, requests %q", ids, f.checkpoint("ledger"), f.requests())
	}
}

func TestSkippedEventsAreCheckpointed(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1:fraud_alert", "e2:fraud_alert")...)
	var ids []string
	c := testConsumer(t, srv, func(c *Config) { c.Types = []event.Type{event.TypeTransaction} })
	if err := c.CatchUp(context.Background(), collect(&ids)); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 || f.checkpoint("ledger") != 2 {
		t.Errorf("events %v, checkpoint %d", ids, f.checkpoint("ledger"))
	}
}

func TestRunStopsCleanly(t *testing.T) {
	f, srv := newFakeAPI(t, evts("e1", "e2", "e3")...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := testConsumer(t, srv, nil)
	err := c.Run(ctx, func(_ context.Context, p Page) error {
		if p.Position == "p3" {
			cancel() // the checkpoint of this page is still stored
		}
		return nil
	})
	if err != nil || f.checkpoint("ledger") != 3 {
		t.Errorf("Run: %v, checkpoint %d", err, f.checkpoint("ledger"))
	}

	ctx, cancel = context.WithCancel(context.Background())
	f.onFeed = func(int) { cancel() } // cancelled while polling
	if err := c.Run(ctx, collect(new([]string))); err != nil {
		t.Errorf("Run cancelled while polling: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if err := c.CatchUp(ctx, collect(new([]string))); !errors.Is(err, context.Canceled) {
		t.Errorf("CatchUp cancelled: %v", err)
	}
}

func TestList(t *testing.T) {
	_, srv := newFakeAPI(t)
	got, err := List(context.Background(), Config{Endpoint: srv.URL + "/", Key: "key-a"})
	if err != nil || len(got) != 1 || got[0].Name != "a" || got[0].LagEvents != 2 || got[0].LagSeconds != 0.5 {
		t.Errorf("List = %+v, %v", got, err)
	}
}
