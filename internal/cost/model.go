package cost

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Run is what one run measured, all counts for the whole run. Events is the denominator of every
// figure the model gives.
type Run struct {
	// Events is the number of valid events processed (persisted or found to be duplicates);
	// quarantined records are not events, but what they cost is counted.
	Events int64 `json:"events"`
	// Records is the number of records put on the stream: valid, invalid and duplicated.
	Records int64 `json:"records"`
	// AvgRecordBytes is the mean size of a record as put (data plus partition key), in bytes.
	AvgRecordBytes float64 `json:"avgRecordBytes"`
	// Lambda has one entry per function kind (router, transaction, …).
	Lambda []LambdaUsage `json:"lambda"`
	// DynamoDB has one entry per operation and kind of access.
	DynamoDB []DynamoDBUsage `json:"dynamoDB"`
	// Kinesis is the stream's provisioned capacity and the rate its shard-hours are spread over.
	Kinesis KinesisUsage `json:"kinesis"`
	// Notes are carried into the Breakdown as they are (assumptions the caller made).
	Notes []string `json:"notes,omitempty"`
}

// LambdaUsage is one function kind's invocations.
type LambdaUsage struct {
	Function    string `json:"function"`
	Invocations int64  `json:"invocations"`
	// AvgBilledMs is the mean billed duration of an invocation in milliseconds: each invocation's
	// duration rounded up to a whole millisecond (see BilledMs), then averaged.
	AvgBilledMs float64 `json:"avgBilledMs"`
	// MemoryMB is the function's configured memory.
	MemoryMB int `json:"memoryMB"`
}

