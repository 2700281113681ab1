// Package routing is the router's logic: decode and validate each stream record once, quarantine
// what can never succeed, group the rest by type in stream order, send each group to its type's
// function in chunks under the invoke payload limit, and say which records must be retried.
//
// It imports no AWS package: type functions are reached through the Invoker port and quarantine
// is the Quarantine port.
package routing

import (
	"context"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// Record is one stream record as the router sees it.
type Record struct {
	Data           []byte
	PartitionKey   string // the account id by convention: the unit of ordering
	ShardID        string
	SequenceNumber string
	ArrivalTime    time.Time
}

// Quarantined is a record that can never succeed, kept with everything needed to understand,
// fix and redrive it. The router bounds every value it copies from the record (see the Max*
// constants), so that a quarantined record can always be logged and stored.
type Quarantined struct {
	Record
	Code   string // an event.Code* value
	Reason string // for people, naming the field at fault; at most MaxReasonBytes and "…"
	// What the record names of itself, when it can be read: its tenant (only a tenant of at
	// most MaxTenantBytes, so a real one), its id (at most MaxEventIDBytes and "…") and its type
	// (at most MaxTypeBytes and "…").
	Tenant  string
	EventID string
	Type    event.Type
}

// Feed appends the events a router invocation stored to their tenant's feed, in commit order.
// Appending entries already appended (a batch sent again) must change nothing.
type Feed interface {
	AppendFeed(ctx context.Context, tenant, shard string, entries []FeedEntry) error
}

// FeedEntry is one stored event to append to a feed.
type FeedEntry struct {
	Type           event.Type
	ID             string
	SequenceNumber string
	// StoredBefore is set for an event an earlier attempt at the same record stored: when. It may
	// be in the feed already, appended no earlier than then; zero for an event stored now.
	StoredBefore time.Time
}

// Bounds of the values a Quarantined copies from a record.
const (
	MaxReasonBytes  = 1 << 10
	MaxEventIDBytes = 128 // the envelope allows ids of up to 128 characters
	MaxTypeBytes    = 64
	MaxTenantBytes  = 63 // the envelope allows tenants of up to 63 characters
)

// Invoker sends a batch to the function of an event type and returns its answer. An error means
// the whole batch failed for a transient reason (throttling, timeout, a function error).
type Invoker interface {
	Invoke(ctx context.Context, t event.Type, b typefn.Batch) (typefn.Response, error)
}

// Quarantine stores quarantined records. Storing the same record twice must change nothing.
// It answers one error per record given, nil for each one stored, or a nil slice when every
// record was stored: one record's failure must not fail another. A record that failed is
// retried by the stream, so an error must mean a transient failure; a record whose item is
// refused for good must be stored in some smaller form instead.
type Quarantine interface {
	Quarantine(ctx context.Context, records []Quarantined) []error
}
