package typefn_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// memStore is an in-memory typefn.Store with the DynamoDB store's semantics: a conditional put per
// event id per tenant (same fingerprint: duplicate; another: conflict), each stored event applied
// to its account's state at once (State.Apply: a union), nothing written after a transient
// failure, transactions listed from the stored events, flags set on stored events only.
//
// Failures are injected through the fail* fields; the zero values inject none.
type memStore struct {
	mu     sync.Mutex
	events map[eventKey]*memEvent
	states map[typefn.AccountKey]account.State
	puts   int // writes Put has attempted, over all calls

	// failPutAt makes the failPutAt-th write attempted (from 1, counted over all calls) fail
	// transiently, and with it every later write of that call. Writes attempted after that call
	// succeed again, so a retried batch goes through.
	failPutAt int
	// failOnlyAccount makes that failure hold back only the later writes of the failing write's
	// account, as store.Store does with account-disjoint transactions; otherwise every later write.
	failOnlyAccount bool
	// failStates, failTransactions and failSetFlags, when set, are returned by States,
	// TransactionsSince and SetFlags (which then change nothing).
	failStates, failTransactions, failSetFlags error
}

var _ typefn.Store = (*memStore)(nil)

type eventKey struct{ tenant, id string }

// memEvent is a stored event.
type memEvent struct {
	Event          *event.Event
	Fingerprint    string
	SequenceNumber string
	BlockedBy      string
}

// errTransient is the failure memStore injects.
var errTransient = errors.New("ProvisionedThroughputExceededException: rate of requests exceeds the allowed throughput")

func newMemStore() *memStore {
	return &memStore{events: map[eventKey]*memEvent{}, states: map[typefn.AccountKey]account.State{}}
}

// Put writes events in order; see typefn.Store.
func (s *memStore) Put(_ context.Context, writes []typefn.Write) []typefn.PutResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	results := make([]typefn.PutResult, len(writes))
	var failed error
	var failedAccount typefn.AccountKey
	for i, w := range writes {
		if failed != nil && (!s.failOnlyAccount || typefn.KeyOf(w.Event) == failedAccount) {
			results[i] = typefn.PutResult{Outcome: typefn.OutcomeFailed, Err: failed}
			continue
		}
		s.puts++
		if s.puts == s.failPutAt {
			failed, failedAccount = fmt.Errorf("write event %s: %w", w.Event.ID, errTransient), typefn.KeyOf(w.Event)
			results[i] = typefn.PutResult{Outcome: typefn.OutcomeFailed, Err: failed}
			continue
		}
		k := eventKey{w.Event.Tenant, w.Event.ID}
		if old, ok := s.events[k]; ok {
			results[i].Outcome = typefn.OutcomeConflict
			if old.Fingerprint == w.Fingerprint {
				results[i].Outcome = typefn.OutcomeDuplicate
			}
			continue
		}
		s.events[k] = &memEvent{Event: w.Event, Fingerprint: w.Fingerprint, SequenceNumber: w.SequenceNumber, BlockedBy: w.BlockedBy}
		if w.Change != nil {
			a := typefn.KeyOf(w.Event)
			st := cloneState(s.states[a])
			st.Apply(w.Change)
			s.states[a] = st
		}
		results[i].Outcome = typefn.OutcomeStored
	}
	return results
}

// States returns copies of the accounts' states; accounts never changed are absent.
func (s *memStore) States(_ context.Context, keys []typefn.AccountKey) (map[typefn.AccountKey]account.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failStates != nil {
		return nil, s.failStates
	}
	out := make(map[typefn.AccountKey]account.State, len(keys))
	for _, k := range keys {
		if st, ok := s.states[k]; ok {
			out[k] = cloneState(st)
		}
	}
	return out, nil
}

// TransactionsSince lists the account's stored transactions at or after since, oldest first (the
// account index's order: time, then id).
func (s *memStore) TransactionsSince(_ context.Context, k typefn.AccountKey, since time.Time) ([]typefn.StoredTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failTransactions != nil {
		return nil, s.failTransactions
	}
	from := event.TimeKey(since)
	var out []typefn.StoredTransaction
	for _, e := range s.events {
		t, ok := e.Event.Data.(*event.Transaction)
		if !ok || typefn.KeyOf(e.Event) != k || event.TimeKey(e.Event.Time) < from {
			continue
		}
		out = append(out, typefn.StoredTransaction{Key: k, ID: e.Event.ID, Time: e.Event.Time,
			Direction: t.Direction, Channel: t.Channel, BlockedBy: e.BlockedBy})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := event.TimeKey(out[i].Time), event.TimeKey(out[j].Time)
		return a < b || (a == b && out[i].ID < out[j].ID)
	})
	return out, nil
}

// SetFlags sets or clears flags, all or none: a flag on an event not stored is an error, as the
// DynamoDB store's attribute_exists condition makes it.
func (s *memStore) SetFlags(_ context.Context, flags []typefn.Flag) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failSetFlags != nil {
		return s.failSetFlags
	}
	for _, f := range flags {
		if _, ok := s.events[eventKey{f.Tenant, f.ID}]; !ok {
			return fmt.Errorf("flag transaction %s of tenant %s: not stored", f.ID, f.Tenant)
		}
	}
	for _, f := range flags {
		s.events[eventKey{f.Tenant, f.ID}].BlockedBy = f.BlockedBy
	}
	return nil
}

// heal removes every injected failure.
func (s *memStore) heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPutAt, s.failOnlyAccount, s.failStates, s.failTransactions, s.failSetFlags = 0, false, nil, nil, nil
}

// stored returns a copy of a stored event.
func (s *memStore) stored(tenant, id string) (memEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.events[eventKey{tenant, id}]
	if !ok {
		return memEvent{}, false
	}
	return *e, true
}

// snapshot is what the pipeline's outcome is: every account's freeze log and monitoring level,
// every stored event's fingerprint, and every transaction's flag.
type snapshot struct {
	FreezeLog   map[typefn.AccountKey][]string
	Monitoring  map[typefn.AccountKey]string
	Events      map[eventKey]string // fingerprint
	BlockedBy   map[eventKey]string // transactions only
	Transaction int                 // how many transactions are stored
}

func (s *memStore) snapshot() snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := snapshot{
		FreezeLog: map[typefn.AccountKey][]string{}, Monitoring: map[typefn.AccountKey]string{},
		Events: map[eventKey]string{}, BlockedBy: map[eventKey]string{},
	}
	for k, st := range s.states {
		snap.FreezeLog[k] = slices.Clone(st.FreezeLog)
		snap.Monitoring[k] = st.MonitoringLevel()
	}
	for k, e := range s.events {
		snap.Events[k] = e.Fingerprint
		if e.Event.Type == event.TypeTransaction {
			snap.BlockedBy[k] = e.BlockedBy
			snap.Transaction++
		}
	}
	return snap
}

func cloneState(st account.State) account.State {
	return account.State{FreezeLog: slices.Clone(st.FreezeLog), MonitorLevels: slices.Clone(st.MonitorLevels)}
}
