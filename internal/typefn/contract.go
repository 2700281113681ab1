// Package typefn is the type functions' contract and logic: the router sends a Batch of one
// type's records, the function validates and persists them idempotently, applies their account
// effects, and answers with one Result per record.
//
// It imports no AWS package: storage is the Store port, implemented for DynamoDB by package store.
package typefn

import "encoding/json"

// Batch is what the router sends to a type function, and what `sam local invoke` sends with the
// samples in events/. Records keep the stream's order.
type Batch struct {
	Records []Record `json:"records"`
}

// Record is one event as it came off the stream.
type Record struct {
	// SequenceNumber is the Kinesis sequence number; it correlates the Result. Empty when a
	// person invokes the function by hand.
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	// Event is the record's bytes: a CloudEvents envelope or the prototype's shape.
	Event json.RawMessage `json:"event"`
}

// Status is what became of one record.
type Status string

// The statuses of a Result.
const (
	Stored    Status = "stored"    // persisted now, with its account effects
	Duplicate Status = "duplicate" // the same event was already stored; nothing changed
	Rejected  Status = "rejected"  // can never succeed; Reason says why; the router quarantines it
	Retry     Status = "retry"     // failed for a transient reason; the router reports it failed
)

// Response is the type function's answer: one Result per Record, in the same order.
type Response struct {
	Results []Result `json:"results"`
}

// Result is what became of one record.
type Result struct {
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	ID             string `json:"id,omitempty"`
	Status         Status `json:"status"`
	// Reason says why a record was rejected or must be retried, naming the field at fault.
	Reason string `json:"reason,omitempty"`
	// BlockedBy is set on a transaction made while its action was blocked: the id of the event
	// that blocked it. The transaction is stored and flagged, not refused.
	BlockedBy string `json:"blockedBy,omitempty"`
	// StoredAt is set on a record Stored before, by an earlier attempt at this very record (the
	// stream sent it again): when its event was stored, RFC 3339. The router looks no further back
	// than that for the record in its tenant's feed.
	StoredAt string `json:"storedAt,omitempty"`
}
