package localinvoke

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Bounds of the queue of asynchronous (InvocationType=Event) invocations. Lambda queues events
// for up to six hours; the local queue is bounded instead, so that a producer faster than its
// function cannot grow it without limit: past either bound, Invoke answers 429
// TooManyRequestsException and queues nothing.
const (
	DefaultAsyncQueueEvents = 1000     // events waiting, all functions together
	DefaultAsyncQueueBytes  = 64 << 20 // their payloads, together
	DefaultAsyncWorkers     = 4        // events run at once
)

// AsyncStats counts the asynchronous invocations of a server.
type AsyncStats struct {
	Accepted int64 // answered 202 and queued
	Refused  int64 // answered 429: the queue was full
	Done     int64 // ran without a function error
	Failed   int64 // ran and failed (logged)
	Queued   int   // waiting now
	Running  int   // running now
}

// asyncJob is one queued event.
type asyncJob struct {
	name    string // the function's registered name
	id      string // request id
	payload []byte
}

// asyncQueue runs queued events on at most workers goroutines, started when events arrive and
// ended when none is left, so that an idle server holds no goroutine.
type asyncQueue struct {
	maxEvents int
	maxBytes  int64
	workers   int

	mu      sync.Mutex
	pending []asyncJob
	bytes   int64
	running int
	stats   AsyncStats
	idle    chan struct{} // closed when nothing is pending or running; replaced when work arrives
}

func newAsyncQueue(events int, bytes int64, workers int) *asyncQueue {
	idle := make(chan struct{})
	close(idle)
	return &asyncQueue{maxEvents: events, maxBytes: bytes, workers: workers, idle: idle}
}

// enqueue queues j and makes sure a worker runs it; it reports false when the queue is full.
func (q *asyncQueue) enqueue(j asyncJob, run func(asyncJob)) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) >= q.maxEvents || q.bytes+int64(len(j.payload)) > q.maxBytes {
		q.stats.Refused++
		return false
	}
	if len(q.pending) == 0 && q.running == 0 {
		q.idle = make(chan struct{})
	}
	q.pending = append(q.pending, j)
	q.bytes += int64(len(j.payload))
	q.stats.Accepted++
	if q.running < q.workers {
		q.running++
		go q.work(run)
	}
	return true
}

// work runs pending events until there are none.
func (q *asyncQueue) work(run func(asyncJob)) {
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.running--
			if q.running == 0 {
				close(q.idle)
			}
			q.mu.Unlock()
			return
		}
		j := q.pending[0]
		q.pending[0] = asyncJob{}
		q.pending = q.pending[1:]
		q.bytes -= int64(len(j.payload))
		q.mu.Unlock()
		run(j)
	}
}

func (q *asyncQueue) finished(failed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if failed {
		q.stats.Failed++
	} else {
		q.stats.Done++
	}
}

func (q *asyncQueue) snapshot() AsyncStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Queued, s.Running = len(q.pending), q.running
	return s
}

func (q *asyncQueue) idleChan() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.idle
}

// runAsync runs one queued event as Lambda runs an asynchronous invocation: with no caller to
// answer, a function error is logged. Lambda would retry it twice (one and two minutes later) and
// then send it to an on-failure destination; the local stack retries nothing, and the template
// declares no destination for asynchronous invocations.
func (s *Server) runAsync(j asyncJob) {
	ctx := WithInvocation(context.Background(), j.id, nil)
	_, err := s.call(ctx, j.name, j.payload)
	s.async.finished(err != nil)
	if err != nil {
		s.log.Warn("asynchronous invocation failed (Lambda would retry it twice; the local stack does not)",
			"function", j.name, "requestId", j.id, "error", err.Error())
	}
}

// AsyncStats returns the counts of the server's asynchronous invocations.
func (s *Server) AsyncStats() AsyncStats { return s.async.snapshot() }

// WaitAsync waits until no asynchronous invocation is queued or running, or ctx ends.
func (s *Server) WaitAsync(ctx context.Context) error {
	for {
		idle := s.async.idleChan()
		select {
		case <-idle:
			// An event may have arrived between the channel's close and now: check again.
			if st := s.async.snapshot(); st.Queued == 0 && st.Running == 0 {
				return nil
			}
		case <-ctx.Done():
			return errors.Join(errors.New("asynchronous invocations still queued or running"), context.Cause(ctx))
		}
		time.Sleep(time.Millisecond)
	}
}

// Option configures a Server.
type Option func(*Server)

// WithAsyncQueue bounds the queue of asynchronous invocations: at most events events and bytes
// bytes of payload waiting, run by at most workers goroutines. Values below 1 keep the defaults.
func WithAsyncQueue(events int, bytes int64, workers int) Option {
	return func(s *Server) {
		if events < 1 {
			events = DefaultAsyncQueueEvents
		}
		if bytes < 1 {
			bytes = DefaultAsyncQueueBytes
		}
		if workers < 1 {
			workers = DefaultAsyncWorkers
		}
		s.async = newAsyncQueue(events, bytes, workers)
	}
}

// WithLogger sets where the server logs what no caller hears of (failed asynchronous
// invocations); slog.Default() otherwise.
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) {
		if l != nil {
			s.log = l
		}
	}
}
