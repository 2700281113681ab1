package esm

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// record is one Kinesis record read from a shard, with its event JSON.
type record struct {
	seq     string
	key     string
	arrival time.Time
	body    []byte // events.KinesisEventRecord as Lambda sends it
	done    bool   // processed: delivered, or discarded after its OnFailure record; guarded by shard.mu
}

// shard reads one shard and delivers its records through ParallelizationFactor
// lanes. Its window holds the records read and not yet processed, in stream
// order; the checkpoint moves over its processed prefix, so with several
// lanes it is the last record before the oldest one still in flight.
type shard struct {
	m       *Mapping
	id      string
	parents []string
	log     *slog.Logger
	lanes   []*lane
	space   chan struct{} // signalled when the window shrinks

	started  bool        // guarded by m.mu
	finished atomic.Bool // read to its end and checkpointed ShardEnd
	closed   atomic.Bool // the reader reached the shard's end
	polled   atomic.Bool // a GetRecords call succeeded

	mu          sync.Mutex
	startCP     string    // checkpoint when the shard was found ("" if none)
	window      []*record // read and not processed, oldest first
	windowBytes int
	read        int64  // records read
	processed   int64  // records of the processed prefix
	lastRead    string // sequence number of the last record read
	want        string // checkpoint to write: the last record of the processed prefix

	cpMu      sync.Mutex   // serializes checkpoint writes
	written   string       // checkpoint last written; guarded by cpMu
	committed atomic.Int64 // records covered by the written checkpoint
}

func newShard(m *Mapping, id, checkpoint string, parents ...string) *shard {
	s := &shard{m: m, id: id, startCP: checkpoint, written: checkpoint, space: make(chan struct{}, 1),
		log: m.log.With("shard", id)}
	for _, p := range parents {
		if p != "" {
			s.parents = append(s.parents, p)
		}
	}
	if checkpoint == ShardEnd {
		s.finished.Store(true)
	}
	for range m.cfg.ParallelizationFactor {
		s.lanes = append(s.lanes, &lane{notify: make(chan struct{}, 1)})
	}
	return s
}

// run reads and delivers the shard until ctx ends or the shard is read to
// its end. It reports whether the shard finished (checkpoint ShardEnd).
func (s *shard) run(ctx context.Context) bool {
	s.log.Info("reading shard", "checkpoint", s.startCP)
	var wg sync.WaitGroup
	for _, l := range s.lanes {
		wg.Go(func() { s.runLane(ctx, l) })
	}
	s.readLoop(ctx)
	wg.Wait()
	if ctx.Err() != nil || !s.closed.Load() {
		return false
	}
	s.mu.Lock()
	pending := len(s.window)
	s.mu.Unlock()
	if pending > 0 {
		return false
	}
	if err := s.writeCheckpoint(ctx, ShardEnd, s.committed.Load()); err != nil {
		return false
	}
	s.finished.Store(true)
	s.log.Info("shard finished")
	return true
}

// readLoop reads records into the lanes until ctx ends or the shard ends.
// Errors are logged and retried with backoff; an expired or invalid iterator
// is acquired again after the last record read, so nothing is skipped.
func (s *shard) readLoop(ctx context.Context) {
	defer s.notifyLanes()
	var it *string
	bo := s.m.newBackoff()
	limit := min(MaxBatchSize, int(s.m.cfg.BatchSize)*s.m.cfg.ParallelizationFactor)
	for ctx.Err() == nil {
		if it == nil {
			var err error
			if it, err = s.iterator(ctx); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("get shard iterator", "error", err)
					bo.wait(ctx)
				}
				continue
			}
		}
		if !s.waitSpace(ctx) {
			return
		}
		out, err := s.m.kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(int32(limit))})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var expired *kintypes.ExpiredIteratorException
			var invalid *kintypes.InvalidArgumentException
			if errors.As(err, &expired) || errors.As(err, &invalid) {
				it = nil
			}
			s.log.Warn("get records", "error", err)
			bo.wait(ctx)
			continue
		}
		bo.reset()
		s.polled.Store(true)
		s.add(out.Records)
		if out.NextShardIterator == nil {
			s.closed.Store(true)
			s.log.Info("shard closed: read to its end")
			return
		}
		it = out.NextShardIterator
		// Caught up: the read did not fill (kinesalite always says MillisBehindLatest 0). AWS
		// then reads the shard again about a second later; while behind, it reads on at once.
		if len(out.Records) < limit && aws.ToInt64(out.MillisBehindLatest) == 0 {
			sleep(ctx, s.m.cfg.PollInterval)
		}
	}
}

// iterator returns an iterator just after the last record read, else just
// after the checkpoint, else at StartingPosition. A checkpoint the stream
// rejects (for example one kept from an earlier stream of the same name) is
// logged and dropped.
func (s *shard) iterator(ctx context.Context) (*string, error) {
	s.mu.Lock()
	after, fromCheckpoint := s.lastRead, false
	if after == "" && s.startCP != "" {
		after, fromCheckpoint = s.startCP, true
	}
	s.mu.Unlock()
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(s.m.cfg.StreamName), ShardId: aws.String(s.id)}
	switch {
	case after != "":
		in.ShardIteratorType, in.StartingSequenceNumber = kintypes.ShardIteratorTypeAfterSequenceNumber, aws.String(after)
	case s.m.cfg.StartingPosition == AtTimestamp:
		in.ShardIteratorType, in.Timestamp = kintypes.ShardIteratorTypeAtTimestamp, aws.Time(s.m.cfg.StartingPositionTimestamp)
	default:
		in.ShardIteratorType = kintypes.ShardIteratorType(s.m.cfg.StartingPosition)
	}
	out, err := s.m.kin.GetShardIterator(ctx, in)
	var invalid *kintypes.InvalidArgumentException
	if fromCheckpoint && errors.As(err, &invalid) {
		s.log.Warn("checkpoint rejected by the stream; reading from the starting position",
			"checkpoint", after, "startingPosition", s.m.cfg.StartingPosition, "error", err)
		s.mu.Lock()
		s.startCP = ""
		s.mu.Unlock()
		return s.iterator(ctx)
	}
	if err != nil {
		return nil, err
	}
	return out.ShardIterator, nil
}

