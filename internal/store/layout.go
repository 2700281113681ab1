package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
)

// The layout of the event store built for its readers (docs/design.md, "The event store for its
// readers"): which items an event, a router invocation and a quarantined record write, with their
// keys. Keys are built only here and in keys.go.

// Sort keys and prefixes of the layout.
const (
	skTimelinePrefix = "E#"       // an account's timeline entry of a non-decision event
	skDecisionPrefix = "D#"       // an account's decision (fraud alert, status change): entry and record
	skMarker         = "STATE"    // an account's marker: it has decisions
	skRegistry       = "FEEDS"    // a tenant's feed partitions
	skConsumer       = "CONSUMER" // a consumer's checkpoint
	skConsumers      = "CONSS"    // a tenant's consumer names
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

// isDecision reports whether events of type t may change an account's state.
func isDecision(t event.Type) bool {
	return t == event.TypeFraudAlert || t == event.TypeAccountStatus
}

// feedPK is a tenant's feed partition for one stream shard: one writer at a time (the router of
// that shard), so it takes at most one shard's rate of the tenant.
func feedPK(tenant, shard string) string { return "FEED#" + tenant + "#" + shard }

// feedSK is a feed item's gapless counter in its partition, zero-padded so that string order is
// counter order. The counter alone is the key, so two writers can never both write item n.
func feedSK(n int64) string { return fmt.Sprintf("%0*d", feedCounterWidth, n) }

// feedRegistryPK lists a tenant's feed partitions.
func feedRegistryPK(tenant string) string { return "FEEDS#" + tenant }

// consumerPK is one named consumer of a tenant's feed, with its checkpoint: a key of its own, so
// each consumer's checkpoints take one key's write rate.
func consumerPK(tenant, name string) string { return "CONS#" + tenant + "#" + name }

// consumerRegistryPK lists a tenant's consumer names.
func consumerRegistryPK(tenant string) string { return "CONSS#" + tenant }

// quarantineShardPK holds the quarantined records of one shard and arrival day: at most one
// shard's rate, across tenants, for an operator.
func quarantineShardPK(day time.Time, shard string) string {
	return "QUAR#" + day.UTC().Format(time.DateOnly) + "#" + shard
}

// tenantQuarantinePK holds pointers to one tenant's quarantined records of one shard and day.
func tenantQuarantinePK(tenant string, day time.Time, shard string) string {
	return "QUART#" + tenant + "#" + day.UTC().Format(time.DateOnly) + "#" + shard
}

// quarantineRegistryPK lists the shards that quarantined records on a day.
func quarantineRegistryPK(day time.Time) string { return "QSHARDS#" + day.UTC().Format(time.DateOnly) }

// quarantineSK orders a shard's quarantined records of a day by arrival, then sequence number.
func quarantineSK(arrival time.Time, seq string) string { return event.TimeKey(arrival) + "#" + seq }

// feedPointer is one event in a feed item: its type's code and its id.
func feedPointer(t event.Type, id string) string { return feedTypeCode[t] + id }

// feedTypeCode is the one-letter code of each type in a feed pointer.
var feedTypeCode = map[event.Type]string{
	event.TypeTransaction: "t", event.TypeFraudAlert: "f", event.TypeAccountStatus: "s", event.TypeAccountCheck: "c",
}

// feedPointerType is the type a pointer's code names, or "".
func feedPointerType(p string) event.Type {
	for t, code := range feedTypeCode {
		if strings.HasPrefix(p, code) {
			return t
		}
	}
	return ""
}

// accountItems are an event's items in its account's partition: its timeline entry, or for a
// decision its decision item (the timeline entry and what the account's state needs) and the
// account's marker. Writing them again writes the same items.
func accountItems(e *event.Event, c *account.Change) []map[string]types.AttributeValue {
	pk := accountPK(e.Tenant, e.Data.Account())
	entry := map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(timelineSK(e)), "id": str(e.ID), "type": str(string(e.Type))}
	if !isDecision(e.Type) {
		return []map[string]types.AttributeValue{entry}
	}
	if c != nil && c.Freeze != "" {
		entry["freeze"] = str(c.Freeze)
	}
	if c != nil && c.Monitor != "" {
		entry["monitor"] = str(c.Monitor)
	}
	marker := map[string]types.AttributeValue{attrPK: str(pk), attrSK: str(skMarker),
		"tenant": str(e.Tenant), "accountId": str(e.Data.Account()), "hasDecisions": &types.AttributeValueMemberBOOL{Value: true}}
	return []map[string]types.AttributeValue{entry, marker}
}

// feedItem points to the events one router invocation committed for a tenant from a shard, in
// the order they were stored; firstSeq and lastSeq are the stream range it covers.
func feedItem(tenant, shard string, storedAt time.Time, n, count int64, pointers []string, firstSeq, lastSeq string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: str(feedPK(tenant, shard)), attrSK: str(feedSK(n)),
		"p":        str(strings.Join(pointers, "\n")),
		"n":        &types.AttributeValueMemberN{Value: fmt.Sprint(n)},
		"c":        &types.AttributeValueMemberN{Value: fmt.Sprint(count)}, // pointers through this item
		"firstSeq": str(firstSeq), "lastSeq": str(lastSeq),
		"storedAt": str(storedAt.UTC().Format(time.RFC3339Nano)),
	}
}

// writeUnits is what a standard write of item costs: one WRU per started KB.
func writeUnits(item map[string]types.AttributeValue) int {
	return max(1, (itemSize(item)+1023)/1024)
}
