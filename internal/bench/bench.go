// Package bench drives the local stack with a generated stream and measures it: sustained
// events/s, put→persisted latency, DynamoDB requests and Lambda invocations per 1,000 events
// (counted, not estimated), function durations, init durations and bootstrap sizes, and — in the
// same run — the DynamoDB emulator's own transactional write ceiling for the same item shape;
// then, apart, consumers through the query API: put→consumed latency and feed read throughput.
package bench

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/producer"
)

// Options shape a run.
type Options struct {
	Events int // records to send; 10,000 by default
	// Accounts is how many accounts the generated stream spreads over (eventgen's default, a
	// record in eight, when zero): many accounts leave most with one event per batch, as in a
	// bank's traffic, so that packing by account cannot flatter the write units.
	Accounts int
	Rate     int           // records per second; 0 sends as fast as the stream takes them
	Seed     uint64        // of the generated stream
	Timeout  time.Duration // to wait for the pipeline after the last put; 5 minutes by default
	Ceiling  time.Duration // how long to measure the emulator's write ceiling; 5 s by default
	// Warmup is how many records (of tenants of their own) go through the pipeline before the
	// measured stream, so that cold code paths and the emulator's JIT are not measured: 2,000
	// by default; negative for none.
	Warmup int
	// ConsumerRecords is how many records the consumer phase sends while consumers follow the
	// feed: 1,000 by default; negative for no consumer phase.
	ConsumerRecords int
	Progress        func(sent, persisted, total int)
}

// Report is everything one run measured. Durations are in milliseconds.
type Report struct {
	Runtime         string      `json:"runtime"`
	Records         int         `json:"records"`
	ValidEvents     int         `json:"validEvents"`
	AccountChanges  int         `json:"accountChanges"` // stored events with an account effect (fraud alerts, status changes)
	Rate            int         `json:"targetRate"`
	WallSeconds     float64     `json:"wallSeconds"`
	EventsPerSecond float64     `json:"eventsPerSecond"` // valid events persisted per second, first put to last persisted
	LatencyMs       Percentiles `json:"putToPersistedMs"`
	// FlowingLatencyMs leaves out the events put in the last second of sending: the stream ends
	// there, and with a batching window their batch waits it out instead of filling up.
	FlowingLatencyMs *Percentiles       `json:"putToPersistedWhileFlowingMs,omitempty"` // nil when every record was sent within a second
	DynamoDBRequests map[string]int     `json:"dynamodbRequests"`
	DynamoDBPer1000  float64            `json:"dynamodbRequestsPer1000Events"`
	DynamoDBUnits    map[string]float64 `json:"dynamodbCapacityUnits"` // as DynamoDB reported them, by operation
	// WriteUnitsPerEvent is every write unit the functions spent (PutItem, BatchWriteItem,
	// UpdateItem, as DynamoDB reported them) per valid event: events, account items, feed,
	// quarantine, flags.
	WriteUnitsPerEvent float64                `json:"dynamodbWriteUnitsPerEvent"`
	Invocations        map[string]int         `json:"invocations"`
	InvocationsPer1k   float64                `json:"invocationsPer1000Events"`
	FunctionMs         map[string]Percentiles `json:"functionDurationMs"`
	InitMs             map[string]float64     `json:"initDurationMs,omitempty"`
	BootstrapBytes     map[string]int64       `json:"bootstrapBytes,omitempty"`
	CeilingItemsPerS   float64                `json:"emulatorTransactWriteCeilingItemsPerSecond"`
	CeilingRatio       float64                `json:"throughputToCeilingRatio"`
	Timeline           []Second               `json:"timeline"`
	AvgRecordBytes     float64                `json:"averageRecordBytes"`
	AvgEventBytes      float64                `json:"averageValidEventBytes"`
	BilledMsPerInvoke  map[string]float64     `json:"averageBilledMsPerInvocation"`
	Extra              map[string]any         `json:"extra,omitempty"`
	Consumers          *ConsumerReport        `json:"consumers,omitempty"` // nil without a consumer phase
	// Settings the run had: the template parameters it overrode, how often a caught-up shard was
	// read, and how many warm-up records went first.
	Parameters     map[string]string `json:"parameterOverrides,omitempty"`
	PollIntervalMs float64           `json:"pollIntervalMs"`
	WarmupRecords  int               `json:"warmupRecords"`
}

// Percentiles of a distribution, in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	Avg float64 `json:"avg"`
	N   int     `json:"n"`
}

// Second is one second of the run: events persisted in it, and the latency of events put in it.
type Second struct {
	T         int     `json:"t"`
	Persisted int     `json:"persisted"`
	P50Ms     float64 `json:"p50Ms"`
	P99Ms     float64 `json:"p99Ms"`
}

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return Percentiles{P50: ms(at(0.50)), P95: ms(at(0.95)), P99: ms(at(0.99)), Max: ms(s[len(s)-1]), Avg: ms(sum / time.Duration(len(s))), N: len(s)}
}