// waitSpace blocks while the window is full; it returns false if ctx ends.
func (s *shard) waitSpace(ctx context.Context) bool {
	maxRecords := 2 * int(s.m.cfg.BatchSize) * s.m.cfg.ParallelizationFactor
	maxBytes := 2 * MaxPayload * s.m.cfg.ParallelizationFactor
	for {
		s.mu.Lock()
		ok := len(s.window) == 0 || (len(s.window) < maxRecords && s.windowBytes < maxBytes)
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-s.space:
		}
	}
}

// add appends records to the window and hands each to its partition key's lane.
func (s *shard) add(recs []kintypes.Record) {
	if len(recs) == 0 {
		return
	}
	m := s.m
	m.mu.Lock()
	region, arn := m.region, m.streamARN
	m.mu.Unlock()
	read := make([]*record, 0, len(recs))
	for _, r := range recs {
		seq := aws.ToString(r.SequenceNumber)
		ev := events.KinesisEventRecord{
			AwsRegion:      region,
			EventID:        s.id + ":" + seq,
			EventName:      "aws:kinesis:record",
			EventSource:    "aws:kinesis",
			EventSourceArn: arn,
			EventVersion:   "1.0",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)},
				Data:                        r.Data,
				PartitionKey:                aws.ToString(r.PartitionKey),
				SequenceNumber:              seq,
				KinesisSchemaVersion:        "1.0",
			},
		}
		if r.EncryptionType != "" && r.EncryptionType != kintypes.EncryptionTypeNone {
			ev.Kinesis.EncryptionType = string(r.EncryptionType)
		}
		body, err := json.Marshal(ev)
		if err != nil { // cannot happen: every field is a string, []byte or time
			panic("esm: encode Kinesis record: " + err.Error())
		}
		read = append(read, &record{seq: seq, key: ev.Kinesis.PartitionKey, arrival: ev.Kinesis.ApproximateArrivalTimestamp.Time, body: body})
	}
	s.mu.Lock()
	for _, r := range read {
		s.window = append(s.window, r)
		s.windowBytes += len(r.body)
	}
	s.read += int64(len(read))
	s.lastRead = read[len(read)-1].seq
	s.mu.Unlock()
	// Each lane gets its records of the page at once, so a lane gathering a
	// batch never sees only part of what one GetRecords call returned.
	perLane := make([][]*record, len(s.lanes))
	for _, r := range read {
		i := s.laneOf(r.key)
		perLane[i] = append(perLane[i], r)
	}
	for i, recs := range perLane {
		if len(recs) > 0 {
			s.lanes[i].push(recs)
		}
	}
}

// laneOf returns the lane of a partition key.
func (s *shard) laneOf(key string) int {
	if len(s.lanes) == 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(len(s.lanes)))
}

// notifyLanes wakes every lane, to see that the reader stopped.
func (s *shard) notifyLanes() {
	for _, l := range s.lanes {
		l.wake()
	}
}

// markProcessed marks records processed, moves the checkpoint over the
// processed prefix of the window and writes it.
func (s *shard) markProcessed(ctx context.Context, recs []*record) error {
	s.mu.Lock()
	for _, r := range recs {
		r.done = true
	}
	moved := false
	for len(s.window) > 0 && s.window[0].done {
		r := s.window[0]
		s.window[0] = nil
		s.window = s.window[1:]
		s.windowBytes -= len(r.body)
		s.processed++
		s.want = r.seq
		moved = true
	}
	s.mu.Unlock()
	if !moved {
		return nil
	}
	select {
	case s.space <- struct{}{}:
	default:
	}
	s.mu.Lock()
	want, count := s.want, s.processed
	s.mu.Unlock()
	return s.writeCheckpoint(ctx, want, count)
}

// writeCheckpoint writes cp, covering count records read, unless a later one
// was written meanwhile; it retries until it succeeds or ctx ends.
func (s *shard) writeCheckpoint(ctx context.Context, cp string, count int64) error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	if count < s.committed.Load() || cp == s.written {
		return nil
	}
	bo := s.m.newBackoff()
	for {
		err := s.m.cps.Put(ctx, s.m.cfg.ID, s.id, cp)
		if err == nil {
			s.written = cp
			s.committed.Store(count)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("write checkpoint", "checkpoint", cp, "error", err)
		if !bo.wait(ctx) {
			return ctx.Err()
		}
	}
}

// uncommitted returns how many records were read and not yet covered by a
// written checkpoint.
func (s *shard) uncommitted() int64 {
	s.mu.Lock()
	read := s.read
	s.mu.Unlock()
	return read - s.committed.Load()
}
