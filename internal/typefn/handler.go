package typefn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
	"github.com/go-event-processor/go-event-processor/internal/parallel"
)

// Handler persists the batches of one event type. It is the Lambda handler of each type function.
type Handler struct {
	Type  event.Type
	Store Store
	Log   *slog.Logger
}

// New returns the handler of type t's function.
func New(t event.Type, s Store, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{Type: t, Store: s, Log: log}
}

// Handle validates and persists a batch. Every record gets a Result: bad input is Rejected with a
// reason, transient failures are Retry; Handle itself fails only when the batch is empty of
// meaning (never for a record's content), so the router can map every outcome.
func (h *Handler) Handle(ctx context.Context, b Batch) (Response, error) {
	results := make([]Result, len(b.Records))
	var queue []pending
	for i, r := range b.Records {
		results[i].SequenceNumber = r.SequenceNumber
		e, err := event.Decode(r.Event)
		if err != nil {
			results[i].Status, results[i].Reason = Rejected, err.Error()
			continue
		}
		results[i].ID = e.ID
		if e.Type != h.Type {
			results[i].Status, results[i].Reason = Rejected, fmt.Sprintf("unknown_type: event %s is %s, sent to the %s function", e.ID, e.Type, h.Type)
			continue
		}
		queue = append(queue, pending{at: i, w: Write{Event: e, Fingerprint: e.Fingerprint(), SequenceNumber: r.SequenceNumber, Change: account.ChangeOf(e)}})
	}
	copies := map[int]int{} // index in results of a same-content copy → index in results of the first
	// An id used twice in one batch with different content is put in a later round, so that the
	// store compares it with what it holds then: the first copy may itself turn out a conflict.
	for len(queue) > 0 {
		var round, rest []pending
		seen := map[string]int{} // tenant and id → index in round
		for _, p := range queue {
			key := p.w.Event.Tenant + "\x00" + p.w.Event.ID
			j, ok := seen[key]
			switch {
			case !ok:
				seen[key] = len(round)
				round = append(round, p)
			case round[j].w.Fingerprint == p.w.Fingerprint:
				copies[p.at] = round[j].at // its outcome follows the first copy's, once known
			default:
				rest = append(rest, p)
			}
		}
		if !h.persist(ctx, round, results) {
			for _, p := range rest {
				results[p.at].Status, results[p.at].Reason = Retry, "an earlier record of the batch failed"
			}
			break
		}
		queue = rest
	}
	return h.finish(ctx, results, copies), nil
}

// pending is a record to persist, with its index in the results.
type pending struct {
	at int
	w  Write
}

// persist writes one round of records whose ids are distinct, fills their results, and reports
// whether every one of them reached a final outcome (none is Retry).
func (h *Handler) persist(ctx context.Context, round []pending, results []Result) bool {
	writes := make([]Write, len(round))
	for j, p := range round {
		writes[j] = p.w
	}
	retryAll := func(err error) bool {
		for _, p := range round {
			results[p.at].Status, results[p.at].Reason = Retry, err.Error()
		}
		return false
	}
	if h.Type == event.TypeTransaction {
		if err := h.flagTransactions(ctx, writes); err != nil {
			return retryAll(err)
		}
	}
	outcomes := h.Store.Put(ctx, writes)
	ok := true
	for j, o := range outcomes {
		r := &results[round[j].at]
		switch o.Outcome {
		case OutcomeStored:
			r.Status, r.BlockedBy = Stored, writes[j].BlockedBy
			if !o.StoredAt.IsZero() {
				r.StoredAt = o.StoredAt.UTC().Format(time.RFC3339Nano)
			}
		case OutcomeDuplicate:
			r.Status = Duplicate
		case OutcomeConflict:
			r.Status, r.Reason = Rejected, conflictReason(writes[j].Event.ID)
		default:
			r.Status, r.Reason, ok = Retry, fmt.Sprintf("persist %s %s: %v", h.Type, writes[j].Event.ID, o.Err), false
		}
	}
	if err := h.reflag(ctx, writes, outcomes); err != nil {
		// The events are stored; their re-flagging is not. Retrying them repeats it (a duplicate
		// still re-flags), so nothing is lost.
		for j, w := range writes {
			if r := &results[round[j].at]; w.Change != nil && w.Change.Freeze != "" && r.Status != Rejected {
				r.Status, r.Reason, ok = Retry, err.Error(), false
			}
		}
	}
	return ok
}

// finish gives each same-content copy within the batch the outcome of its first copy (stored
// becomes duplicate), and logs the batch.
func (h *Handler) finish(ctx context.Context, results []Result, copies map[int]int) Response {
	for i, first := range copies {
		results[i].Status, results[i].Reason = results[first].Status, results[first].Reason
		if results[i].Status == Stored {
			results[i].Status = Duplicate
		}
	}
	h.log(ctx, results)
	return Response{Results: results}
}

