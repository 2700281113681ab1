package consumer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/go-event-processor/go-event-processor/consumer"
)

// A job reads what its tenant stored since it last ran, then returns. Run instead of CatchUp
// would keep following the feed. The second consumer of the same name starts at the checkpoint
// the first one stored, so it has nothing to read.
func Example() {
	api := queryAPIStandIn("evt-1", "evt-2", "evt-3", "evt-4", "evt-5") // the real API: eventctl local up, or a deployed stack
	defer api.Close()

	for range 2 {
		c, err := consumer.New(consumer.Config{Endpoint: api.URL, Key: "local-bank-a-key", Name: "ledger", PageSize: 2})
		if err != nil {
			log.Fatal(err)
		}
		err = c.CatchUp(context.Background(), func(ctx context.Context, page consumer.Page) error {
			for _, e := range page.Events {
				fmt.Print(e.ID, " ") // the idempotency key of whatever the handler writes
			}
			fmt.Println("→ checkpoint", page.Position)
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("caught up at %s, %d events behind\n", c.Lag().Position, c.Lag().Events)
	}
	// Output:
	// evt-1 evt-2 → checkpoint 2
	// evt-3 evt-4 → checkpoint 4
	// evt-5 → checkpoint 5
	// caught up at 5, 0 events behind
	// caught up at 5, 0 events behind
}

// queryAPIStandIn serves in memory the part of the query API a Consumer calls — GET /feed,
// GET /consumers/{name}, PUT /consumers/{name}/checkpoint — over events with these ids, a
// position being how many events it is past. It only stands in for the real API, to keep the
// example self-contained.
func queryAPIStandIn(ids ...string) *httptest.Server {
	var mu sync.Mutex
	checkpoints := map[string]int{}
	answer := func(w http.ResponseWriter, name string) {
		n := checkpoints[name]
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "position": strconv.Itoa(n), "lagEvents": len(ids) - n})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed", func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.Atoi(r.FormValue("after"))
		limit, _ := strconv.Atoi(r.FormValue("limit"))
		end := min(after+limit, len(ids))
		events := []map[string]string{}
		for _, id := range ids[after:end] {
			events = append(events, map[string]string{"id": id, "type": "transaction"})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"events": events, "position": strconv.Itoa(end), "caughtUp": end == len(ids)})
	})
	mux.HandleFunc("GET /consumers/{name}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := checkpoints[r.PathValue("name")]; !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":"not_found","message":"no consumer of that name"}}`)
			return
		}
		answer(w, r.PathValue("name"))
	})
	mux.HandleFunc("PUT /consumers/{name}/checkpoint", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Position, From string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		defer mu.Unlock()
		checkpoints[r.PathValue("name")], _ = strconv.Atoi(body.Position) // {"from":"start"}: 0
		answer(w, r.PathValue("name"))
	})
	return httptest.NewServer(mux)
}
