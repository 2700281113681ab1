package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/consumer"
	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// Options shape a demo run.
type Options struct {
	SamplesDir string           // events/
	Generate   eventgen.Options // the generated part of the stream
	Timeout    time.Duration    // how long to wait for the pipeline; 2 minutes when zero
	Progress   io.Writer        // where the progress bar goes; nowhere when nil
	// APIKeys (key → tenant, as the stack was given them): with them, a consumer per tenant
	// reads the tenant's feed through the query API, as a client would.
	APIKeys map[string]string
}

// Summary is what the demo found in the table, next to what it expected.
type Summary struct {
	Sent             int
	Duplicates       int
	Persisted        map[event.Type]int // found in the table
	WantPersisted    map[event.Type]int
	Quarantined      map[string]int // found, by code
	WantQuarantined  map[string]int
	Reasons          map[string]string // one example reason per code
	Accounts         []*store.AccountView
	Flagged          int // transactions stored with blockedBy
	Elapsed          time.Duration
	EventsPerSecond  float64
	Invocations      int64
	DynamoDBRequests int            // by the functions; -1 when not counted (they ran in other processes)
	Consumed         map[string]int // by tenant: events a consumer read from the tenant's feed (package consumer)
	WantConsumed     map[string]int // by tenant: its stored events, for the tenants with a key
}

// Check returns an error describing every count that differs from what the stream demands,
// including the balance sent = persisted + quarantined + duplicates.
func (s Summary) Check() error {
	var errs []error
	persisted, quarantined := 0, 0
	for _, t := range event.Types {
		if s.Persisted[t] != s.WantPersisted[t] {
			errs = append(errs, fmt.Errorf("%s: %d persisted, want %d", t, s.Persisted[t], s.WantPersisted[t]))
		}
		persisted += s.Persisted[t]
	}
	for code, n := range s.WantQuarantined {
		if s.Quarantined[code] != n {
			errs = append(errs, fmt.Errorf("quarantined %s: %d, want %d", code, s.Quarantined[code], n))
		}
	}
	for _, n := range s.Quarantined {
		quarantined += n
	}
	for tenant, n := range s.WantConsumed {
		if s.Consumed[tenant] != n {
			errs = append(errs, fmt.Errorf("consumer of %s: %d events read from the feed, want its %d stored", tenant, s.Consumed[tenant], n))
		}
	}
	if s.Sent != persisted+quarantined+s.Duplicates {
		errs = append(errs, fmt.Errorf("sent %d ≠ persisted %d + quarantined %d + duplicates %d", s.Sent, persisted, quarantined, s.Duplicates))
	}
	return errors.Join(errs...)
}

// Run sends the samples and the generated stream to the stack's stream, waits until the event
// source mappings have checkpointed every record, and reads the table back.
func Run(ctx context.Context, st *devstack.Stack, opts Options) (Summary, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if len(st.Resources.Streams) == 0 || len(st.Resources.Tables) == 0 {
		return Summary{}, errors.New("the template declares no stream or no table")
	}
	samples, err := Samples(opts.SamplesDir)
	if err != nil {
		return Summary{}, err
	}
	records := append(samples, eventgen.Generate(opts.Generate)...)
	want := eventgen.Expect(records)
	sum := Summary{Sent: len(records), Duplicates: want.Duplicates, WantPersisted: map[event.Type]int{}, WantQuarantined: want.Quarantined}
	for _, e := range want.Stored {
		sum.WantPersisted[e.Type]++
	}
	started := time.Now()
	stream := st.Resources.Streams[0].Name
	if err := put(ctx, st.Kinesis, stream, records); err != nil {
		return sum, err
	}
	if err := wait(ctx, st, len(records), opts); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(started)
	sum.EventsPerSecond = float64(len(records)) / sum.Elapsed.Seconds()
	sum.Invocations = st.Invocations.Invocations()
	sum.DynamoDBRequests = -1
	if st.CountsRequests() {
		sum.DynamoDBRequests = st.Requests.Total()
	}
	if err := readBack(ctx, st, want, started, &sum); err != nil {
		return sum, err
	}
	return sum, consume(ctx, st, want, opts.APIKeys, &sum)
}

