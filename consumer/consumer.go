package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/go-event-processor/go-event-processor/event"
)

// Defaults and limits of a Config.
const (
	// DefaultPageSize is how many events a page holds at most when Config.PageSize is zero.
	DefaultPageSize = 100
	// MaxPageSize is the most events a page may hold: the query API's limit.
	MaxPageSize = 1000
	// DefaultPollInterval is the wait between two reads of the feed once it is caught up.
	DefaultPollInterval = time.Second
	// DefaultMaxBackoff caps the interval between two attempts of a failing handler or request
	// (each wait is the interval ±50%).
	DefaultMaxBackoff = 30 * time.Second
	// DefaultRetryTimeout is how long a request that fails transiently is retried.
	DefaultRetryTimeout = 15 * time.Minute
	// DefaultHTTPTimeout is the timeout of the HTTP client used when Config.HTTPClient is nil.
	DefaultHTTPTimeout = 30 * time.Second
	// MaxNameLength is the longest consumer name the API accepts.
	MaxNameLength = 64
)

// Waits of the retries.
const (
	initialBackoff  = 500 * time.Millisecond // first wait, or MaxBackoff when it is shorter
	checkpointGrace = 10 * time.Second       // a checkpoint's time to finish after the context ended
	maxAnswerBytes  = 16 << 20               // a page holds at most 4 MiB of events, a Lambda answers 6 MB
)

// nameRule is the rule of a consumer name (the API's: 1 to 64 of A-Z a-z 0-9 . _ -, and not
// dots alone, which URL handling removes from a path).
var nameRule = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Start says where a consumer that has no checkpoint yet starts reading: at the Beginning of
// its tenant's feed (the zero value), Now (only events stored from now on), or At a time. With
// Config.Reset, an existing consumer is moved back (or forward) to it.
type Start struct {
	now bool
	at  time.Time
}

var (
	// Beginning starts at the first event the tenant stored. It is the zero Start.
	Beginning = Start{}
	// Now starts after the last event stored when the consumer is created: it reads only events
	// stored later.
	Now = Start{now: true}
)

// At starts at the first events stored at or after t — a storage time, not an event's own time:
// an event with an old time that was stored after t is read. The zero time is Beginning.
func At(t time.Time) Start {
	if t.IsZero() {
		return Beginning
	}
	return Start{at: t}
}

// ParseStart reads a Start as the API and eventctl spell it: "start" (or "beginning"), "now",
// or an RFC 3339 time.
func ParseStart(s string) (Start, error) {
	switch s {
	case "start", "beginning":
		return Beginning, nil
	case "now":
		return Now, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Start{}, fmt.Errorf("consumer: start %q: want start, now or an RFC 3339 time such as 2026-11-10T23:00:00Z", s)
	}
	return At(t), nil
}

// String returns the Start as the API spells it: "start", "now", or an RFC 3339 time in UTC.
func (s Start) String() string {
	switch {
	case s.now:
		return "now"
	case s.at.IsZero():
		return "start"
	}
	return s.at.UTC().Format(time.RFC3339Nano)
}

