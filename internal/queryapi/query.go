// Package queryapi is the read API clients use: an event by id, an account's events by time range
// and type (newest first, cursor pagination), an account's state, quarantined records, the
// tenant's feed in commit order, and named consumers with their checkpoints. Every
// request carries the tenant its credentials belong to, and sees only that tenant's data: another
// tenant's event or account answers 404, as one that does not exist.
package queryapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// Reader is what the API reads; *store.Store implements it.
type Reader interface {
	GetEvent(ctx context.Context, tenant, id string) (*store.StoredEvent, error)
	AccountEvents(ctx context.Context, tenant, accountID string, r store.Range) (store.Page, error)
	AccountState(ctx context.Context, tenant, accountID string) (*store.AccountView, error)
	TenantQuarantinedBetween(ctx context.Context, tenant string, from, to time.Time) ([]store.QuarantinedRecord, error)
	Feed(ctx context.Context, tenant string, q store.FeedQuery) (store.FeedPage, error)
	Consumer(ctx context.Context, tenant, name string) (store.Consumer, error)
	Consumers(ctx context.Context, tenant string) ([]store.Consumer, error)
	MoveCheckpoint(ctx context.Context, tenant, name string, to store.Checkpoint) (store.Consumer, error)
}

var _ Reader = (*store.Store)(nil)

// Request is one API call. Tenant comes from the caller's credentials (the authorizer), never
// from anything the caller sends.
type Request struct {
	Method string
	Path   string            // e.g. /accounts/acc-1/events
	Params map[string]string // query string parameters
	Body   string            // the request body (PUT)
	Tenant string
}

// Response is the API's answer: a status and a JSON-encodable body.
type Response struct {
	Status int
	Body   any
}

// Error is the body of every answer that is not 200.
type Error struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong, naming the parameter at fault when there is one.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter,omitempty"`
}

// Limits of a page.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// API answers requests from a Reader.
type API struct {
	Reader Reader
	Log    *slog.Logger // internal errors are logged here, never sent to the caller
	Now    func() time.Time
}

// Handle answers one request.
func (a *API) Handle(ctx context.Context, r Request) Response {
	if r.Tenant == "" {
		return fail(http.StatusUnauthorized, "unauthorized", "", "credentials are required")
	}
	parts := strings.Split(strings.Trim(r.Path, "/"), "/")
	if len(parts) == 3 && parts[0] == "consumers" && parts[2] == "checkpoint" {
		if r.Method != http.MethodPut {
			return fail(http.StatusMethodNotAllowed, "method_not_allowed", "", "a checkpoint is moved with PUT")
		}
		return a.checkpoint(ctx, r, parts[1])
	}
	if r.Method != http.MethodGet {
		return fail(http.StatusMethodNotAllowed, "method_not_allowed", "", "only GET is served here")
	}
	switch {
	case len(parts) == 1 && parts[0] == "feed":
		return a.feed(ctx, r)
	case len(parts) == 1 && parts[0] == "consumers":
		return a.consumers(ctx, r)
	case len(parts) == 2 && parts[0] == "consumers":
		return a.consumer(ctx, r, parts[1])
	case len(parts) == 2 && parts[0] == "events":
		return a.event(ctx, r, parts[1])
	case len(parts) == 2 && parts[0] == "accounts":
		return a.account(ctx, r, parts[1])
	case len(parts) == 3 && parts[0] == "accounts" && parts[2] == "events":
		return a.accountEvents(ctx, r, parts[1])
	case len(parts) == 1 && parts[0] == "quarantine":
		return a.quarantine(ctx, r)
	}
	return fail(http.StatusNotFound, "not_found", "", "no such resource: "+r.Path+" (see GET /events/{id}, /accounts/{id}, /accounts/{id}/events, /quarantine, /feed, /consumers, /consumers/{name}, PUT /consumers/{name}/checkpoint)")
}

func (a *API) event(ctx context.Context, r Request, id string) Response {
	if resp, ok := only(r.Params); !ok {
		return resp
	}
	e, err := a.Reader.GetEvent(ctx, r.Tenant, id)
	if err != nil {
		return a.readError(ctx, err, "event "+id)
	}
	return Response{Status: http.StatusOK, Body: e}
}

func (a *API) account(ctx context.Context, r Request, id string) Response {
	if resp, ok := only(r.Params); !ok {
		return resp
	}
	v, err := a.Reader.AccountState(ctx, r.Tenant, id)
	if err != nil {
		return a.readError(ctx, err, "account "+id)
	}
	return Response{Status: http.StatusOK, Body: v}
}