// consume reads each tenant's feed from its start through the query API, as a new consumer of
// the tenant's key, and counts what it was given, once per id.
func consume(ctx context.Context, st *devstack.Stack, want eventgen.Expected, keys map[string]string, sum *Summary) error {
	api := st.APIEndpoints["QueryApi"]
	if api == "" || len(keys) == 0 {
		return nil
	}
	sum.Consumed, sum.WantConsumed = map[string]int{}, map[string]int{}
	keyOf := map[string]string{}
	for key, tenant := range keys {
		keyOf[tenant] = key
	}
	for _, e := range want.Stored {
		if keyOf[e.Tenant] != "" {
			sum.WantConsumed[e.Tenant]++
		}
	}
	name := fmt.Sprintf("demo-%d", time.Now().UnixNano())
	for tenant := range sum.WantConsumed {
		c, err := consumer.New(consumer.Config{Endpoint: api, Key: keyOf[tenant], Name: name, PageSize: consumer.MaxPageSize})
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		if err := c.CatchUp(ctx, func(_ context.Context, p consumer.Page) error {
			for _, e := range p.Events {
				seen[e.ID] = true
			}
			return nil
		}); err != nil {
			return fmt.Errorf("consume the feed of %s: %w", tenant, err)
		}
		sum.Consumed[tenant] = len(seen)
	}
	return nil
}

// put sends records with PutRecords, 500 at a time, retrying records the stream refuses.
func put(ctx context.Context, k *kinesis.Client, stream string, records []eventgen.Record) error {
	for start := 0; start < len(records); start += 500 {
		batch := records[start:min(start+500, len(records))]
		entries := make([]ktypes.PutRecordsRequestEntry, len(batch))
		for i, r := range batch {
			entries[i] = ktypes.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
		}
		for attempt := 1; len(entries) > 0; attempt++ {
			if attempt > 10 {
				return fmt.Errorf("put records on %s: %d still refused after 10 attempts", stream, len(entries))
			}
			out, err := k.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
			if err != nil {
				return fmt.Errorf("put records on %s: %w", stream, err)
			}
			var retry []ktypes.PutRecordsRequestEntry
			for i, r := range out.Records {
				if r.ErrorCode != nil {
					retry = append(retry, entries[i])
				}
			}
			entries = retry
		}
	}
	return nil
}

// wait polls until the mappings have checkpointed every record, drawing a progress bar.
func wait(ctx context.Context, st *devstack.Stack, total int, opts Options) error {
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := -1
	for {
		done := st.Delivered()
		if done != last {
			bar(opts.Progress, done, total)
			last = done
		}
		if done >= total {
			caught, err := st.CaughtUp(ctx)
			if err == nil && caught {
				if opts.Progress != nil {
					fmt.Fprintln(opts.Progress)
				}
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the pipeline had checkpointed %d of %d records when %s ran out", done, total, opts.Timeout)
		case <-tick.C:
		}
	}
}

// bar draws a one-line progress bar.
func bar(w io.Writer, done, total int) {
	if w == nil || total == 0 {
		return
	}
	const width = 30
	n := min(width, done*width/total)
	fmt.Fprintf(w, "\r[%s%s] %d/%d records checkpointed", strings.Repeat("#", n), strings.Repeat(".", width-n), min(done, total), total)
}

// readBack counts what the table holds.
func readBack(ctx context.Context, st *devstack.Stack, want eventgen.Expected, started time.Time, sum *Summary) error {
	s := store.New(st.DynamoDB, *st.Resources.Tables[0].TableName)
	sum.Persisted, sum.Quarantined, sum.Reasons = map[event.Type]int{}, map[string]int{}, map[string]string{}
	tenants := map[string]bool{}
	accounts := map[[2]string]bool{}
	for _, e := range want.Stored {
		tenants[e.Tenant] = true
		if e.Type == event.TypeAccountStatus || e.Type == event.TypeFraudAlert {
			accounts[[2]string{e.Tenant, e.Subject}] = true
		}
	}
	for tenant := range tenants {
		for _, t := range event.Types {
			events, err := s.AllTypeEvents(ctx, tenant, t)
			if err != nil {
				return err
			}
			sum.Persisted[t] += len(events)
			for _, e := range events {
				if e.BlockedBy != "" {
					sum.Flagged++
				}
			}
		}
	}
	q, err := s.QuarantinedBetween(ctx, started.Add(-time.Minute), time.Now().Add(time.Minute))
	if err != nil {
		return err
	}
	for _, r := range q {
		sum.Quarantined[r.Code]++
		if _, ok := sum.Reasons[r.Code]; !ok {
			sum.Reasons[r.Code] = r.Reason
		}
	}
	keys := make([][2]string, 0, len(accounts))
	for k := range accounts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		v, err := s.AccountState(ctx, k[0], k[1])
		if err != nil {
			return fmt.Errorf("account %s/%s: %w", k[0], k[1], err)
		}
		sum.Accounts = append(sum.Accounts, v)
	}
	return nil
}