// Config says which API a Consumer reads, with which key, under which name, and how.
type Config struct {
	// Endpoint is the base URL of the query API, such as the QueryApiUrl output of a deployed
	// stack (with its stage, https://….execute-api.….amazonaws.com/v1) or the local stack's
	// http://127.0.0.1:port. Required.
	Endpoint string
	// Key is the tenant's API key; it decides the tenant whose feed is read. Required.
	Key string
	// Name names the consumer within its tenant: 1 to MaxNameLength of A-Z a-z 0-9 . _ -.
	// The server keeps one checkpoint per name. Required.
	Name string
	// Types, when not empty, reads only events of these types; the checkpoint still moves past
	// the others.
	Types []event.Type
	// Start is where a consumer without a checkpoint starts (Beginning when zero). It does not
	// move an existing consumer unless Reset is set.
	Start Start
	// Reset moves an existing consumer to Start (backwards too) before reading, instead of
	// carrying on from its checkpoint. The consumer is created at Start if it does not exist.
	Reset bool
	// PageSize is the most events one page (one handler call) holds: 1 to MaxPageSize,
	// DefaultPageSize when zero. Pages may hold fewer even before the end of the feed.
	PageSize int
	// PollInterval is the wait between two reads once the feed has nothing new; Run only.
	// DefaultPollInterval when zero.
	PollInterval time.Duration
	// MaxBackoff caps the exponential interval between two attempts of a failing handler or
	// request: it starts at half a second (or MaxBackoff when shorter) and doubles; each wait is
	// that interval randomized by ±50% (cenkalti/backoff's default), so a wait may reach 1.5 ×
	// MaxBackoff. DefaultMaxBackoff when zero.
	MaxBackoff time.Duration
	// RetryTimeout is how long a request failing transiently (a network error, 408, 429 or
	// 5xx, including API Gateway's 502 and 504) is retried before Run or CatchUp returns its
	// error. DefaultRetryTimeout when zero. It does not bound the retries of a handler.
	RetryTimeout time.Duration
	// HTTPClient sends the requests; by default a client with DefaultHTTPTimeout.
	HTTPClient *http.Client
	// OnRetry, when set, is called before each wait with the failure and the wait: a handler's
	// error or a transient request failure. It is for logs; it must not block.
	OnRetry func(err error, wait time.Duration)
}

// Event is one stored event as the feed returns it: the JSON of the query API's events.
type Event struct {
	ID             string          `json:"id"`                       // the event's id: the key of idempotency
	Tenant         string          `json:"tenant"`                   // the tenant that sent it
	Type           event.Type      `json:"type"`                     // its type, one of event.Types
	Source         string          `json:"source"`                   // the CloudEvents source
	Subject        string          `json:"subject"`                  // the CloudEvents subject: the account id
	AccountID      string          `json:"accountId"`                // the account it belongs to
	Time           string          `json:"time"`                     // the event's own time (RFC 3339)
	Data           json.RawMessage `json:"data"`                     // the payload, as its type's struct in package event decodes it
	BlockedBy      string          `json:"blockedBy,omitempty"`      // for a transaction: the account status event that blocked it
	SequenceNumber string          `json:"sequenceNumber,omitempty"` // its Kinesis sequence number
	StoredAt       string          `json:"storedAt"`                 // when the pipeline stored it (RFC 3339)
}

// Page is what a Handler is given: events in commit order, and the position after them, which
// becomes the consumer's checkpoint once the handler returns nil.
type Page struct {
	Events   []Event
	Position string // opaque; the feed position after the last event of the page
	CaughtUp bool   // the feed had nothing after this page when it was read
}

// Handler processes a page. It is called only with pages that hold events, one page at a time.
// It returns nil once the page is processed; an error makes the Consumer call it again with the
// same page after a backoff (exponential, capped by Config.MaxBackoff) until it returns nil or
// the context ends, unless the error is a Stop, which ends Run or CatchUp with it. A page may
// be given again after a crash or a checkpoint conflict (see the package documentation): use
// Event.ID as the idempotency key.
type Handler func(ctx context.Context, page Page) error

// Stop wraps a handler's error to end Run or CatchUp with it instead of retrying the page (a
// failure that no retry can cure). The page is not checkpointed. Stop(nil) is nil.
func Stop(err error) error {
	if err == nil {
		return nil
	}
	return &stopError{err}
}

type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// Checkpoint is a consumer as the API reports it: its name, its position, and how far behind
// the end of the feed that position is.
type Checkpoint struct {
	Name       string
	Position   string    // opaque
	CreatedAt  time.Time // when the consumer was created
	MovedAt    time.Time // when its checkpoint last moved
	LagEvents  int64     // events stored after the position, of every type
	LagSeconds float64   // the age of the oldest of them; 0 when there are none
}

