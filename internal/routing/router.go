package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/bounded"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// DefaultMaxPayloadBytes keeps an invoke's payload under Lambda's 6 MB synchronous limit, with
// room for the JSON around the records.
const DefaultMaxPayloadBytes = 5 << 20

// recordOverhead is the JSON around one record in a Batch: {"sequenceNumber":"…","event":…},
const recordOverhead = 40

// Router routes one batch of one shard's records. Its zero value is not usable; fill Invoker and
// Quarantine.
type Router struct {
	Invoker         Invoker
	Quarantine      Quarantine
	Feed            Feed         // where stored events are appended in commit order; nil appends nothing
	MaxPayloadBytes int          // per invoke; DefaultMaxPayloadBytes when zero
	Log             *slog.Logger // nil logs nothing
}

// Result is what became of a batch.
type Result struct {
	// Failed lists the sequence numbers to report as batch item failures, in stream order.
	Failed []string
	// Done counts the records handled for good, by type: stored or duplicate.
	Done map[event.Type]int
	// Quarantined counts the records quarantined now.
	Quarantined int
	// Invocations counts the type function invocations made.
	Invocations int
}

// batchState tracks which records failed, so that no later record of the same account is applied
// ahead of a failed one. A record's account is known twice: by its partition key (the account id
// by convention) and, once decoded, by its tenant and account. Records are held back on either,
// so that a producer keying records otherwise does not break an account's order.
type batchState struct {
	records  []Record
	events   []*event.Event // each decoded record; nil when it did not decode
	accounts []string       // tenant and account of each decoded record; "" when it did not decode
	failed   []bool
	// The index of the earliest failed record, by partition key and by tenant and account.
	firstBadKey, firstBadAccount map[string]int
}

func newBatchState(records []Record) *batchState {
	return &batchState{records: records, events: make([]*event.Event, len(records)), accounts: make([]string, len(records)), failed: make([]bool, len(records)),
		firstBadKey: map[string]int{}, firstBadAccount: map[string]int{}}
}

func (b *batchState) fail(i int) {
	b.failed[i] = true
	earliest := func(m map[string]int, k string) {
		if at, ok := m[k]; !ok || i < at {
			m[k] = i
		}
	}
	earliest(b.firstBadKey, b.records[i].PartitionKey)
	if a := b.accounts[i]; a != "" {
		earliest(b.firstBadAccount, a)
	}
}

// blocked reports whether an earlier record of i's account failed.
func (b *batchState) blocked(i int) bool {
	if at, ok := b.firstBadKey[b.records[i].PartitionKey]; ok && at < i {
		return true
	}
	at, ok := b.firstBadAccount[b.accounts[i]] // never holds "": fail skips records that did not decode
	return ok && at < i
}

// Route handles a batch of records of one shard, in stream order. It never fails as a whole:
// records that can never succeed are quarantined, and records that failed for a transient reason,
// or follow such a record of the same account, are listed in Result.Failed.
func (r *Router) Route(ctx context.Context, records []Record) Result {
	st := newBatchState(records)
	res := Result{Done: map[event.Type]int{}}
	stored := make([]bool, len(records))            // stored by this record: to append to the feed
	storedBefore := make([]time.Time, len(records)) // stored by an earlier attempt at the record
	groups := map[event.Type][]int{}
	var bad []Quarantined
	var badAt []int
	for i, rec := range records {
		e, err := event.Decode(rec.Data)
		if err != nil {
			bad, badAt = append(bad, quarantined(rec, err)), append(badAt, i)
			continue
		}
		st.events[i] = e
		st.accounts[i] = e.Tenant + "\x00" + e.Data.Account()
		groups[e.Type] = append(groups[e.Type], i)
	}
	r.quarantine(ctx, st, &res, bad, badAt)

	bad, badAt = nil, nil
	for _, t := range event.Types {
		for _, chunk := range chunks(records, groups[t], r.maxPayload()) {
			send := chunk[:0]
			for _, i := range chunk {
				if st.blocked(i) {
					st.fail(i)
					continue
				}
				send = append(send, i)
			}
			if len(send) == 0 {
				continue
			}
			res.Invocations++
			resp, err := r.Invoker.Invoke(ctx, t, batchOf(records, send))
			if err == nil && len(resp.Results) != len(send) {
				err = fmt.Errorf("%s function answered %d results for %d records", t, len(resp.Results), len(send))
			}
			if err != nil {
				r.logf(ctx, slog.LevelWarn, "invoke failed; records will be retried", "type", string(t), "records", len(send), "error", err.Error())
				for _, i := range send {
					st.fail(i)
				}
				continue
			}
			for k, out := range resp.Results {
				i := send[k]
				switch out.Status {
				case typefn.Stored:
					res.Done[t]++
					stored[i] = true
					if out.StoredAt != "" {
						storedBefore[i], _ = time.Parse(time.RFC3339Nano, out.StoredAt)
						if storedBefore[i].IsZero() {
							storedBefore[i] = time.Unix(0, 0) // unreadable: look back through the whole feed
						}
					}
				case typefn.Duplicate:
					res.Done[t]++
				case typefn.Rejected:
					q := quarantined(records[i], errors.New(out.Reason))
					bad, badAt = append(bad, q), append(badAt, i)
				default:
					st.fail(i)
				}
			}
		}
	}
	r.quarantine(ctx, st, &res, bad, badAt)
	r.appendFeed(ctx, st, stored, storedBefore)

	for i, f := range st.failed {
		if f {
			res.Failed = append(res.Failed, records[i].SequenceNumber)
		}
	}
	r.logf(ctx, slog.LevelInfo, "batch routed", "records", len(records), "failed", len(res.Failed),
		"quarantined", res.Quarantined, "invocations", res.Invocations)
	return res
}

