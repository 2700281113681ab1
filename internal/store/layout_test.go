package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
)

// maxWriteUnitsPerEvent is the layout's budget of DynamoDB write units per valid event, all in
// (event, timeline, decisions, markers, re-flags, feed and quarantine shares): today's model
// writes about 4.1.
const maxWriteUnitsPerEvent = 2.3

// TestLayoutWriteUnitsPerEvent counts the write units the layout spends on the bench's generated
// mix (bench --events 3000 --accounts 100000: nearly every account sees one event per batch, so
// no packing by account flatters the figure), from the sizes of the items it writes.
func TestLayoutWriteUnitsPerEvent(t *testing.T) {
	var records []modelRecord
	for _, r := range eventgen.Generate(eventgen.Options{Events: 3000, Accounts: 100000, Seed: 1}) {
		records = append(records, modelRecord{data: r.Data, key: r.PartitionKey, shard: "shardId-000000000000"})
	}
	l := modelLayout(records, 500)
	valid, units := 0, 0
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s %6s %8s\n", "type", "events", "WRU/event")
	for _, typ := range event.Types {
		valid += l.events[typ]
		units += l.perType[typ]
		fmt.Fprintf(&b, "%-15s %6d %8.2f\n", typ, l.events[typ], float64(l.perType[typ])/float64(max(1, l.events[typ])))
	}
	feed, quarantine := float64(l.perKind["feed"])/float64(valid), float64(l.perKind["quarantine"])/float64(valid)
	all := (float64(units) + float64(l.perKind["feed"]+l.perKind["quarantine"])) / float64(valid)
	fmt.Fprintf(&b, "valid events %d (%.2f WRU each), feed share %.3f, quarantine share %.3f (%d records), all in %.2f WRU per valid event\n",
		valid, float64(units)/float64(valid), feed, quarantine, l.quarantined, all)
	for _, k := range []string{"event", "timeline", "marker", "reflag", "feed", "quarantine"} {
		fmt.Fprintf(&b, "  %-10s %5d WRU\n", k, l.perKind[k])
	}
	t.Log("\n" + b.String())
	if all > maxWriteUnitsPerEvent {
		t.Errorf("the layout writes %.2f WRU per valid event, all in; the budget is %.1f", all, maxWriteUnitsPerEvent)
	}
}

// Scale case of the key-load model: one tenant with 80% of the traffic on 100 shards at 1,000
// events/s each, its hottest account taking 1% of its events, for one second.
const (
	keyLoadShards         = 100
	keyLoadEventsPerShard = 1000
	keyLoadTenantShare    = 0.8
	keyLoadHotShare       = 0.01
	maxWRUPerKeyPerSecond = 1000 // DynamoDB's limit per partition key (table and each index)
)

// TestKeyLoadScaleCase builds the items of the scale case's second of traffic with the layout's
// own key functions and counts the write units every partition key receives: none may take more
// than DynamoDB's 1,000 WRU/s. It counts; it does not time.
func TestKeyLoadScaleCase(t *testing.T) {
	total := keyLoadShards * keyLoadEventsPerShard
	gen := eventgen.Generate(eventgen.Options{Events: total, Accounts: total / 2, Tenants: []string{"small-1", "small-2", "small-3", "small-4"}, Seed: 9})
	records := make([]modelRecord, 0, len(gen))
	bigEvents, hot := 0, 0
	for i, r := range gen {
		e, err := event.Decode(r.Data)
		if err == nil && i%5 != 0 { // 80% of the valid events are the big tenant's
			e.Tenant = "big"
			bigEvents++
			if bigEvents%int(1/keyLoadHotShare) == 0 {
				setAccount(e, "acc-hot")
				hot++
			}
			if r.Data, err = json.Marshal(e); err != nil {
				t.Fatal(err)
			}
			r.PartitionKey = e.Subject
		}
		records = append(records, modelRecord{data: r.Data, key: r.PartitionKey, shard: shardOf(r.PartitionKey, keyLoadShards)})
	}
	l := modelLayout(records, 500)
	type load struct {
		key string
		wru int
	}
	var loads []load
	for k, u := range l.perKey {
		loads = append(loads, load{k, u})
	}
	sort.Slice(loads, func(i, j int) bool { return loads[i].wru > loads[j].wru })
	var b strings.Builder
	fmt.Fprintf(&b, "%d records in one second (%d of the big tenant, %d on its hottest account); hottest keys, WRU/s:\n", len(records), bigEvents, hot)
	seen := map[string]bool{}
	for _, ld := range loads {
		kind := ld.key[:strings.IndexByte(ld.key, '#')]
		if !seen[kind] { // the hottest key of each kind
			seen[kind] = true
			fmt.Fprintf(&b, "  %-6s %6d  %s\n", kind, ld.wru, ld.key)
		}
		if ld.wru > maxWRUPerKeyPerSecond {
			t.Errorf("partition key %s takes %d WRU/s, more than DynamoDB's %d", ld.key, ld.wru, maxWRUPerKeyPerSecond)
		}
	}
	t.Log("\n" + b.String())
}

// setAccount moves an event to another account.
func setAccount(e *event.Event, account string) {
	e.Subject = account
	switch p := e.Data.(type) {
	case *event.Transaction:
		p.AccountID = account
	case *event.FraudAlert:
		p.AccountID = account
	case *event.AccountStatus:
		p.AccountID = account
	case *event.AccountCheck:
		p.AccountID = account
	}
}