// checkpointJSON is a Checkpoint as the API writes it.
type checkpointJSON struct {
	Name       string  `json:"name"`
	Position   string  `json:"position"`
	CreatedAt  string  `json:"createdAt"`
	MovedAt    string  `json:"movedAt"`
	LagEvents  int64   `json:"lagEvents"`
	LagSeconds float64 `json:"lagSeconds"`
}

// MarshalJSON writes a Checkpoint as the API does, times in RFC 3339 (empty when zero).
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	w := checkpointJSON{Name: c.Name, Position: c.Position, LagEvents: c.LagEvents, LagSeconds: c.LagSeconds}
	if !c.CreatedAt.IsZero() {
		w.CreatedAt = c.CreatedAt.Format(time.RFC3339Nano)
	}
	if !c.MovedAt.IsZero() {
		w.MovedAt = c.MovedAt.Format(time.RFC3339Nano)
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a Checkpoint as the API writes it; an absent or empty time is zero.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	var w checkpointJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Checkpoint{Name: w.Name, Position: w.Position, LagEvents: w.LagEvents, LagSeconds: w.LagSeconds}
	for _, f := range []struct {
		name, v string
		dst     *time.Time
	}{{"createdAt", w.CreatedAt, &c.CreatedAt}, {"movedAt", w.MovedAt, &c.MovedAt}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, f.v)
		if err != nil {
			return fmt.Errorf("consumer %s: %s %q is not an RFC 3339 time", w.Name, f.name, f.v)
		}
		*f.dst = t
	}
	return nil
}

// Lag is how far behind the end of the feed a Consumer is, as the API measured it at its last
// checkpoint (or when it was opened).
type Lag struct {
	Position   string        // the consumer's checkpoint
	Events     int64         // events stored after Position, of every type
	Age        time.Duration // the age of the oldest of them; 0 when there are none
	CaughtUp   bool          // the last page read reported the end of the feed
	MeasuredAt time.Time     // when Events and Age were measured (this machine's clock); zero before
}

// APIError is an answer of the query API other than a success: a refused parameter, an unknown
// consumer, a checkpoint conflict, a key the gateway rejects, or a server failure.
type APIError struct {
	Request   string // the method and path, such as "GET /feed"
	Status    int    // the HTTP status
	Code      string // the API's error code, such as "checkpoint_conflict"; empty from the gateway
	Message   string // the API's (or the gateway's) message
	Parameter string // the parameter or body field at fault, when one is
}

// Error says which request failed, its status, and the API's code, parameter and message.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d", e.Request, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Parameter != "" {
		b.WriteString(": " + e.Parameter)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Consumer reads one tenant's feed under a name and moves its checkpoint as its handler
// finishes pages. Run or CatchUp may be called again once the previous call has returned, but
// not at once; Lag may be called at any time, from any goroutine.
type Consumer struct {
	cfg     Config
	api     *client
	path    string // /consumers/{name}
	running atomic.Bool

	mu  sync.Mutex
	lag Lag
}

// New checks cfg and fills in its defaults. It makes no request: an unknown key or a stopped API
// shows in Run or CatchUp.
func New(cfg Config) (*Consumer, error) {
	if !nameRule.MatchString(cfg.Name) || strings.Trim(cfg.Name, ".") == "" {
		return nil, fmt.Errorf("consumer: name %q: want 1 to %d of A-Z a-z 0-9 . _ -, not dots alone", cfg.Name, MaxNameLength)
	}
	api, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	for _, t := range cfg.Types {
		if !slices.Contains(event.Types, t) {
			return nil, fmt.Errorf("consumer: type %q: want one of %s", t, typeList())
		}
	}
	switch {
	case cfg.PageSize == 0:
		cfg.PageSize = DefaultPageSize
	case cfg.PageSize < 0 || cfg.PageSize > MaxPageSize:
		return nil, fmt.Errorf("consumer: page size %d: want 1 to %d", cfg.PageSize, MaxPageSize)
	}
	switch {
	case cfg.PollInterval == 0:
		cfg.PollInterval = DefaultPollInterval
	case cfg.PollInterval < 0:
		return nil, fmt.Errorf("consumer: poll interval %s: want a positive duration", cfg.PollInterval)
	}
	cfg.Types = slices.Clone(cfg.Types)
	return &Consumer{cfg: cfg, api: api, path: "/consumers/" + url.PathEscape(cfg.Name)}, nil
}