func (a *API) accountEvents(ctx context.Context, r Request, id string) Response {
	if resp, ok := only(r.Params, "from", "to", "type", "limit", "cursor"); !ok {
		return resp
	}
	var rng store.Range
	var resp Response
	var ok bool
	if rng.From, resp, ok = timeParam(r.Params, "from"); !ok {
		return resp
	}
	if rng.To, resp, ok = timeParam(r.Params, "to"); !ok {
		return resp
	}
	if !rng.From.IsZero() && !rng.To.IsZero() && rng.To.Before(rng.From) {
		return fail(http.StatusBadRequest, "invalid_parameter", "to", "must not be before from")
	}
	if t := r.Params["type"]; t != "" {
		if !known(t) {
			return fail(http.StatusBadRequest, "invalid_parameter", "type", fmt.Sprintf("must be one of %s", typeNames()))
		}
		rng.Type = event.Type(t)
	}
	limit, resp, ok := limitParam(r.Params)
	if !ok {
		return resp
	}
	rng.Limit, rng.Cursor = limit, r.Params["cursor"]
	page, err := a.Reader.AccountEvents(ctx, r.Tenant, id, rng)
	if errors.Is(err, store.ErrBadCursor) {
		return fail(http.StatusBadRequest, "invalid_parameter", "cursor", err.Error())
	}
	if err != nil {
		return a.readError(ctx, err, "events of account "+id)
	}
	return Response{Status: http.StatusOK, Body: page}
}

// QuarantinePage is the answer of GET /quarantine.
type QuarantinePage struct {
	Records []store.QuarantinedRecord `json:"records"`
}

func (a *API) quarantine(ctx context.Context, r Request) Response {
	if resp, ok := only(r.Params, "from", "to"); !ok {
		return resp
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	from, resp, ok := timeParam(r.Params, "from")
	if !ok {
		return resp
	}
	to, resp, ok := timeParam(r.Params, "to")
	if !ok {
		return resp
	}
	if to.IsZero() {
		to = now()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if to.Before(from) {
		return fail(http.StatusBadRequest, "invalid_parameter", "to", "must not be before from")
	}
	if to.Sub(from) > 31*24*time.Hour {
		return fail(http.StatusBadRequest, "invalid_parameter", "from", "the range from..to may span at most 31 days")
	}
	recs, err := a.Reader.TenantQuarantinedBetween(ctx, r.Tenant, from, to)
	if err != nil {
		return a.readError(ctx, err, "quarantine")
	}
	if recs == nil {
		recs = []store.QuarantinedRecord{}
	}
	return Response{Status: http.StatusOK, Body: QuarantinePage{Records: recs}}
}

// readError turns a read error into 404 or an opaque 500 (the detail goes to the log only).
func (a *API) readError(ctx context.Context, err error, what string) Response {
	if errors.Is(err, store.ErrNotFound) {
		return fail(http.StatusNotFound, "not_found", "", what+" not found")
	}
	if a.Log != nil {
		a.Log.ErrorContext(ctx, "query failed", "what", what, "error", err.Error())
	}
	return fail(http.StatusInternalServerError, "internal", "", "the request could not be answered; try again")
}

func fail(status int, code, param, msg string) Response {
	return Response{Status: status, Body: Error{Error: ErrorDetail{Code: code, Message: msg, Parameter: param}}}
}

// only refuses parameters other than the allowed ones, naming the first.
func only(params map[string]string, allowed ...string) (Response, bool) {
	for name := range params {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			if len(allowed) == 0 {
				return fail(http.StatusBadRequest, "unknown_parameter", name, "this resource takes no parameters"), false
			}
			return fail(http.StatusBadRequest, "unknown_parameter", name, "is not a parameter here; use "+strings.Join(allowed, ", ")), false
		}
	}
	return Response{}, true
}

func timeParam(params map[string]string, name string) (time.Time, Response, bool) {
	v := params[name]
	if v == "" {
		return time.Time{}, Response{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fail(http.StatusBadRequest, "invalid_parameter", name, fmt.Sprintf("must be an RFC 3339 time such as 2026-11-10T09:00:00Z, got %q", v)), false
	}
	return t, Response{}, true
}

func limitParam(params map[string]string) (int32, Response, bool) {
	v := params["limit"]
	if v == "" {
		return DefaultLimit, Response{}, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, fail(http.StatusBadRequest, "invalid_parameter", "limit", fmt.Sprintf("must be a whole number from 1 to %d, got %q", MaxLimit, v)), false
	}
	return int32(n), Response{}, true
}

func known(t string) bool {
	for _, x := range event.Types {
		if string(x) == t {
			return true
		}
	}
	return false
}

func typeNames() string {
	names := make([]string, len(event.Types))
	for i, t := range event.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
