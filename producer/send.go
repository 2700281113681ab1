package producer

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithytime "github.com/aws/smithy-go/time"
)

// item is one record on its way to the stream.
type item struct {
	index    int // position among the arguments of Send or SendRaw
	data     []byte
	key      string
	attempts int
	lastErr  error // why the last attempt failed
	lastCode string
}

// size is what the record counts against the PutRecords limits.
func (it *item) size() int { return len(it.data) + len(it.key) }

// retryable classifies the error of a whole PutRecords call the way the SDK's retryer does.
var retryable = retry.IsErrorRetryables(retry.DefaultRetryables)

// run is the state of one Send or SendRaw, shared by its lanes.
type run struct {
	p   *Producer
	mu  sync.Mutex
	res Result
}

// send puts items on the stream in lanes and assembles the Result; refused are the records
// already refused before sending.
func (p *Producer) send(ctx context.Context, start time.Time, total int, items []*item, refused []Failure) (Result, error) {
	r := &run{p: p, res: Result{Total: total, Shards: map[string]int{}, Failed: refused}}
	lanes := splitLanes(items, p.cfg.concurrency)
	if len(lanes) == 1 {
		r.lane(ctx, lanes[0])
	} else {
		var wg sync.WaitGroup
		for _, lane := range lanes {
			wg.Go(func() { r.lane(ctx, lane) })
		}
		wg.Wait()
	}
	sort.Slice(r.res.Failed, func(i, j int) bool { return r.res.Failed[i].Index < r.res.Failed[j].Index })
	r.res.Elapsed = time.Since(start)
	return r.res, r.res.Err()
}

// splitLanes shares items among at most n lanes by a hash of their partition key, keeping their
// order within each lane; it drops empty lanes.
func splitLanes(items []*item, n int) [][]*item {
	if n <= 1 || len(items) == 0 {
		return [][]*item{items}
	}
	lanes := make([][]*item, n)
	for _, it := range items {
		h := fnv.New32a()
		h.Write([]byte(it.key))
		i := h.Sum32() % uint32(n)
		lanes[i] = append(lanes[i], it)
	}
	kept := lanes[:0]
	for _, l := range lanes {
		if len(l) > 0 {
			kept = append(kept, l)
		}
	}
	return kept
}

// lane sends queue, in order, one call at a time. Records a call refuses go first in the next
// call, after a backoff, until they are stored or out of attempts.
func (r *run) lane(ctx context.Context, queue []*item) {
	var retrying []*item
	for len(retrying)+len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			r.fail(CodeCanceled, err, retrying, queue)
			return
		}
		var batch []*item
		batch, retrying, queue = r.p.take(retrying, queue)
		again := 0
		for _, it := range batch {
			if it.attempts > 0 {
				again++
			}
			it.attempts++
		}
		r.count(func(res *Result) { res.Calls++; res.Retries += again })
		out, err := r.put(ctx, batch)
		var failed []*item
		switch {
		case err != nil && ctx.Err() != nil:
			r.fail(CodeInterrupted, fmt.Errorf("the PutRecords call was interrupted; the stream may have stored the record: %w", err), batch)
			r.fail(CodeCanceled, ctx.Err(), retrying, queue)
			return
		case err != nil && retryable.IsErrorRetryable(err) != aws.TrueTernary:
			r.fail(CodeCallFailed, err, batch, retrying, queue)
			return
		case err != nil:
			for _, it := range batch {
				it.lastCode, it.lastErr = CodeCallFailed, err
			}
			failed = batch
		default:
			failed = r.stored(batch, out)
		}
		var refused []*item
		for _, it := range failed {
			if it.attempts >= r.p.cfg.maxAttempts {
				r.fail(it.lastCode, it.lastErr, []*item{it})
				continue
			}
			refused = append(refused, it)
		}
		if len(refused) == 0 {
			continue
		}
		worst := refused[0]
		for _, it := range refused {
			if it.attempts > worst.attempts {
				worst = it
			}
		}
		delay, err := r.p.cfg.backoff.BackoffDelay(worst.attempts, worst.lastErr)
		if err != nil {
			r.fail(CodeCallFailed, fmt.Errorf("no backoff after %s: %w", worst.lastCode, err), refused, retrying, queue)
			return
		}
		// Records refused by this call go before those it left out, so order per key holds.
		retrying = append(refused, retrying...)
		if err := smithytime.SleepWithContext(ctx, delay); err != nil {
			r.fail(CodeCanceled, err, retrying, queue)
			return
		}
	}
}

// take fills one call: the records to retry first, then new ones, within the call limits.
func (p *Producer) take(retrying, queue []*item) (batch, restRetrying, restQueue []*item) {
	bytes := 0
	for len(batch) < p.cfg.maxRecords {
		src := &retrying
		if len(retrying) == 0 {
			src = &queue
		}
		if len(*src) == 0 {
			break
		}
		it := (*src)[0]
		if len(batch) > 0 && bytes+it.size() > MaxBytesPerCall {
			break
		}
		bytes += it.size()
		batch = append(batch, it)
		*src = (*src)[1:]
	}
	return batch, retrying, queue
}

// put makes one PutRecords call.
func (r *run) put(ctx context.Context, batch []*item) (*kinesis.PutRecordsOutput, error) {
	entries := make([]types.PutRecordsRequestEntry, len(batch))
	for i, it := range batch {
		entries[i] = types.PutRecordsRequestEntry{Data: it.data, PartitionKey: aws.String(it.key)}
	}
	in := &kinesis.PutRecordsInput{Records: entries}
	if r.p.arn {
		in.StreamARN = aws.String(r.p.stream)
	} else {
		in.StreamName = aws.String(r.p.stream)
	}
	out, err := r.p.client.PutRecords(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("put %d records on %s: %w", len(batch), r.p.stream, err)
	}
	if len(out.Records) != len(batch) {
		return nil, fmt.Errorf("put %d records on %s: PutRecords answered for %d records", len(batch), r.p.stream, len(out.Records))
	}
	return out, nil
}

// stored counts the records the call stored, reports progress, and returns the refused ones.
func (r *run) stored(batch []*item, out *kinesis.PutRecordsOutput) []*item {
	var failed []*item
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for i, rec := range out.Records {
		if rec.ErrorCode != nil {
			it := batch[i]
			it.lastCode = aws.ToString(rec.ErrorCode)
			it.lastErr = &RecordError{Code: it.lastCode, Message: aws.ToString(rec.ErrorMessage)}
			failed = append(failed, it)
			continue
		}
		n++
		r.res.Shards[aws.ToString(rec.ShardId)]++
	}
	r.res.Sent += n
	if n > 0 && r.p.cfg.progress != nil {
		r.p.cfg.progress(r.res.Sent, r.res.Total)
	}
	return failed
}

// fail reports every item of groups as not sent, with code and cause err.
func (r *run) fail(code string, err error, groups ...[]*item) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range groups {
		for _, it := range g {
			r.res.Failed = append(r.res.Failed, Failure{
				Index: it.index, PartitionKey: it.key, Code: code, Message: err.Error(), Attempts: it.attempts, Err: err,
			})
		}
	}
}

// count changes the Result under the run's lock.
func (r *run) count(change func(*Result)) {
	r.mu.Lock()
	change(&r.res)
	r.mu.Unlock()
}