// Name returns the consumer's name.
func (c *Consumer) Name() string { return c.cfg.Name }

// Lag returns how far behind the end of the feed the consumer's checkpoint was when last
// measured. It is safe for concurrent use, also while Run is running.
func (c *Consumer) Lag() Lag {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lag
}

// Run reads the consumer's checkpoint (creating the consumer at Config.Start when it has none,
// or moving it there with Config.Reset), then follows the feed until ctx ends: each page that
// holds events goes to handler, and the checkpoint moves to the page's position once handler
// returns nil; at the end of the feed it polls every Config.PollInterval. It returns nil when
// ctx ends — a checkpoint under way is given a few seconds to be stored — and otherwise the
// error that stopped it: a request the API refused (an *APIError), a transient failure that
// outlasted Config.RetryTimeout, or a handler's Stop.
func (c *Consumer) Run(ctx context.Context, handler Handler) error {
	err := c.follow(ctx, handler, true)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// CatchUp is Run without the polling: it returns nil once a page reports the end of the feed
// and its checkpoint is stored, that is, once every event stored before that read has been
// handled. When ctx ends first it returns an error wrapping ctx's.
func (c *Consumer) CatchUp(ctx context.Context, handler Handler) error {
	return c.follow(ctx, handler, false)
}

func (c *Consumer) follow(ctx context.Context, handler Handler, poll bool) error {
	if handler == nil {
		return fmt.Errorf("consumer %s: nil handler", c.cfg.Name)
	}
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("consumer %s: Run or CatchUp is already running", c.cfg.Name)
	}
	defer c.running.Store(false)
	if err := c.loop(ctx, handler, poll); err != nil {
		return fmt.Errorf("consumer %s: %w", c.cfg.Name, err)
	}
	return nil
}

// feedPage is the answer of GET /feed.
type feedPage struct {
	Events   []Event `json:"events"`
	Position string  `json:"position"`
	CaughtUp bool    `json:"caughtUp"`
}

func (c *Consumer) loop(ctx context.Context, handler Handler, poll bool) error {
	cp, err := c.open(ctx)
	if err != nil {
		return err
	}
	pos := cp.Position
	c.measured(cp, false)
	query := url.Values{"limit": {strconv.Itoa(c.cfg.PageSize)}}
	if len(c.cfg.Types) > 0 {
		names := make([]string, len(c.cfg.Types))
		for i, t := range c.cfg.Types {
			names[i] = string(t)
		}
		query.Set("types", strings.Join(names, ","))
	}
	for {
		query.Del("after")
		if pos != "" {
			query.Set("after", pos)
		}
		var page feedPage
		if err := c.api.call(ctx, http.MethodGet, "/feed", query, nil, &page); err != nil {
			return err
		}
		if page.Position == "" {
			if len(page.Events) > 0 {
				return fmt.Errorf("GET /feed: a page of %d events without a position", len(page.Events))
			}
			page.Position = pos
		}
		if len(page.Events) > 0 {
			if err := c.handle(ctx, handler, Page(page)); err != nil {
				return err
			}
		}
		moved := len(page.Events) > 0 || page.Position != pos
		conflict := false
		if moved {
			// The position changes without events when a type filter skipped some: store it too,
			// or the next start reads them again.
			if cp, conflict, err = c.checkpoint(ctx, page.Position); err != nil {
				return err
			}
			pos = cp.Position
			c.measured(cp, page.CaughtUp && !conflict)
		} else {
			c.mu.Lock()
			c.lag.CaughtUp = page.CaughtUp
			c.mu.Unlock()
		}
		switch {
		case conflict:
			// Another process of this name stored a position ahead of or beside this one: carry on
			// from the stored one (at least once: events between may reach both).
			continue
		case !page.CaughtUp && moved:
			continue
		case page.CaughtUp && !poll:
			return nil
		}
		// At the end of the feed, or (against the contract) an empty page that is not: wait.
		if err := sleep(ctx, c.cfg.PollInterval); err != nil {
			return err
		}
	}
}

