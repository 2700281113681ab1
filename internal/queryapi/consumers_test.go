package queryapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/queryapi"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// TestConsumersAPI: the feed and consumer routes answer 400 naming the parameter at fault, 404
// for another tenant's consumer, 409 for a start given to an existing consumer.
func TestConsumersAPI(t *testing.T) {
	stack := emutest.Start(t)
	api := &queryapi.API{Reader: store.New(stack.DynamoDB, stack.CreateTable(t, store.Schema))}
	call := func(tenant, method, path string, params map[string]string, body string) (int, queryapi.ErrorDetail, []byte) {
		resp := api.Handle(context.Background(), queryapi.Request{Method: method, Path: path, Params: params, Body: body, Tenant: tenant})
		b, _ := json.Marshal(resp.Body)
		var e queryapi.Error
		_ = json.Unmarshal(b, &e)
		return resp.Status, e.Error, b
	}
	status, _, b := call("bank-a", http.MethodPut, "/consumers/ledger/checkpoint", nil, `{"from":"start"}`)
	var c store.Consumer
	if err := json.Unmarshal(b, &c); status != http.StatusOK || err != nil || c.Name != "ledger" || c.Position == "" {
		t.Fatalf("create a consumer: %d %s", status, b)
	}
	for _, tc := range []struct {
		method, path string
		params       map[string]string
		body         string
		status       int
		param        string
	}{
		{"GET", "/feed", map[string]string{"limit": "0"}, "", 400, "limit"},
		{"GET", "/feed", map[string]string{"limit": "1001"}, "", 400, "limit"},
		{"GET", "/feed", map[string]string{"types": "transaction,nope"}, "", 400, "types"},
		{"GET", "/feed", map[string]string{"from": "yesterday"}, "", 400, "from"},
		{"GET", "/feed", map[string]string{"after": c.Position, "from": "2026-11-01T00:00:00Z"}, "", 400, "from"},
		{"GET", "/feed", map[string]string{"after": "not-a-position"}, "", 400, "after"},
		{"GET", "/feed", map[string]string{"cursor": "x"}, "", 400, "cursor"},
		{"GET", "/consumers/bad name", nil, "", 400, "name"},
		{"GET", "/consumers", map[string]string{"x": "1"}, "", 400, "x"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `{"position":"x"}`, 400, "position"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `{}`, 400, "position"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `{"from":"soon"}`, 400, "from"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `{"from":"start","position":"` + c.Position + `"}`, 400, "from"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `{"from":"start","rest":true}`, 400, "rest"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `not json`, 400, "body"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `{"position":5}`, 400, "position"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `{"from":"start","reset":"yes"}`, 400, "reset"},
		{"PUT", "/consumers/../checkpoint", nil, `{"from":"start"}`, 400, "name"},
		{"PUT", "/consumers/ledger/checkpoint", nil, `{"from":"start"}`, 409, "from"},
		{"GET", "/consumers/ledger/checkpoint", nil, "", 405, ""},
		{"PUT", "/consumers/ledger", nil, "", 405, ""},
	} {
		status, e, b := call("bank-a", tc.method, tc.path, tc.params, tc.body)
		if status != tc.status || e.Parameter != tc.param {
			t.Errorf("%s %s %v %s: %d naming %q, want %d naming %q (%s)", tc.method, tc.path, tc.params, tc.body, status, e.Parameter, tc.status, tc.param, b)
		}
	}
	if status, _, _ := call("bank-b", http.MethodGet, "/consumers/ledger", nil, ""); status != http.StatusNotFound {
		t.Errorf("another tenant's consumer: %d, want 404", status)
	}
	if status, _, _ := call("bank-b", http.MethodPut, "/consumers/ledger/checkpoint", nil, `{"position":"`+c.Position+`"}`); status != http.StatusBadRequest {
		t.Errorf("another tenant's position: %d, want 400", status)
	}
	var list queryapi.ConsumerList
	status, _, b = call("bank-a", http.MethodGet, "/consumers", nil, "")
	if err := json.Unmarshal(b, &list); status != 200 || err != nil || len(list.Consumers) != 1 {
		t.Errorf("GET /consumers: %d %s", status, b)
	}
	var page store.FeedPage
	status, _, b = call("bank-a", http.MethodGet, "/feed", nil, "")
	if err := json.Unmarshal(b, &page); status != 200 || err != nil || !page.CaughtUp || page.Events == nil {
		t.Errorf("GET /feed of an empty feed: %d %s", status, b)
	}
}
