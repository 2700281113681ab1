package e2e_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/google/uuid"

	"github.com/go-event-processor/go-event-processor/consumer"
	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/producer"
)

// received is what one consumer's handler was given, in order.
type received struct {
	mu     sync.Mutex
	events []consumer.Event
}

func (r *received) handler(_ context.Context, p consumer.Page) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, p.Events...)
	return nil
}

func (r *received) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, len(r.events))
	for i, e := range r.events {
		ids[i] = e.ID
	}
	return ids
}

// perAccount is the order of the events of each account: an account's records are on one
// shard, so this is commit order per shard, seen through its accounts.
func perAccount(events []consumer.Event) map[string][]string {
	out := map[string][]string{}
	for _, e := range events {
		out[e.AccountID] = append(out[e.AccountID], e.ID)
	}
	return out
}

// TestConsumersOnTheStack: on a stream of two shards, two named consumers of bank-a and one of
// bank-b follow the feed through the query API while a mixed stream is sent. Each sees exactly
// its tenant's stored events, once, in commit order per shard; quarantined records never. An
// event whose time is a day older than everything consumed, sent afterwards, reaches the next
// run; another tenant lists none of these consumers; a reset replays everything in the same
// order.
func TestConsumersOnTheStack(t *testing.T) {
	root := repositoryRoot(t)
	keys, err := devstack.ReadAPIKeys(filepath.Join(root, "api-keys.local.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, ran := runStack(t, devstack.Options{Root: root, Mappings: true, LogDir: t.TempDir(), APIKeys: keys,
		Parameters: map[string]string{"ShardCount": "2"}})
	stream := st.Resources.Streams[0].Name
	shards, err := st.Kinesis.ListShards(t.Context(), &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil || len(shards.Shards) != 2 {
		t.Fatalf("the stream has %d shards (%v), want 2", len(shards.Shards), err)
	}
	api := st.APIEndpoints["QueryApi"]
	cfg := func(key, name string) consumer.Config {
		return consumer.Config{Endpoint: api, Key: key, Name: name, PollInterval: 50 * time.Millisecond, PageSize: 57}
	}
	type follower struct {
		tenant string
		c      *consumer.Consumer
		got    *received
	}
	var followers []follower
	for _, f := range []struct{ key, tenant, name string }{
		{"local-bank-a-key", "bank-a", "ledger"}, {"local-bank-a-key", "bank-a", "fraud-analytics"}, {"local-bank-b-key", "bank-b", "ledger"},
	} {
		c, err := consumer.New(cfg(f.key, f.name))
		if err != nil {
			t.Fatal(err)
		}
		followers = append(followers, follower{tenant: f.tenant, c: c, got: &received{}})
	}
	follow, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, f := range followers {
		wg.Go(func() {
			if err := f.c.Run(follow, f.got.handler); err != nil {
				t.Errorf("consumer %s of %s: %v", f.c.Name(), f.tenant, err)
			}
		})
	}
	want, _ := sendAndDrain(t, st, ran, eventgen.Options{Events: 1500, Accounts: 40, Tenants: []string{"bank-a", "bank-b"}}, 120*time.Second)
	if want.QuarantinedTotal() == 0 {
		t.Fatal("the stream quarantines nothing: the test would not show that quarantined records are never delivered")
	}
	stored := map[string][]string{}
	for _, e := range want.Stored {
		stored[e.Tenant] = append(stored[e.Tenant], e.ID)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, f := range followers {
		for len(f.got.ids()) < len(stored[f.tenant]) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond) // a few more polls: nothing more may come
	stop()
	wg.Wait()
	first := map[string][]consumer.Event{}
	for _, f := range followers {
		ids := f.got.ids()
		t.Logf("consumer %s of %s: %d events (%d stored, %d records quarantined in all)", f.c.Name(), f.tenant, len(ids), len(stored[f.tenant]), want.QuarantinedTotal())
		if !sameIDs(ids, stored[f.tenant]) || len(ids) != len(stored[f.tenant]) {
			t.Errorf("consumer %s of %s: %d events (%d distinct), want the %d stored, each once", f.c.Name(), f.tenant, len(ids), len(distinct(ids)), len(stored[f.tenant]))
		}
		for account, order := range perAccount(f.got.events) {
			if seqs := sequenceNumbers(f.got.events, account); !slices.IsSortedFunc(seqs, seqCompare) {
				t.Errorf("consumer %s of %s: account %s's %d events not in commit order", f.c.Name(), f.tenant, account, len(order))
			}
		}
		if lag := f.c.Lag(); lag.Events != 0 || !lag.CaughtUp {
			t.Errorf("consumer %s of %s: lag %+v, want none", f.c.Name(), f.tenant, lag)
		}
		if f.c.Name() == "ledger" && f.tenant == "bank-a" {
			first[f.tenant] = f.got.events
		}
	}

	// A late event: its time a day older than everything consumed, stored after the consumers
	// caught up. The next run of ledger reads it, and only it.
	oldest := time.Now()
	for _, e := range first["bank-a"] {
		if at, err := time.Parse(time.RFC3339Nano, e.Time); err == nil && at.Before(oldest) {
			oldest = at
		}
	}
	amount := int64(1250)
	late, err := producer.Transaction("bank-a", "urn:bank:authorizer", oldest.Add(-24*time.Hour), event.Transaction{
		TransactionID: uuid.NewString(), AccountID: first["bank-a"][0].AccountID, CustomerID: "cus-late", Amount: &amount,
		Currency: "EUR", Direction: event.ActionDebit, Channel: event.ActionCard})
	if err != nil {
		t.Fatal(err)
	}
	p, err := producer.New(st.Kinesis, stream)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := p.Send(t.Context(), late); err != nil || len(res.Failed) > 0 {
		t.Fatalf("send the late event: %v %+v", err, res.Failed)
	}
	ledger, err := consumer.New(cfg("local-bank-a-key", "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	next := &received{}
	for deadline := time.Now().Add(60 * time.Second); len(next.ids()) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := ledger.CatchUp(t.Context(), next.handler); err != nil {
			t.Fatal(err)
		}
	}
	if ids := next.ids(); !slices.Equal(ids, []string{late.ID}) {
		t.Errorf("the next run after a late event read %v, want only %s", ids, late.ID)
	}

	// Another tenant's key lists its own consumer only, and cannot read bank-a's.
	listed, err := consumer.List(t.Context(), cfg("local-bank-b-key", "ledger"))
	if err != nil || len(listed) != 1 || listed[0].Name != "ledger" {
		t.Errorf("bank-b's consumers: %+v, %v; want its ledger only", listed, err)
	}

	// A reset replays everything, in the same order per shard as the first run, and in the same
	// order as another replay.
	replay := func() []consumer.Event {
		c, err := consumer.New(consumer.Config{Endpoint: api, Key: "local-bank-a-key", Name: "ledger", Reset: true, PageSize: 200})
		if err != nil {
			t.Fatal(err)
		}
		got := &received{}
		if err := c.CatchUp(t.Context(), got.handler); err != nil {
			t.Fatal(err)
		}
		return got.events
	}
	again := replay()
	withLate := append(slices.Clone(first["bank-a"]), next.events...)
	if !sameIDs(idsOf(again), idsOf(withLate)) || len(again) != len(withLate) {
		t.Errorf("a reset replayed %d events, want the %d read before", len(again), len(withLate))
	}
	firstOrder := perAccount(withLate)
	for account, order := range perAccount(again) {
		if !slices.Equal(order, firstOrder[account]) {
			t.Errorf("account %s: replayed in another order than first read", account)
		}
	}
	if twice := replay(); !slices.Equal(idsOf(twice), idsOf(again)) {
		t.Errorf("two replays differ in order")
	}
}

func idsOf(events []consumer.Event) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

func distinct(ids []string) []string { return slices.Compact(slices.Sorted(slices.Values(ids))) }

func sameIDs(a, b []string) bool { return slices.Equal(distinct(a), distinct(b)) }

func sequenceNumbers(events []consumer.Event, account string) []string {
	var seqs []string
	for _, e := range events {
		if e.AccountID == account {
			seqs = append(seqs, e.SequenceNumber)
		}
	}
	return seqs
}

func seqCompare(a, b string) int {
	switch {
	case seqLess(a, b):
		return -1
	case seqLess(b, a):
		return 1
	}
	return 0
}
