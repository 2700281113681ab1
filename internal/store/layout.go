package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/bounded"
)

// The layout of the event store built for its readers (docs/design.md, "The event store for its
// readers"): which items an event, a router invocation and a quarantined record write, with their
// keys. The key-load and write-unit tests count these items; the write path is moving onto them.
// Keys are built only here.

// Sort keys and prefixes of the layout.
const (
	skTimelinePrefix = "E#"    // an account's timeline entry of a non-decision event
	skDecisionPrefix = "D#"    // an account's decision (fraud alert, status change): entry and record
	skMarker         = "STATE" // an account's marker: it has decisions
	skRegistry       = "FEEDS" // a tenant's feed partitions
	feedCounterWidth = 12
)

// timelineSK is the sort key of an event in its account's partition: decisions apart from other
// events, each by event time, then id.
func timelineSK(e *event.Event) string {
	prefix := skTimelinePrefix
	if isDecision(e.Type) {
		prefix = skDecisionPrefix
	}
	return prefix + event.TimeKey(e.Time) + "#" + e.ID
}

// isDecision reports whether events of type t change an account's state.
func isDecision(t event.Type) bool {
	return t == event.TypeFraudAlert || t == event.TypeAccountStatus
}

// feedPK is a tenant's feed partition for one stream shard: one writer at a time (the router of
// that shard), so it takes at most one shard's rate of the tenant.
func feedPK(tenant, shard string) string { return "FEED#" + tenant + "#" + shard }

// feedSK orders a feed partition's items by storage time, then by their gapless counter.
func feedSK(storedAt time.Time, n int64) string {
	return fmt.Sprintf("%s#%0*d", event.TimeKey(storedAt), feedCounterWidth, n)
}

// feedRegistryPK lists a tenant's feed partitions.
func feedRegistryPK(tenant string) string { return "FEEDS#" + tenant }

// quarantineShardPK holds the quarantined records of one shard and arrival day: at most one
// shard's rate, across tenants, for an operator.
func quarantineShardPK(day time.Time, shard string) string {
	return "QUAR#" + day.UTC().Format(time.DateOnly) + "#" + shard
}

// tenantQuarantinePK holds pointers to one tenant's quarantined records of one shard and day.
func tenantQuarantinePK(tenant string, day time.Time, shard string) string {
	return "QUART#" + tenant + "#" + day.UTC().Format(time.DateOnly) + "#" + shard
}

// feedPointer is one event in a feed item: its type's code and its id.
func feedPointer(t event.Type, id string) string { return feedTypeCode[t] + id }

// feedTypeCode is the one-letter code of each type in a feed pointer.
var feedTypeCode = map[event.Type]string{
	event.TypeTransaction: "t", event.TypeFraudAlert: "f", event.TypeAccountStatus: "s", event.TypeAccountCheck: "c",
}

// layoutEventItem is the event's item in the layout: today's event item without the index
// attributes, with the shard its record came from (so that a redelivered record is told from a
// duplicate).
func layoutEventItem(item map[string]types.AttributeValue, shard string) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		switch k {
		case attrGSI1PK, attrGSI1SK, attrGSI2PK, attrGSI2SK:
			continue
		}
		out[k] = v
	}
	out["shardId"] = str(shard)
	return out
}

// timelineItem is an event's entry in its account's partition; for a decision it is also the
// decision record, holding what account state needs.
func timelineItem(e *event.Event) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		attrPK: str(accountPK(e.Tenant, e.Data.Account())), attrSK: str(timelineSK(e)),
		"type": str(string(e.Type)),
	}
	switch p := e.Data.(type) {
	case *event.FraudAlert:
		item["severity"], item["recommendedAction"] = str(p.Severity), str(p.RecommendedAction)
	case *event.AccountStatus:
		item["action"] = str(p.Action)
		if len(p.BlockedActions) > 0 {
			item["blockedActions"] = &types.AttributeValueMemberSS{Value: p.BlockedActions}
		}
		if p.MonitoringLevel != "" {
			item["monitoringLevel"] = str(p.MonitoringLevel)
		}
		if p.EffectiveAt != nil {
			item["effectiveAt"] = str(event.TimeKey(*p.EffectiveAt))
		}
	}
	return item
}

// markerItem marks an account that has decisions, so that a transaction's flag needs a query of
// its decisions only then. It is written once, and never grows.
func markerItem(tenant, account string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str(accountPK(tenant, account)), attrSK: str(skMarker),
		"hasDecisions": &types.AttributeValueMemberBOOL{Value: true},
	}
}

// feedItem points to the events one router invocation committed for a tenant from a shard, in
// the order they were stored; firstSeq and lastSeq are the stream range it covers.
func feedItem(tenant, shard string, storedAt time.Time, n int64, pointers []string, firstSeq, lastSeq string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str(feedPK(tenant, shard)), attrSK: str(feedSK(storedAt, n)),
		"p":        str(strings.Join(pointers, "\n")),
		"firstSeq": str(firstSeq), "lastSeq": str(lastSeq),
		"storedAt": str(storedAt.UTC().Format(time.RFC3339Nano)),
	}
}

// layoutQuarantineItems are a quarantined record's items in the layout: the record under its
// shard and day, and, when its tenant is known, a pointer under the tenant's.
func layoutQuarantineItems(item map[string]types.AttributeValue, tenant, shard, seq string, arrival time.Time) []map[string]types.AttributeValue {
	rec := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		switch k {
		case attrGSI2PK, attrGSI2SK:
			continue
		}
		rec[k] = v
	}
	sk := event.TimeKey(arrival) + "#" + seq
	rec[attrPK], rec[attrSK] = str(quarantineShardPK(arrival, shard)), str(sk)
	out := []map[string]types.AttributeValue{rec}
	if tenant != "" {
		ptr := map[string]types.AttributeValue{attrPK: str(tenantQuarantinePK(tenant, arrival, shard)), attrSK: str(sk)}
		for _, k := range []string{"code", "type", "eventId"} {
			if v, ok := item[k]; ok {
				ptr[k] = v
			}
		}
		if r, ok := item["reason"].(*types.AttributeValueMemberS); ok {
			ptr["reason"] = str(bounded.String(r.Value, maxMinimalReasonBytes))
		}
		out = append(out, ptr)
	}
	return out
}

// writeUnits is what a standard write of item costs: one WRU per started KB.
func writeUnits(item map[string]types.AttributeValue) int {
	return max(1, (itemSize(item)+1023)/1024)
}