// appendFeed appends, per tenant, the events this batch stored to the tenant's feed partition of
// the shard, in stream order. Until it is appended a record is not done: if the append fails,
// the tenant's records are retried (their events are found stored, and appended then).
func (r *Router) appendFeed(ctx context.Context, st *batchState, stored []bool, storedBefore []time.Time) {
	if r.Feed == nil {
		return
	}
	var tenants []string
	entries := map[string][]FeedEntry{}
	at := map[string][]int{}
	for i, ok := range stored {
		if !ok || st.failed[i] {
			continue
		}
		e := st.events[i]
		if _, seen := entries[e.Tenant]; !seen {
			tenants = append(tenants, e.Tenant)
		}
		entries[e.Tenant] = append(entries[e.Tenant], FeedEntry{Type: e.Type, ID: e.ID, SequenceNumber: st.records[i].SequenceNumber, StoredBefore: storedBefore[i]})
		at[e.Tenant] = append(at[e.Tenant], i)
	}
	for _, tenant := range tenants {
		shard := st.records[at[tenant][0]].ShardID
		if err := r.Feed.AppendFeed(ctx, tenant, shard, entries[tenant]); err != nil {
			r.logf(ctx, slog.LevelWarn, "feed append failed; records will be retried", "tenant", tenant, "records", len(entries[tenant]), "error", err.Error())
			for _, i := range at[tenant] {
				st.fail(i)
			}
		}
	}
}

// quarantine stores bad records; those it could not store are retried, and only those.
func (r *Router) quarantine(ctx context.Context, st *batchState, res *Result, bad []Quarantined, at []int) {
	if len(bad) == 0 {
		return
	}
	errs := r.Quarantine.Quarantine(ctx, bad)
	if errs != nil && len(errs) != len(bad) {
		// A broken Quarantine: no record can be known stored, so every one is retried.
		r.logf(ctx, slog.LevelError, "quarantine answered the wrong number of results; records will be retried",
			"records", len(bad), "results", len(errs))
		for _, i := range at {
			st.fail(i)
		}
		return
	}
	for k, q := range bad {
		if errs != nil && errs[k] != nil {
			st.fail(at[k])
			r.logf(ctx, slog.LevelWarn, "quarantine failed; record will be retried", "shardId", q.ShardID,
				"sequenceNumber", q.SequenceNumber, "error", errs[k].Error())
			continue
		}
		res.Quarantined++
		r.logf(ctx, slog.LevelWarn, "record quarantined", "shardId", q.ShardID, "sequenceNumber", q.SequenceNumber,
			"eventId", q.EventID, "code", q.Code, "reason", q.Reason)
	}
}

func (r *Router) maxPayload() int {
	if r.MaxPayloadBytes <= 0 {
		return DefaultMaxPayloadBytes
	}
	return r.MaxPayloadBytes
}

// chunks splits a group of record indexes, in order, so that each invoke's payload stays under
// limit bytes. A record is never split: one larger than the limit travels alone (it cannot be, as
// records are at most event.MaxRecordBytes).
func chunks(records []Record, group []int, limit int) [][]int {
	var out [][]int
	start, size := 0, 0
	for k, i := range group {
		n := len(records[i].Data) + len(records[i].SequenceNumber) + recordOverhead
		if k > start && size+n > limit {
			out = append(out, group[start:k])
			start, size = k, 0
		}
		size += n
	}
	if start < len(group) {
		out = append(out, group[start:])
	}
	return out
}

// batchOf builds the invoke payload of records at the given indexes.
func batchOf(records []Record, at []int) typefn.Batch {
	b := typefn.Batch{Records: make([]typefn.Record, len(at))}
	for k, i := range at {
		b.Records[k] = typefn.Record{SequenceNumber: records[i].SequenceNumber, Event: records[i].Data}
	}
	return b
}

// quarantined describes a record that can never succeed because of err.
func quarantined(rec Record, err error) Quarantined {
	q := Quarantined{Record: rec, Code: event.CodeInvalid, Reason: err.Error()}
	var r *event.RejectError
	if errors.As(err, &r) {
		q.Code = r.Code
	} else if code, _, ok := strings.Cut(q.Reason, ":"); ok && isCode(code) {
		q.Code = code
	}
	// Whatever the record names of itself, when it can be read: a tenant finds its own records.
	// Bounded, as the reason is: a record of up to 1 MiB may hold an id of almost as much.
	tenant, id, typ := event.Peek(rec.Data)
	if len(tenant) <= MaxTenantBytes {
		q.Tenant = tenant
	}
	q.EventID = bounded.String(id, MaxEventIDBytes)
	q.Type = event.Type(bounded.String(string(typ), MaxTypeBytes))
	q.Reason = bounded.String(q.Reason, MaxReasonBytes)
	return q
}

func isCode(s string) bool {
	switch s {
	case event.CodeNotJSON, event.CodeUnknownType, event.CodeInvalid, event.CodeOversize, event.CodeConflict:
		return true
	}
	return false
}

func (r *Router) logf(ctx context.Context, level slog.Level, msg string, args ...any) {
	if r.Log != nil {
		r.Log.Log(ctx, level, msg, args...)
	}
}
