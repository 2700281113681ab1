package bench

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/go-event-processor/go-event-processor/consumer"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// ConsumerReport is what the consumer phase measured, through the stack's query API: how long
// an event takes from its put to a following consumer's handler, and how fast one consumer reads
// a tenant's feed from the start (checkpointing every page, as Run does).
type ConsumerReport struct {
	Records         int         `json:"records"`   // sent while the consumers followed
	Followers       int         `json:"followers"` // one per tenant of that stream
	PollIntervalMs  float64     `json:"pollIntervalMs"`
	PutToConsumedMs Percentiles `json:"putToConsumedMs"`
	// FeedRead is one consumer reading the measured stream's largest tenant feed from its start.
	FeedReadEvents int     `json:"feedReadEvents"`
	FeedReadPerS   float64 `json:"feedReadEventsPerSecond"`     // pages of consumer.DefaultPageSize
	FeedReadPerS1k float64 `json:"feedReadEventsPerSecond1000"` // pages of 1,000
}

// followPoll is how often a caught-up follower reads the feed again in the consumer phase.
const followPoll = 100 * time.Millisecond

// measureConsumers runs the consumer phase after the write path was measured, so that the
// query API's reads and checkpoints are not counted in the write path's figures. feedTenant's
// feed (the measured stream's) is then read from the start by one consumer.
func measureConsumers(ctx context.Context, st *devstack.Stack, opts Options, feedTenant string, rep *Report) error {
	api, ok := st.APIEndpoints["QueryApi"]
	if !ok {
		return fmt.Errorf("the stack serves no query API")
	}
	s := store.New(st.DynamoDB, *st.Resources.Tables[0].TableName)
	run := fmt.Sprint(time.Now().UnixNano())
	tenants := []string{"feed-a", "feed-b"}
	keys := map[string]string{}
	for _, tenant := range append([]string{feedTenant}, tenants...) {
		keys[tenant] = "bench-" + tenant + "-" + run
		if err := s.PutAPIKey(ctx, keys[tenant], tenant); err != nil {
			return err
		}
	}
	cr := &ConsumerReport{Records: opts.ConsumerRecords, Followers: len(tenants), PollIntervalMs: float64(followPoll) / float64(time.Millisecond)}
	var mu sync.Mutex
	consumedAt := map[string]time.Time{}
	follow, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, len(tenants))
	var followers []*consumer.Consumer
	for _, tenant := range tenants {
		c, err := consumer.New(consumer.Config{Endpoint: api, Key: keys[tenant], Name: "bench-" + run, Start: consumer.Now, PollInterval: followPoll})
		if err != nil {
			return err
		}
		followers = append(followers, c)
		wg.Go(func() {
			errs <- c.Run(follow, func(_ context.Context, p consumer.Page) error {
				now := time.Now()
				mu.Lock()
				defer mu.Unlock()
				for _, e := range p.Events {
					if _, seen := consumedAt[e.Tenant+"/"+e.ID]; !seen {
						consumedAt[e.Tenant+"/"+e.ID] = now
					}
				}
				return nil
			})
		})
	}
	// The followers start at "now": wait until each has its checkpoint (measured when it is
	// opened) before sending, or an event stored before it would not be theirs.
	opened := time.Now().Add(opts.Timeout)
	for _, c := range followers {
		for c.Lag().MeasuredAt.IsZero() {
			select {
			case err := <-errs:
				return fmt.Errorf("a follower stopped before it started: %w", err)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(opened) {
				return fmt.Errorf("follower %s was not open after %s", c.Name(), opts.Timeout)
			}
		}
	}
	records := eventgen.Generate(eventgen.Options{Events: opts.ConsumerRecords, Seed: opts.Seed + 2, Tenants: tenants})
	want := eventgen.Expect(records)
	putAt, _, err := send(ctx, st, records, Options{Rate: opts.Rate})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(opts.Timeout)
	for {
		mu.Lock()
		n := len(consumedAt)
		mu.Unlock()
		if n >= len(want.Stored) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the followers had consumed %d of %d events after %s", n, len(want.Stored), opts.Timeout)
		}
		select {
		case err := <-errs:
			return fmt.Errorf("a follower stopped: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	var lat []time.Duration
	for k, at := range consumedAt {
		if put, ok := putAt[k]; ok {
			lat = append(lat, at.Sub(put))
		}
	}
	cr.PutToConsumedMs = percentiles(lat)

	for _, pageSize := range []int{consumer.DefaultPageSize, consumer.MaxPageSize} {
		c, err := consumer.New(consumer.Config{Endpoint: api, Key: keys[feedTenant], Name: fmt.Sprintf("bench-read-%d-%s", pageSize, run), PageSize: pageSize})
		if err != nil {
			return err
		}
		n := 0
		began := time.Now()
		if err := c.CatchUp(ctx, func(_ context.Context, p consumer.Page) error { n += len(p.Events); return nil }); err != nil {
			return err
		}
		perS := math.Round(float64(n)/time.Since(began).Seconds()*10) / 10
		cr.FeedReadEvents = n
		if pageSize == consumer.MaxPageSize {
			cr.FeedReadPerS1k = perS
		} else {
			cr.FeedReadPerS = perS
		}
	}
	rep.Consumers = cr
	return nil
}