// checkpointBody is the body of PUT /consumers/{name}/checkpoint.
type checkpointBody struct {
	Position string `json:"position,omitempty"`
	From     string `json:"from,omitempty"`
	Reset    bool   `json:"reset,omitempty"`
}

// open returns the consumer's checkpoint, creating the consumer at its start when it has none.
func (c *Consumer) open(ctx context.Context) (Checkpoint, error) {
	var cp Checkpoint
	if c.cfg.Reset {
		err := c.api.call(ctx, http.MethodPut, c.path+"/checkpoint", nil, checkpointBody{From: c.cfg.Start.String(), Reset: true}, &cp)
		if !hasStatus(err, http.StatusNotFound) {
			return cp, err
		}
	} else {
		err := c.api.call(ctx, http.MethodGet, c.path, nil, nil, &cp)
		if !hasStatus(err, http.StatusNotFound) {
			return cp, err
		}
	}
	err := c.api.call(ctx, http.MethodPut, c.path+"/checkpoint", nil, checkpointBody{From: c.cfg.Start.String()}, &cp)
	if hasStatus(err, http.StatusConflict) { // created meanwhile by another process of this name
		cp = Checkpoint{}
		err = c.api.call(ctx, http.MethodGet, c.path, nil, nil, &cp)
	}
	return cp, err
}

// checkpoint stores pos as the consumer's position. On a conflict (a stored position ahead or
// beside) it returns the stored checkpoint and conflict set. It carries on for a few seconds
// after ctx ends, so that a page handled just before a stop is not read again.
func (c *Consumer) checkpoint(ctx context.Context, pos string) (cp Checkpoint, conflict bool, err error) {
	gctx, cancel := withGrace(ctx, checkpointGrace)
	defer cancel()
	err = c.api.call(gctx, http.MethodPut, c.path+"/checkpoint", nil, checkpointBody{Position: pos}, &cp)
	if !hasStatus(err, http.StatusConflict) {
		return cp, false, err
	}
	cp = Checkpoint{}
	err = c.api.call(ctx, http.MethodGet, c.path, nil, nil, &cp)
	return cp, true, err
}

// handle calls handler with page until it returns nil, backing off between calls.
func (c *Consumer) handle(ctx context.Context, handler Handler, page Page) error {
	op := func() (struct{}, error) {
		err := handler(ctx, page)
		if err == nil {
			return struct{}{}, nil
		}
		err = fmt.Errorf("handler, page of %d events from %s: %w", len(page.Events), page.Events[0].ID, err)
		if s := (*stopError)(nil); errors.As(err, &s) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	}
	_, err := backoff.Retry(ctx, op, c.api.retryOptions(0)...)
	return err
}

// measured records a checkpoint's lag.
func (c *Consumer) measured(cp Checkpoint, caughtUp bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lag = Lag{
		Position: cp.Position, Events: cp.LagEvents, Age: time.Duration(cp.LagSeconds * float64(time.Second)),
		CaughtUp: caughtUp, MeasuredAt: time.Now(),
	}
}