// BilledMs is a duration as Lambda bills it: rounded up to the next whole millisecond.
func BilledMs(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// GBSeconds is the billed compute of u: invocations × billed seconds × memory in GB (1 GB = 1024 MB).
func (u LambdaUsage) GBSeconds() float64 {
	return float64(u.Invocations) * u.AvgBilledMs / 1000 * float64(u.MemoryMB) / 1024
}

// Access is how DynamoDB bills an item read or written.
type Access int

// The kinds of access and their units per item (per request for SumPerRequest reads).
const (
	// StandardWrite is PutItem, UpdateItem, DeleteItem and BatchWriteItem's puts and deletes:
	// 1 WRU per started KB of the item.
	StandardWrite Access = iota
	// TransactionalWrite is each action of TransactWriteItems: 2 WRU per started KB.
	TransactionalWrite
	// StronglyConsistentRead is GetItem, BatchGetItem or Query with ConsistentRead: 1 RRU per
	// started 4 KB.
	StronglyConsistentRead
	// EventuallyConsistentRead is the default read, and every read of a global secondary index:
	// 0.5 RRU per started 4 KB.
	EventuallyConsistentRead
	// TransactionalRead is each item of TransactGetItems: 2 RRU per started 4 KB.
	TransactionalRead
)

// String names the access as the tables print it.
func (a Access) String() string {
	switch a {
	case StandardWrite:
		return "standard write"
	case TransactionalWrite:
		return "transactional write"
	case StronglyConsistentRead:
		return "strongly consistent read"
	case EventuallyConsistentRead:
		return "eventually consistent read"
	case TransactionalRead:
		return "transactional read"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

func (a Access) write() bool { return a == StandardWrite || a == TransactionalWrite }

// unitBytes and factor: units = started unitBytes × factor.
func (a Access) unitBytes() float64 {
	if a.write() {
		return WriteUnitBytes
	}
	return ReadUnitBytes
}

func (a Access) factor() float64 {
	switch a {
	case TransactionalWrite, TransactionalRead:
		return 2
	case EventuallyConsistentRead:
		return 0.5
	}
	return 1
}

// DynamoDBUsage is one operation's requests and the items they read or wrote.
type DynamoDBUsage struct {
	// Operation is the API name as counted, e.g. "TransactWriteItems" or "Query GSI1".
	Operation string `json:"operation"`
	Access    Access `json:"access"`
	// Requests is the number of API calls (retries included). Only SumPerRequest uses it.
	Requests int64 `json:"requests"`
	// Items is the number of items written or read (for TransactWriteItems, its actions; for
	// BatchGetItem, the keys asked for, found or not; for Query, the items read before any filter).
	Items int64 `json:"items"`
	// AvgItemBytes is the mean size of those items in bytes (0 for keys that were not found).
	AvgItemBytes float64 `json:"avgItemBytes"`
	// SumPerRequest says DynamoDB adds up the sizes of a request's items before rounding up, as
	// for Query and Scan; otherwise each item is rounded up on its own, as for GetItem,
	// BatchGetItem and every write.
	SumPerRequest bool `json:"sumPerRequest,omitempty"`
	// IndexWrites is the number of global secondary indexes each written item is also written to
	// (the item has those indexes' keys). Each costs a standard write of the projected item:
	// 1 WRU per started KB, the item's size for an ALL projection.
	IndexWrites int `json:"indexWrites,omitempty"`
	// Units, when above zero, is the capacity the operation was measured to consume
	// (ReturnConsumedCapacity TOTAL, indexes included); it replaces what the model computes.
	Units float64 `json:"units,omitempty"`
}

// TableUnits is the capacity the operation consumes on the table itself: WRU for writes, RRU for
// reads. Each item (each request, for SumPerRequest) takes at least one unit of its kind before
// the access factor: the model charges a read of a missing key and an empty Query like a read of a
// small item (an assumption; a measured Units settles it).
func (u DynamoDBUsage) TableUnits() float64 {
	if u.SumPerRequest {
		if u.Requests <= 0 {
			return 0
		}
		perRequest := float64(u.Items) / float64(u.Requests) * u.AvgItemBytes
		return float64(u.Requests) * startedUnits(perRequest, u.Access.unitBytes()) * u.Access.factor()
	}
	return float64(u.Items) * startedUnits(u.AvgItemBytes, u.Access.unitBytes()) * u.Access.factor()
}

// IndexUnits is the WRU the operation's writes consume on global secondary indexes.
func (u DynamoDBUsage) IndexUnits() float64 {
	if !u.Access.write() || u.IndexWrites <= 0 {
		return 0
	}
	return float64(u.Items) * float64(u.IndexWrites) * startedUnits(u.AvgItemBytes, WriteUnitBytes)
}

// startedUnits is how many units of unit bytes n bytes start, at least one.
func startedUnits(n, unit float64) float64 {
	return max(1, math.Ceil(n/unit))
}

// KinesisUsage is the stream's provisioned shards and the sustained rate the shard-hours are
// spread over. A provisioned shard costs the same busy or idle, so its cost per event depends only
// on how many events per second the stream carries: shard-hours per million events =
// Shards × (1e6 / events per second) / 3600.
type KinesisUsage struct {
	Shards int `json:"shards"`
	// SustainedEventsPerSecond is the steady rate assumed for production. When zero, the run's
	// own rate (Events / RunDuration) is used, which on a local stack says little about AWS.
	SustainedEventsPerSecond float64 `json:"sustainedEventsPerSecond,omitempty"`
	// RunDuration is how long the run took, from the first record put to the last checkpoint.
	RunDuration time.Duration `json:"runDuration,omitempty"`
}

// ErrNoEvents is returned when a run has no events to divide by.
var ErrNoEvents = errors.New("cost: the run has no events")

// Estimate prices r at p, per million events.
func Estimate(r Run, p Prices) (Breakdown, error) {
	if r.Events <= 0 {
		return Breakdown{}, ErrNoEvents
	}
	if err := r.check(); err != nil {
		return Breakdown{}, err
	}
	perMillion := 1e6 / float64(r.Events)
	b := Breakdown{Events: r.Events, Notes: append([]string(nil), r.Notes...)}
	add := func(service, item string, quantity float64, unit string, price float64) {
		q := quantity * perMillion
		b.Lines = append(b.Lines, Line{Service: service, Item: item, Quantity: q, Unit: unit, USDPerUnit: price, USD: q * price})
	}

	for _, l := range r.Lambda {
		add(ServiceLambda, l.Function+" requests", float64(l.Invocations), "requests", p.LambdaRequest)
		add(ServiceLambda, fmt.Sprintf("%s duration (%d MB, %.1f ms avg)", l.Function, l.MemoryMB, l.AvgBilledMs), l.GBSeconds(), "GB-s", p.LambdaGBSecond)
	}

	for _, d := range r.DynamoDB {
		unit, price := "RRU", p.DynamoDBRRU
		if d.Access.write() {
			unit, price = "WRU", p.DynamoDBWRU
		}
		if d.Units > 0 {
			add(ServiceDynamoDB, fmt.Sprintf("%s (%s, measured)", d.Operation, d.Access), d.Units, unit, price)
			continue
		}
		add(ServiceDynamoDB, fmt.Sprintf("%s (%s)", d.Operation, d.Access), d.TableUnits(), unit, price)
		if iu := d.IndexUnits(); iu > 0 {
			add(ServiceDynamoDB, fmt.Sprintf("%s: writes to %d GSIs", d.Operation, d.IndexWrites), iu, "WRU", p.DynamoDBWRU)
		}
	}

	putUnits := float64(r.Records) * startedUnits(r.AvgRecordBytes, PUTPayloadUnitBytes)
	if r.Records > 0 {
		add(ServiceKinesis, "PUT payload units", putUnits, "PUT units", p.KinesisPUTUnit)
	}
	if rate := r.eventsPerSecond(); rate > 0 && r.Kinesis.Shards > 0 {
		shardHours := float64(r.Kinesis.Shards) * float64(r.Events) / rate / 3600
		add(ServiceKinesis, fmt.Sprintf("shard-hours (%s at %.0f events/s)", plural(r.Kinesis.Shards, "shard"), rate), shardHours, "shard-hours", p.KinesisShardHour)
		b.Notes = append(b.Notes, r.capacityNotes(rate)...)
	} else if r.Kinesis.Shards > 0 {
		b.Notes = append(b.Notes, "shard-hours not counted: neither a sustained rate nor a run duration was given")
	}

	b.total()
	return b, nil
}

// eventsPerSecond is the rate shard-hours are spread over.
func (r Run) eventsPerSecond() float64 {
	if r.Kinesis.SustainedEventsPerSecond > 0 {
		return r.Kinesis.SustainedEventsPerSecond
	}
	if r.Kinesis.RunDuration > 0 {
		return float64(r.Events) / r.Kinesis.RunDuration.Seconds()
	}
	return 0
}

// capacityNotes warns when the rate needs more write capacity than the shards have.
func (r Run) capacityNotes(eventsPerSecond float64) []string {
	if r.Records <= 0 {
		return nil
	}
	recordsPerSecond := eventsPerSecond * float64(r.Records) / float64(r.Events)
	shards := float64(r.Kinesis.Shards)
	var notes []string
	if recordsPerSecond > shards*ShardWriteRecordsPerSecond {
		notes = append(notes, fmt.Sprintf("%.0f records/s is more than %s (%d records/s each): more shards are needed",
			recordsPerSecond, shardsTake(r.Kinesis.Shards), ShardWriteRecordsPerSecond))
	}
	if recordsPerSecond*r.AvgRecordBytes > shards*ShardWriteBytesPerSecond {
		notes = append(notes, fmt.Sprintf("%.0f bytes/s is more than %s (1 MB/s each): more shards are needed",
			recordsPerSecond*r.AvgRecordBytes, shardsTake(r.Kinesis.Shards)))
	}
	return notes
}

func shardsTake(n int) string {
	if n == 1 {
		return "1 shard takes"
	}
	return fmt.Sprintf("%d shards take", n)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// check refuses negative or non-finite inputs.
func (r Run) check() error {
	bad := func(what string, v float64) error {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("cost: %s is %v, want a finite number ≥ 0", what, v)
		}
		return nil
	}
	errs := []error{
		bad("Records", float64(r.Records)),
		bad("AvgRecordBytes", r.AvgRecordBytes),
		bad("Kinesis.Shards", float64(r.Kinesis.Shards)),
		bad("Kinesis.SustainedEventsPerSecond", r.Kinesis.SustainedEventsPerSecond),
		bad("Kinesis.RunDuration", float64(r.Kinesis.RunDuration)),
	}
	for _, l := range r.Lambda {
		errs = append(errs,
			bad(l.Function+" Invocations", float64(l.Invocations)),
			bad(l.Function+" AvgBilledMs", l.AvgBilledMs),
			bad(l.Function+" MemoryMB", float64(l.MemoryMB)))
	}
	for _, d := range r.DynamoDB {
		if d.Access < StandardWrite || d.Access > TransactionalRead {
			errs = append(errs, fmt.Errorf("cost: %s has unknown %v", d.Operation, d.Access))
		}
		errs = append(errs,
			bad(d.Operation+" Requests", float64(d.Requests)),
			bad(d.Operation+" Items", float64(d.Items)),
			bad(d.Operation+" AvgItemBytes", d.AvgItemBytes),
			bad(d.Operation+" IndexWrites", float64(d.IndexWrites)),
			bad(d.Operation+" Units", d.Units))
	}
	return errors.Join(errs...)
}