// Run measures the stack: first the emulator's write ceiling, then, after a warm-up stream, the
// pipeline under the generated stream. The stack's event source mappings must be running.
func Run(ctx context.Context, st *devstack.Stack, opts Options) (Report, error) {
	if opts.Events <= 0 {
		opts.Events = 10000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Ceiling <= 0 {
		opts.Ceiling = 5 * time.Second
	}
	rep := Report{Rate: opts.Rate, Records: opts.Events}
	var err error
	if rep.CeilingItemsPerS, err = Ceiling(ctx, st, opts.Ceiling); err != nil {
		return rep, fmt.Errorf("measure the emulator's write ceiling: %w", err)
	}
	if opts.Warmup == 0 {
		opts.Warmup = 2000
	}
	if opts.Warmup > 0 {
		rep.WarmupRecords = opts.Warmup
		warm := eventgen.Generate(eventgen.Options{Events: opts.Warmup, Seed: opts.Seed + 1, Tenants: []string{"warmup-a", "warmup-b"}})
		if _, _, err := send(ctx, st, warm, Options{Rate: opts.Rate}); err != nil {
			return rep, fmt.Errorf("warm up the pipeline: %w", err)
		}
		if err := waitCaughtUp(ctx, st, opts.Timeout); err != nil {
			return rep, fmt.Errorf("warm up the pipeline: %w", err)
		}
	}
	st.Requests.Reset()
	st.Capacity.Reset()
	before := st.Invocations.Durations()

	records := eventgen.Generate(eventgen.Options{Events: opts.Events, Accounts: opts.Accounts, Seed: opts.Seed})
	want := eventgen.Expect(records)
	rep.ValidEvents = len(want.Stored)
	for _, e := range want.Stored {
		if e.Type == event.TypeFraudAlert || e.Type == event.TypeAccountStatus {
			rep.AccountChanges++
		}
	}
	bytes, validBytes, valid := 0, 0, 0
	for _, r := range records {
		bytes += len(r.Data)
		if _, err := event.Decode(r.Data); err == nil {
			validBytes += len(r.Data)
			valid++
		}
	}
	rep.AvgRecordBytes = float64(bytes) / float64(len(records))
	rep.AvgEventBytes = float64(validBytes) / float64(max(valid, 1))

	putAt, start, err := send(ctx, st, records, opts)
	if err != nil {
		return rep, err
	}
	if err := waitCaughtUp(ctx, st, opts.Timeout); err != nil {
		return rep, err
	}
	rep.WallSeconds = time.Since(start).Seconds()
	if err := measureStored(ctx, st, want, putAt, start, &rep); err != nil {
		return rep, err
	}
	rep.DynamoDBRequests = st.Requests.Counts()
	rep.DynamoDBUnits = st.Capacity.Units()
	rep.WriteUnitsPerEvent = (rep.DynamoDBUnits["PutItem"] + rep.DynamoDBUnits["BatchWriteItem"] + rep.DynamoDBUnits["UpdateItem"]) / float64(max(rep.ValidEvents, 1))
	rep.DynamoDBPer1000 = float64(st.Requests.Total()) * 1000 / float64(rep.ValidEvents)
	if !st.CountsRequests() {
		rep.DynamoDBPer1000 = -1 // the functions ran in their own processes
	}
	durations(st, before, &rep)
	if opts.ConsumerRecords == 0 {
		opts.ConsumerRecords = 1000
	}
	if opts.ConsumerRecords > 0 {
		if err := measureConsumers(ctx, st, opts, largestTenant(want), &rep); err != nil {
			return rep, fmt.Errorf("consumer phase: %w", err)
		}
	}
	return rep, nil
}

// send puts the records at the set rate and returns when each valid event was put.
func send(ctx context.Context, st *devstack.Stack, records []eventgen.Record, opts Options) (map[string]time.Time, time.Time, error) {
	p, err := producer.New(st.Kinesis, st.Resources.Streams[0].Name)
	if err != nil {
		return nil, time.Time{}, err
	}
	putAt := map[string]time.Time{}
	chunk := len(records)
	if opts.Rate > 0 {
		chunk = max(1, opts.Rate/20) // twenty puts a second
	}
	start := time.Now()
	for from := 0; from < len(records); from += chunk {
		batch := records[from:min(from+chunk, len(records))]
		raw := make([]producer.Record, len(batch))
		for i, r := range batch {
			raw[i] = producer.Record(r)
		}
		now := time.Now()
		if _, err := p.SendRaw(ctx, raw...); err != nil {
			return nil, start, err
		}
		for _, r := range batch {
			if e, err := event.Decode(r.Data); err == nil {
				if _, seen := putAt[e.Tenant+"/"+e.ID]; !seen {
					putAt[e.Tenant+"/"+e.ID] = now
				}
			}
		}
		if opts.Progress != nil {
			opts.Progress(from+len(batch), st.Delivered(), len(records))
		}
		if opts.Rate > 0 {
			due := start.Add(time.Duration(float64(from+len(batch)) / float64(opts.Rate) * float64(time.Second)))
			select {
			case <-ctx.Done():
				return nil, start, ctx.Err()
			case <-time.After(time.Until(due)):
			}
		}
	}
	return putAt, start, nil
}

func waitCaughtUp(ctx context.Context, st *devstack.Stack, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if ok, err := st.CaughtUp(ctx); err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the pipeline had not checkpointed every record after %s", timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// measureStored reads every persisted event back and derives throughput and latency from its
// storedAt (taken just before its transaction was sent, in the same process clock as the puts).
func measureStored(ctx context.Context, st *devstack.Stack, want eventgen.Expected, putAt map[string]time.Time, start time.Time, rep *Report) error {
	s := store.New(st.DynamoDB, *st.Resources.Tables[0].TableName)
	tenants := map[string]bool{}
	for _, e := range want.Stored {
		tenants[e.Tenant] = true
	}
	var lat, flowing []time.Duration
	var lastPut time.Time
	for _, at := range putAt {
		if at.After(lastPut) {
			lastPut = at
		}
	}
	perSecond := map[int]int{}
	latBySecond := map[int][]time.Duration{}
	var last time.Time
	for tenant := range tenants {
		for _, t := range event.Types {
			events, err := s.AllTypeEvents(ctx, tenant, t)
			if err != nil {
				return err
			}
			for _, e := range events {
				stored, err := time.Parse(time.RFC3339Nano, e.StoredAt)
				put, ok := putAt[e.Tenant+"/"+e.ID]
				if err != nil || !ok {
					continue
				}
				d := stored.Sub(put)
				lat = append(lat, d)
				if put.Before(lastPut.Add(-time.Second)) {
					flowing = append(flowing, d)
				}
				perSecond[int(stored.Sub(start).Seconds())]++
				ps := int(put.Sub(start).Seconds())
				latBySecond[ps] = append(latBySecond[ps], d)
				if stored.After(last) {
					last = stored
				}
			}
		}
	}
	rep.LatencyMs = percentiles(lat)
	if len(flowing) > 0 {
		f := percentiles(flowing)
		rep.FlowingLatencyMs = &f
	}
	if span := last.Sub(start).Seconds(); span > 0 {
		rep.EventsPerSecond = math.Round(float64(len(lat))/span*10) / 10
	}
	if rep.CeilingItemsPerS > 0 {
		rep.CeilingRatio = math.Round(rep.EventsPerSecond/rep.CeilingItemsPerS*1000) / 1000
	}
	end := int(last.Sub(start).Seconds())
	for sec := 0; sec <= end; sec++ {
		p := percentiles(latBySecond[sec])
		rep.Timeline = append(rep.Timeline, Second{T: sec, Persisted: perSecond[sec], P50Ms: p.P50, P99Ms: p.P99})
	}
	return nil
}

// durations fills invocation counts and durations per function from the Invoke API's record.
func durations(st *devstack.Stack, before map[string][]time.Duration, rep *Report) {
	rep.Invocations, rep.FunctionMs, rep.BilledMsPerInvoke = map[string]int{}, map[string]Percentiles{}, map[string]float64{}
	total := 0
	for name, ds := range st.Invocations.Durations() {
		ds = ds[len(before[name]):]
		if len(ds) == 0 {
			continue
		}
		rep.Invocations[name] = len(ds)
		total += len(ds)
		rep.FunctionMs[name] = percentiles(ds)
		billed := 0.0
		for _, d := range ds {
			billed += math.Ceil(float64(d) / float64(time.Millisecond))
		}
		rep.BilledMsPerInvoke[name] = billed / float64(len(ds))
	}
	rep.InvocationsPer1k = float64(total) * 1000 / float64(rep.ValidEvents)
	rep.InitMs = map[string]float64{}
	for _, f := range st.Resources.Functions {
		if d := st.InitDuration(f.LogicalID); d > 0 {
			rep.InitMs[f.LogicalID] = float64(d) / 1e6
		}
	}
}

// largestTenant is the tenant with the most stored events (the first by name of a tie).
func largestTenant(want eventgen.Expected) string {
	counts := map[string]int{}
	for _, e := range want.Stored {
		counts[e.Tenant]++
	}
	best := ""
	for tenant, n := range counts {
		if best == "" || n > counts[best] || n == counts[best] && tenant < best {
			best = tenant
		}
	}
	return best
}
