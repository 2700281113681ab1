package typefn

import (
	"context"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
)

// AccountKey names an account: account ids are unique within a tenant only.
type AccountKey struct {
	Tenant  string
	Account string
}

// KeyOf returns the account key of an event.
func KeyOf(e *event.Event) AccountKey { return AccountKey{Tenant: e.Tenant, Account: e.Data.Account()} }

// Write is one event to persist, with what it adds to its account's state.
type Write struct {
	Event          *event.Event
	Fingerprint    string
	SequenceNumber string
	Change         *account.Change // nil when the event has no account effect
	BlockedBy      string          // for transactions: the event that blocks its action, or ""
}

// Outcome is what Store.Put did with one Write.
type Outcome int

// The outcomes of a Write.
const (
	OutcomeStored    Outcome = iota // written, with its account items (or written before by this very record)
	OutcomeDuplicate                // the id was stored with the same fingerprint: nothing written
	OutcomeConflict                 // the id was stored with another fingerprint: nothing written
	OutcomeFailed                   // not written for a transient reason; see PutResult.Err
)

// PutResult is the outcome of one Write.
type PutResult struct {
	Outcome Outcome
	Err     error // set when Outcome is OutcomeFailed
	// StoredAt is set when Outcome is OutcomeStored for an event an earlier attempt at this very
	// record stored (same sequence number): when that was.
	StoredAt time.Time
}

// StoredTransaction is a persisted transaction as the re-flagging step needs it.
type StoredTransaction struct {
	Key       AccountKey
	ID        string
	Time      time.Time
	Direction string
	Channel   string
	BlockedBy string
}

// Flag sets or clears the blocked flag of a stored transaction.
type Flag struct {
	Tenant    string
	ID        string
	BlockedBy string // "" clears the flag
}

// Store is the persistence a type function needs. A Lambda handles one invocation at a time, but
// the handler calls TransactionsSince from several goroutines at once: it must be safe for that.
type Store interface {
	// Put writes events idempotently, in order, each atomically with its account change: an id
	// not yet stored is written; an id stored with the same fingerprint is a duplicate; with
	// another fingerprint, a conflict. After a transient failure, Put writes none of the later
	// events of the same account (they are OutcomeFailed too), so an account's events are never
	// applied out of order; other accounts' events may be written meanwhile.
	Put(ctx context.Context, writes []Write) []PutResult
	// States reads the current state of accounts, strongly consistent. Accounts never changed
	// are absent from the map.
	States(ctx context.Context, keys []AccountKey) (map[AccountKey]account.State, error)
	// TransactionsSince lists an account's stored transactions at or after since.
	TransactionsSince(ctx context.Context, key AccountKey, since time.Time) ([]StoredTransaction, error)
	// SetFlags sets or clears the blocked flag of stored transactions.
	SetFlags(ctx context.Context, flags []Flag) error
}
