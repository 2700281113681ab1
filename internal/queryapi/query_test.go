package queryapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/queryapi"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

func TestMain(m *testing.M) { emutest.Main(m) }

// seeded returns an API on a table holding a generated stream, what the stream should leave, and
// how many records it quarantined (those that do not decode, all put under bank-a).
func seeded(t *testing.T) (*queryapi.API, eventgen.Expected, int) {
	stack := emutest.Start(t)
	s := store.New(stack.DynamoDB, stack.CreateTable(t, store.Schema))
	recs := eventgen.Generate(eventgen.Options{Events: 400, Accounts: 6, Seed: 5, Tenants: []string{"bank-a", "bank-b"}})
	want := eventgen.Expect(recs)
	var batches = map[event.Type]*typefn.Batch{}
	var bad []routing.Quarantined
	for i, r := range recs {
		e, err := event.Decode(r.Data)
		if err != nil {
			bad = append(bad, routing.Quarantined{Record: routing.Record{Data: r.Data, ShardID: "shardId-0", SequenceNumber: string(rune('a'+i%26)) + time.Now().Format("150405.000000000"), ArrivalTime: time.Now()}, Code: "invalid", Reason: err.Error(), Tenant: "bank-a"})
			continue
		}
		if batches[e.Type] == nil {
			batches[e.Type] = &typefn.Batch{}
		}
		batches[e.Type].Records = append(batches[e.Type].Records, typefn.Record{Event: r.Data})
	}
	for _, typ := range event.Types {
		if _, err := typefn.New(typ, s, nil).Handle(t.Context(), *batches[typ]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Quarantine(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	return &queryapi.API{Reader: s}, want, len(bad)
}

func get(t *testing.T, api *queryapi.API, tenant, path string, params map[string]string, into any) int {
	t.Helper()
	resp := api.Handle(context.Background(), queryapi.Request{Method: http.MethodGet, Path: path, Params: params, Tenant: tenant})
	b, _ := json.Marshal(resp.Body)
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatal(err)
		}
	}
	return resp.Status
}

func TestQueryAPI(t *testing.T) {
	api, want, quarantined := seeded(t)
	perAccount := map[string]int{}
	var anyA, anyB *event.Event
	for _, e := range want.Stored {
		perAccount[e.Tenant+"/"+e.Subject]++
		if e.Tenant == "bank-a" && anyA == nil {
			anyA = e
		}
		if e.Tenant == "bank-b" && anyB == nil {
			anyB = e
		}
	}

	t.Run("event by id, and another tenant's is 404", func(t *testing.T) {
		var got store.StoredEvent
		if s := get(t, api, "bank-a", "/events/"+anyA.ID, nil, &got); s != 200 || got.ID != anyA.ID {
			t.Errorf("status %d, %+v", s, got)
		}
		var e queryapi.Error
		if s := get(t, api, "bank-b", "/events/"+anyA.ID, nil, &e); s != 404 || e.Error.Code != "not_found" {
			t.Errorf("bank-b reading bank-a's event: %d %+v", s, e)
		}
		if s := get(t, api, "bank-a", "/accounts/"+anyB.Subject, nil, nil); s != 404 && anyA.Subject != anyB.Subject {
			t.Errorf("bank-a reading bank-b's account: %d", s)
		}
	})

	t.Run("an account's events over several pages, newest first", func(t *testing.T) {
		for key, n := range perAccount {
			tenant, acc := key[:6], key[7:]
			var all []store.StoredEvent
			cursor, pages := "", 0
			for {
				params := map[string]string{"limit": "7"}
				if cursor != "" {
					params["cursor"] = cursor
				}
				var page store.Page
				if s := get(t, api, tenant, "/accounts/"+acc+"/events", params, &page); s != 200 {
					t.Fatalf("status %d", s)
				}
				all, cursor, pages = append(all, page.Events...), page.Cursor, pages+1
				if cursor == "" || pages > 200 {
					break
				}
			}
			if len(all) != n {
				t.Errorf("%s: %d events over %d pages, want %d", key, len(all), pages, n)
			}
			for i := 1; i < len(all); i++ {
				if all[i].Time > all[i-1].Time {
					t.Fatalf("%s: not newest first", key)
				}
			}
		}
	})

	t.Run("time range and type filter", func(t *testing.T) {
		from, to := anyA.Time.Add(-time.Hour), anyA.Time.Add(time.Hour)
		wantN := 0
		for _, e := range want.Stored {
			if e.Tenant == "bank-a" && e.Subject == anyA.Subject && e.Type == event.TypeTransaction && !e.Time.Before(from) && !e.Time.After(to) {
				wantN++
			}
		}
		got := 0
		for cursor := ""; ; {
			params := map[string]string{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339), "type": "transaction", "limit": "500"}
			if cursor != "" {
				params["cursor"] = cursor
			}
			var page store.Page
			if s := get(t, api, "bank-a", "/accounts/"+anyA.Subject+"/events", params, &page); s != 200 {
				t.Fatalf("status %d", s)
			}
			for _, e := range page.Events {
				if e.Type != "transaction" {
					t.Errorf("type filter let %s through", e.Type)
				}
			}
			got += len(page.Events)
			if cursor = page.Cursor; cursor == "" {
				break
			}
		}
		if got != wantN {
			t.Errorf("%d transactions in range, want %d", got, wantN)
		}
	})

	t.Run("account state and quarantine", func(t *testing.T) {
		for _, e := range want.Stored {
			if e.Type != event.TypeFraudAlert {
				continue
			}
			var v store.AccountView
			if s := get(t, api, e.Tenant, "/accounts/"+e.Subject, nil, &v); s != 200 || v.AccountID != e.Subject || v.MonitoringLevel == "" {
				t.Errorf("account %s after a fraud alert: %d %+v", e.Subject, s, v)
			}
			break
		}
		var q queryapi.QuarantinePage
		if s := get(t, api, "bank-a", "/quarantine", nil, &q); s != 200 || len(q.Records) != quarantined {
			t.Errorf("quarantine: %d, %d records, want %d", s, len(q.Records), quarantined)
		}
		if s := get(t, api, "bank-b", "/quarantine", nil, &q); s != 200 || len(q.Records) != 0 {
			t.Errorf("bank-b sees bank-a's quarantine: %d records", len(q.Records))
		}
	})

	t.Run("a cursor of another query is a 400 naming cursor", func(t *testing.T) {
		var acc, other string
		for k, n := range perAccount {
			tenant, id, _ := strings.Cut(k, "/")
			if tenant == "bank-a" && n > 1 && acc == "" {
				acc = id
			} else if tenant == "bank-a" && other == "" {
				other = id
			}
		}
		var page store.Page
		if s := get(t, api, "bank-a", "/accounts/"+acc+"/events", map[string]string{"limit": "1"}, &page); s != 200 || page.Cursor == "" {
			t.Fatalf("first page of %s: %d, cursor %q", acc, s, page.Cursor)
		}
		for _, c := range []struct {
			tenant, account string
			params          map[string]string
		}{
			{"bank-a", other, nil}, // another account
			{"bank-b", acc, nil},   // another tenant
			{"bank-a", acc, map[string]string{"type": "transaction"}}, // another filter
			{"bank-a", acc, map[string]string{"from": "2026-01-01T00:00:00Z"}},
		} {
			params := map[string]string{"cursor": page.Cursor}
			for k, v := range c.params {
				params[k] = v
			}
			var e queryapi.Error
			if s := get(t, api, c.tenant, "/accounts/"+c.account+"/events", params, &e); s != 400 || e.Error.Parameter != "cursor" {
				t.Errorf("cursor of %s used by %s/%s %v: %d %+v, want 400 naming cursor", acc, c.tenant, c.account, c.params, s, e)
			}
		}
	})
	t.Run("bad requests name the parameter", func(t *testing.T) {
		cases := []struct {
			tenant, path string
			params       map[string]string
			status       int
			param        string
		}{
			{"", "/events/x", nil, 401, ""},
			{"bank-a", "/accounts/x/events", map[string]string{"from": "yesterday"}, 400, "from"},
			{"bank-a", "/accounts/x/events", map[string]string{"limit": "0"}, 400, "limit"},
			{"bank-a", "/accounts/x/events", map[string]string{"limit": "9999"}, 400, "limit"},
			{"bank-a", "/accounts/x/events", map[string]string{"type": "loan"}, 400, "type"},
			{"bank-a", "/accounts/x/events", map[string]string{"cursor": "garbage!"}, 400, "cursor"},
			{"bank-a", "/accounts/x/events", map[string]string{"tenant": "bank-b"}, 400, "tenant"},
			{"bank-a", "/accounts/x/events", map[string]string{"from": "2026-11-11T00:00:00Z", "to": "2026-11-10T00:00:00Z"}, 400, "to"},
			{"bank-a", "/quarantine", map[string]string{"from": "2026-01-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, 400, "from"},
			{"bank-a", "/nowhere", nil, 404, ""},
		}
		for _, c := range cases {
			var e queryapi.Error
			if s := get(t, api, c.tenant, c.path, c.params, &e); s != c.status || e.Error.Parameter != c.param || e.Error.Message == "" {
				t.Errorf("%s %v: %d %+v, want %d naming %q", c.path, c.params, s, e, c.status, c.param)
			}
		}
	})
}