// List returns the consumers of the tenant of cfg.Key, by name. It uses cfg's Endpoint, Key,
// HTTPClient, MaxBackoff, RetryTimeout and OnRetry, and ignores the rest.
func List(ctx context.Context, cfg Config) ([]Checkpoint, error) {
	api, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	var out struct {
		Consumers []Checkpoint `json:"consumers"`
	}
	if err := api.call(ctx, http.MethodGet, "/consumers", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	return out.Consumers, nil
}

// client calls the query API with a tenant's key, retrying transient failures.
type client struct {
	base       string // without a trailing slash
	key        string
	http       *http.Client
	maxBackoff time.Duration
	retryFor   time.Duration
	onRetry    func(error, time.Duration)
}

func newClient(cfg Config) (*client, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("consumer: endpoint %q: want the query API's base URL, such as https://abc123.execute-api.eu-west-1.amazonaws.com/v1", cfg.Endpoint)
	}
	if cfg.Key == "" {
		return nil, errors.New("consumer: an API key is required")
	}
	if strings.ContainsAny(cfg.Key, "\r\n") {
		return nil, errors.New("consumer: the API key holds a line break")
	}
	c := &client{base: strings.TrimRight(cfg.Endpoint, "/"), key: cfg.Key, http: cfg.HTTPClient,
		maxBackoff: cfg.MaxBackoff, retryFor: cfg.RetryTimeout, onRetry: cfg.OnRetry}
	switch {
	case c.maxBackoff == 0:
		c.maxBackoff = DefaultMaxBackoff
	case c.maxBackoff < 0:
		return nil, fmt.Errorf("consumer: max backoff %s: want a positive duration", c.maxBackoff)
	}
	switch {
	case c.retryFor == 0:
		c.retryFor = DefaultRetryTimeout
	case c.retryFor < 0:
		return nil, fmt.Errorf("consumer: retry timeout %s: want a positive duration", c.retryFor)
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return c, nil
}

// retryOptions are the options of backoff.Retry: exponential waits capped by maxBackoff, for at
// most maxElapsed (0: until the context ends).
func (c *client) retryOptions(maxElapsed time.Duration) []backoff.RetryOption {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = min(initialBackoff, c.maxBackoff)
	b.Multiplier = 2
	b.MaxInterval = c.maxBackoff
	opts := []backoff.RetryOption{backoff.WithBackOff(b), backoff.WithMaxElapsedTime(maxElapsed)}
	if c.onRetry != nil {
		opts = append(opts, backoff.WithNotify(c.onRetry))
	}
	return opts
}

// call sends a request (body as JSON unless nil) and decodes a success into out. Transient
// failures are retried for retryFor; the error of an answer the API refused is an *APIError.
func (c *client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		return struct{}{}, c.once(ctx, method, path, query, payload, out)
	}, c.retryOptions(c.retryFor)...)
	return err
}

// once sends a request once. Its error is wrapped in backoff.Permanent unless a retry may cure it.
func (c *client) once(ctx context.Context, method, path string, query url.Values, payload []byte, out any) error {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return backoff.Permanent(fmt.Errorf("%s %s: %w", method, path, err))
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err) // a network failure: transient
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := answerError(method+" "+path, resp.StatusCode, data)
		if transient(resp.StatusCode) {
			return e
		}
		return backoff.Permanent(e)
	}
	if len(data) > maxAnswerBytes {
		return backoff.Permanent(fmt.Errorf("%s %s: an answer over %d MiB", method, path, maxAnswerBytes>>20))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return backoff.Permanent(fmt.Errorf("%s %s: decoding the answer: %w", method, path, err))
	}
	return nil
}

// transient reports whether a request answered with status may succeed when sent again: 408,
// 429 and every 5xx (API Gateway answers 502 when a function fails and 504 when it times out).
// Any other failure is the request's fault: retrying cannot cure it.
func transient(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// answerError reads an error answer: the API's {"error":{…}}, API Gateway's {"message":…}, or
// whatever the body holds.
func answerError(request string, status int, body []byte) *APIError {
	e := &APIError{Request: request, Status: status}
	var w struct {
		Error *struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			Parameter string `json:"parameter"`
		} `json:"error"`
		Message string `json:"message"`
	}
	switch {
	case json.Unmarshal(body, &w) != nil:
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
	case w.Error != nil:
		e.Code, e.Message, e.Parameter = w.Error.Code, w.Error.Message, w.Error.Parameter
	default:
		e.Message = w.Message
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// hasStatus reports whether err is an *APIError with status.
func hasStatus(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == status
}

// withGrace returns a context that ends grace after ctx does (or when cancel is called).
func withGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return g, func() { stop(); cancel() }
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// typeList names event.Types for errors.
func typeList() string {
	names := make([]string, len(event.Types))
	for i, t := range event.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
