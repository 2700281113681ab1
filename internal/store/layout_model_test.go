package store

import (
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// modelRecord is one stream record of a layout model: its bytes, shard and partition key.
type modelRecord struct {
	data  []byte
	key   string
	shard string
}

// layoutLoad is what a stream writes in the layout: write units per partition key and per kind
// of item, and the events counted.
type layoutLoad struct {
	perKey      map[string]int
	perKind     map[string]int
	perType     map[event.Type]int // write units of valid events, by type (feed share excluded)
	events      map[event.Type]int // valid events, duplicates excluded
	quarantined int
}

// modelLayout runs a stream through the layout as the router and type functions will write it:
// per shard, batches of up to batchSize records in order; per batch and tenant one feed item;
// every new event its event item and timeline entry, a decision its account's marker the first
// time, a freeze arriving late its re-flags; every bad record its quarantine items. Duplicates are
// caught by the read before the write and write nothing.
func modelLayout(records []modelRecord, batchSize int) layoutLoad {
	l := layoutLoad{perKey: map[string]int{}, perKind: map[string]int{}, perType: map[event.Type]int{}, events: map[event.Type]int{}}
	add := func(kind string, item map[string]types.AttributeValue) int {
		u := writeUnits(item)
		l.perKey[item[attrPK].(*types.AttributeValueMemberS).Value] += u
		l.perKind[kind] += u
		return u
	}
	stored := map[string]bool{}
	txnTimes := map[string][]time.Time{} // an account's stored transactions' times
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	byShard := map[string][]modelRecord{}
	var shards []string
	for _, r := range records {
		if _, ok := byShard[r.shard]; !ok {
			shards = append(shards, r.shard)
		}
		byShard[r.shard] = append(byShard[r.shard], r)
	}
	sort.Strings(shards)
	seq := 0
	for _, shard := range shards {
		recs := byShard[shard]
		for start := 0; start < len(recs); start += batchSize {
			feed := map[string][]string{} // tenant → pointers
			var tenants []string
			for _, r := range recs[start:min(start+batchSize, len(recs))] {
				seq++
				sn := strconv.Itoa(seq)
				e, err := event.Decode(r.data)
				if err != nil {
					q := routing.Quarantined{Record: routing.Record{Data: r.data, PartitionKey: r.key, ShardID: shard, SequenceNumber: sn, ArrivalTime: at}, Code: event.CodeInvalid, Reason: err.Error()}
					q.Tenant, q.EventID, q.Type = event.Peek(r.data)
					add("quarantine", quarantineItem(q, at))
					for _, item := range quarantineListing(q, at) {
						add("quarantine", item)
					}
					l.quarantined++
					continue
				}
				id := e.Tenant + "\x00" + e.ID
				if stored[id] {
					continue
				}
				stored[id] = true
				l.events[e.Type]++
				w := typefn.Write{Event: e, Fingerprint: e.Fingerprint(), SequenceNumber: sn}
				item, err := (&Store{}).eventItem(&w, at.Format(time.RFC3339Nano))
				if err != nil {
					panic(err)
				}
				u := add("event", item)
				acc := e.Tenant + "\x00" + e.Data.Account()
				for k, ai := range accountItems(e, account.ChangeOf(e)) {
					if k == 0 {
						u += add("timeline", ai)
					} else {
						u += add("marker", ai) // written with every decision: idempotent, and no read first
					}
				}
				if s, ok := e.Data.(*event.AccountStatus); ok && s.Action == event.StatusFreeze {
					from := e.Time
					if s.EffectiveAt != nil {
						from = *s.EffectiveAt
					}
					for _, t := range txnTimes[acc] { // at most: every later transaction re-flagged
						if !t.Before(from) {
							u++ // an UpdateItem of that transaction's own event item
							l.perKind["reflag"]++
						}
					}
				}
				if e.Type == event.TypeTransaction {
					txnTimes[acc] = append(txnTimes[acc], e.Time)
				}
				l.perType[e.Type] += u
				if _, ok := feed[e.Tenant]; !ok {
					tenants = append(tenants, e.Tenant)
				}
				feed[e.Tenant] = append(feed[e.Tenant], feedPointer(e.Type, e.ID))
			}
			for n, tenant := range tenants {
				add("feed", feedItem(tenant, shard, at, int64(start/batchSize*len(tenants)+n), int64(start+batchSize), feed[tenant], "49650000000000000000000000000000000000000000000000000000", "49650000000000000000000000000000000000000000000000009999"))
			}
		}
	}
	return l
}

// shardOf maps a partition key to one of n shards, as Kinesis hashes keys onto shards.
func shardOf(key string, n int) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return "shardId-" + strconv.Itoa(int(h.Sum32()%uint32(n)))
}
