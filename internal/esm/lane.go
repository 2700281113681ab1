package esm

import (
	"context"
	"sync"
	"time"
)

// lane is one of a shard's ParallelizationFactor batch streams: the records
// of the partition keys hashed to it, delivered in order, one batch at a time.
type lane struct {
	notify chan struct{} // signalled when records arrive or the reader stops

	mu    sync.Mutex
	queue []*record // read, not yet in a batch
	bytes int       // sum of the queued records' body sizes
}

// eventOverhead is the size of the event around its records: {"Records":[]}.
const eventOverhead = len(`{"Records":[]}`)

// push queues records and wakes the lane.
func (l *lane) push(recs []*record) {
	l.mu.Lock()
	l.queue = append(l.queue, recs...)
	for _, r := range recs {
		l.bytes += len(r.body)
	}
	l.mu.Unlock()
	l.wake()
}

func (l *lane) wake() {
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// runLane gathers batches and delivers them until ctx ends, or the reader
// stopped and the lane is empty.
func (s *shard) runLane(ctx context.Context, l *lane) {
	windowStart := time.Now()
	for {
		batch := s.gather(ctx, l, windowStart)
		if batch == nil {
			return
		}
		s.m.counts.batches.Add(1)
		if err := s.deliver(ctx, batch); err != nil {
			return
		}
		// As in AWS, the next batching window starts when the invocation completes.
		windowStart = time.Now()
	}
}

// gather waits for the lane's next batch: as soon as records are queued
// without a batching window; with one, when the batch is full (BatchSize or
// the 6 MB payload) or the window that began at windowStart has passed. It
// returns nil when ctx ends, or when the reader stopped and nothing is queued.
func (s *shard) gather(ctx context.Context, l *lane, windowStart time.Time) []*record {
	window := s.m.cfg.MaximumBatchingWindow
	size := int(s.m.cfg.BatchSize)
	for {
		if ctx.Err() != nil {
			return nil
		}
		readerDone := s.closed.Load()
		l.mu.Lock()
		n := len(l.queue)
		if n > 0 {
			full := n >= size || eventOverhead+l.bytes+n-1 > MaxPayload
			if full || window <= 0 || readerDone || !time.Now().Before(windowStart.Add(window)) {
				batch := l.take(size)
				l.mu.Unlock()
				return batch
			}
		}
		l.mu.Unlock()
		if n == 0 && readerDone {
			return nil
		}
		var (
			timer  *time.Timer
			expire <-chan time.Time
		)
		if n > 0 {
			timer = time.NewTimer(time.Until(windowStart.Add(window)))
			expire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-l.notify:
		case <-expire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// take removes and returns the first queued records: at most size, and no
// more than fit in MaxPayload (at least one). The caller holds l.mu.
func (l *lane) take(size int) []*record {
	total, n := eventOverhead, 0
	for n < len(l.queue) && n < size {
		add := len(l.queue[n].body)
		if n > 0 {
			add++ // comma
		}
		if n > 0 && total+add > MaxPayload {
			break
		}
		total += add
		n++
	}
	batch := make([]*record, n)
	copy(batch, l.queue)
	clear(l.queue[:n])
	l.queue = l.queue[n:]
	for _, r := range batch {
		l.bytes -= len(r.body)
	}
	return batch
}
