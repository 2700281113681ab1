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
// fix and redrive it.
type Quarantined struct {
	Record
	Code   string // an event.Code* value
	Reason string // for people, naming the field at fault
	// What is known of the event, when its envelope decoded.
	Tenant  string
	EventID string
	Type    event.Type
}

// Invoker sends a batch to the function of an event type and returns its answer. An error means
// the whole batch failed for a transient reason (throttling, timeout, a function error).
type Invoker interface {
	Invoke(ctx context.Context, t event.Type, b typefn.Batch) (typefn.Response, error)
}

// Quarantine stores quarantined records. Storing the same record twice must change nothing.
type Quarantine interface {
	Quarantine(ctx context.Context, records []Quarantined) error
}