func conflictReason(id string) string {
	return fmt.Sprintf("%s: event id %s is already used by an event with different content", event.CodeConflict, id)
}

// flagTransactions sets BlockedBy on transactions made while their action was blocked, from the
// accounts' current state.
func (h *Handler) flagTransactions(ctx context.Context, writes []Write) error {
	keys := uniqueKeys(writes)
	if len(keys) == 0 {
		return nil
	}
	states, err := h.Store.States(ctx, keys)
	if err != nil {
		return fmt.Errorf("read state of %d accounts: %w", len(keys), err)
	}
	for i := range writes {
		w := &writes[i]
		w.BlockedBy = states[KeyOf(w.Event)].BlockedBy(w.Event.Data.(*event.Transaction), w.Event.Time)
	}
	return nil
}

// reflag re-evaluates the blocked flag of stored transactions of the accounts whose freeze log
// this batch added to (or would have, for duplicates: a retried batch must finish the job), from
// the earliest new decision on. It makes flags independent of the order in which event types arrive.
func (h *Handler) reflag(ctx context.Context, writes []Write, outcomes []PutResult) error {
	since := map[AccountKey]time.Time{}
	for j, w := range writes {
		if w.Change == nil || w.Change.Freeze == "" {
			continue
		}
		if o := outcomes[j].Outcome; o != OutcomeStored && o != OutcomeDuplicate {
			continue
		}
		k, t := KeyOf(w.Event), account.EntryTime(w.Change.Freeze)
		if s, ok := since[k]; !ok || t.Before(s) {
			since[k] = t
		}
	}
	if len(since) == 0 {
		return nil
	}
	keys := make([]AccountKey, 0, len(since))
	for k := range since {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b AccountKey) int { // the same flags in the same order on every run
		return cmp.Or(strings.Compare(a.Tenant, b.Tenant), strings.Compare(a.Account, b.Account))
	})
	states, err := h.Store.States(ctx, keys)
	if err != nil {
		return fmt.Errorf("re-flag: read state of %d accounts: %w", len(keys), err)
	}
	listed, err := h.transactionsSince(ctx, keys, since)
	if err != nil {
		return err
	}
	var flags []Flag
	for i, k := range keys {
		for _, t := range listed[i] {
			by := states[k].BlockedBy(&event.Transaction{Direction: t.Direction, Channel: t.Channel}, t.Time)
			if by != t.BlockedBy {
				flags = append(flags, Flag{Tenant: k.Tenant, ID: t.ID, BlockedBy: by})
			}
		}
	}
	if len(flags) == 0 {
		return nil
	}
	if err := h.Store.SetFlags(ctx, flags); err != nil {
		return fmt.Errorf("re-flag: set %d flags: %w", len(flags), err)
	}
	return nil
}

// maxConcurrentQueries bounds the account queries of one re-flagging step in flight at once.
const maxConcurrentQueries = 8

// transactionsSince lists the stored transactions of each account from its since on, with up to
// maxConcurrentQueries queries at once: the accounts are independent, and one at a time the
// queries would add up in the router's latency. The lists are in the order of keys.
func (h *Handler) transactionsSince(ctx context.Context, keys []AccountKey, since map[AccountKey]time.Time) ([][]StoredTransaction, error) {
	listed := make([][]StoredTransaction, len(keys))
	errs := make([]error, len(keys))
	parallel.Do(len(keys), maxConcurrentQueries, func(i int) {
		k := keys[i]
		if listed[i], errs[i] = h.Store.TransactionsSince(ctx, k, since[k]); errs[i] != nil {
			errs[i] = fmt.Errorf("re-flag: list transactions of account %s since %s: %w", k.Account, event.TimeKey(since[k]), errs[i])
		}
	})
	return listed, errors.Join(errs...)
}

// uniqueKeys lists the accounts of writes, each once.
func uniqueKeys(writes []Write) []AccountKey {
	seen := map[AccountKey]bool{}
	var keys []AccountKey
	for _, w := range writes {
		if k := KeyOf(w.Event); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// log writes one line per batch and one per record that did not go well, with ids and
// sequence numbers but never the payload.
func (h *Handler) log(ctx context.Context, results []Result) {
	counts := map[Status]int{}
	for _, r := range results {
		counts[r.Status]++
		if r.Status == Rejected || r.Status == Retry {
			h.Log.LogAttrs(ctx, slog.LevelWarn, "record not stored", slog.String("type", string(h.Type)),
				slog.String("eventId", r.ID), slog.String("sequenceNumber", r.SequenceNumber),
				slog.String("status", string(r.Status)), slog.String("reason", r.Reason))
		}
	}
	h.Log.LogAttrs(ctx, slog.LevelInfo, "batch handled", slog.String("type", string(h.Type)),
		slog.Int("records", len(results)), slog.Int("stored", counts[Stored]), slog.Int("duplicate", counts[Duplicate]),
		slog.Int("rejected", counts[Rejected]), slog.Int("retry", counts[Retry]))
}
