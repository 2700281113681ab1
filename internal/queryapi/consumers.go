package queryapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// feed answers GET /feed: a page of the tenant's events in commit order.
func (a *API) feed(ctx context.Context, r Request) Response {
	if resp, ok := only(r.Params, "after", "from", "types", "limit"); !ok {
		return resp
	}
	q := store.FeedQuery{After: r.Params["after"]}
	var resp Response
	var ok bool
	if q.From, resp, ok = timeParam(r.Params, "from"); !ok {
		return resp
	}
	if q.After != "" && !q.From.IsZero() {
		return fail(http.StatusBadRequest, "invalid_parameter", "from", "give after (a position) or from (a storage time), not both")
	}
	if v := r.Params["types"]; v != "" {
		for _, t := range strings.Split(v, ",") {
			if !known(t) {
				return fail(http.StatusBadRequest, "invalid_parameter", "types", fmt.Sprintf("a comma-separated list of %s, got %q", typeNames(), t))
			}
			q.Types = append(q.Types, event.Type(t))
		}
	}
	if v := r.Params["limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxFeedLimit {
			return fail(http.StatusBadRequest, "invalid_parameter", "limit", fmt.Sprintf("must be a whole number from 1 to %d, got %q", store.MaxFeedLimit, v))
		}
		q.Limit = n
	}
	page, err := a.Reader.Feed(ctx, r.Tenant, q)
	if errors.Is(err, store.ErrBadCursor) {
		return fail(http.StatusBadRequest, "invalid_parameter", "after", "is not a position of this tenant's feed (use the position a page returned)")
	}
	if err != nil {
		return a.readError(ctx, err, "feed")
	}
	if page.Events == nil {
		page.Events = []store.StoredEvent{}
	}
	return Response{Status: http.StatusOK, Body: page}
}

// ConsumerList is the answer of GET /consumers.
type ConsumerList struct {
	Consumers []store.Consumer `json:"consumers"`
}

func (a *API) consumers(ctx context.Context, r Request) Response {
	if resp, ok := only(r.Params); !ok {
		return resp
	}
	list, err := a.Reader.Consumers(ctx, r.Tenant)
	if err != nil {
		return a.readError(ctx, err, "consumers")
	}
	return Response{Status: http.StatusOK, Body: ConsumerList{Consumers: list}}
}

func (a *API) consumer(ctx context.Context, r Request, name string) Response {
	if resp, ok := only(r.Params); !ok {
		return resp
	}
	if err := store.CheckConsumerName(name); err != nil {
		return fail(http.StatusBadRequest, "invalid_parameter", "name", err.Error())
	}
	c, err := a.Reader.Consumer(ctx, r.Tenant, name)
	if err != nil {
		return a.readError(ctx, err, "consumer "+name)
	}
	return Response{Status: http.StatusOK, Body: c}
}

// CheckpointRequest is the body of PUT /consumers/{name}/checkpoint: a position a feed page
// returned, or a start (start, now or an RFC 3339 storage time) for a consumer without a
// checkpoint; with Reset, an existing checkpoint moves to either, backwards too.
type CheckpointRequest struct {
	Position string `json:"position,omitempty"`
	From     string `json:"from,omitempty"`
	Reset    bool   `json:"reset,omitempty"`
}

func (a *API) checkpoint(ctx context.Context, r Request, name string) Response {
	if resp, ok := only(r.Params); !ok {
		return resp
	}
	if err := store.CheckConsumerName(name); err != nil {
		return fail(http.StatusBadRequest, "invalid_parameter", "name", err.Error())
	}
	var body CheckpointRequest
	dec := json.NewDecoder(strings.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fail(http.StatusBadRequest, "unknown_parameter", strings.Trim(field, `"`), "is not a field here; use position, from, reset")
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fail(http.StatusBadRequest, "invalid_parameter", typeErr.Field, fmt.Sprintf("must be a JSON %s, got a %s", typeErr.Type.Kind(), typeErr.Value))
		}
		return fail(http.StatusBadRequest, "invalid_parameter", "body", `must be a JSON object such as {"position":"…"} or {"from":"start"}: `+err.Error())
	}
	if rest, _ := dec.Token(); rest != nil || dec.More() {
		return fail(http.StatusBadRequest, "invalid_parameter", "body", "must hold one JSON object")
	}
	to := store.Checkpoint{Position: body.Position, Reset: body.Reset}
	switch {
	case body.Position != "" && body.From != "":
		return fail(http.StatusBadRequest, "invalid_parameter", "from", "give position or from, not both")
	case body.Position == "" && body.From == "":
		return fail(http.StatusBadRequest, "invalid_parameter", "position", `is required (or from: "start", "now" or an RFC 3339 time)`)
	case body.From != "":
		start, err := parseStart(body.From)
		if err != nil {
			return fail(http.StatusBadRequest, "invalid_parameter", "from", err.Error())
		}
		to.Start = &start
	}
	c, err := a.Reader.MoveCheckpoint(ctx, r.Tenant, name, to)
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return fail(http.StatusBadRequest, "invalid_parameter", "position", "is not a position of this tenant's feed (use the position a page returned)")
	case errors.Is(err, store.ErrCheckpointBehind):
		return fail(http.StatusConflict, "checkpoint_conflict", "position", err.Error()+"; GET /consumers/"+name+" has where it stands")
	case errors.Is(err, store.ErrConsumerExists):
		return fail(http.StatusConflict, "checkpoint_conflict", "from", err.Error()+` ("reset": true)`)
	case err != nil:
		return a.readError(ctx, err, "checkpoint of consumer "+name)
	}
	return Response{Status: http.StatusOK, Body: c}
}

// parseStart reads where a consumer without a checkpoint starts: start, now or an RFC 3339 time.
func parseStart(v string) (store.FeedStart, error) {
	switch v {
	case "start":
		return store.FeedStart{}, nil
	case "now":
		return store.FeedStart{Now: true}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return store.FeedStart{}, fmt.Errorf(`must be "start", "now" or an RFC 3339 time such as 2026-11-10T09:00:00Z, got %q`, v)
	}
	return store.FeedStart{At: t}, nil
}
