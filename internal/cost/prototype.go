package cost

import (
	"fmt"
	"time"
)

// PrototypeAssumptions are what the prototype's design needs that no run of ours measures.
type PrototypeAssumptions struct {
	// Duration is one invocation's duration: decode one record, build a validator, validate, one
	// PutItem. Billed rounded up to a whole millisecond.
	Duration time.Duration `json:"duration"`
	// MemoryMB is the function's memory.
	MemoryMB int `json:"memoryMB"`
	// ItemBytes is the size of the item PutItem writes; 0 means the record's size (the prototype
	// stored the record's fields as they came).
	ItemBytes float64 `json:"itemBytes,omitempty"`
	// Shards and SustainedEventsPerSecond price the stream as for our design; give the same values
	// as ours so that the comparison holds the stream constant.
	Shards                   int     `json:"shards"`
	SustainedEventsPerSecond float64 `json:"sustainedEventsPerSecond"`
}

// DefaultPrototypeAssumptions are documented figures, not measurements: 10 ms per invocation (one
// in-region PutItem round trip, which DynamoDB puts at single-digit milliseconds, plus decoding and
// validation), 128 MB (Lambda's default and smallest memory, the cheapest the prototype could have
// run at), one shard (its producer put every record under partition key "1"), and the given rate.
func DefaultPrototypeAssumptions(eventsPerSecond float64) PrototypeAssumptions {
	return PrototypeAssumptions{
		Duration:                 10 * time.Millisecond,
		MemoryMB:                 128,
		Shards:                   1,
		SustainedEventsPerSecond: eventsPerSecond,
	}
}

// Prototype is the run the prototype's design would make of events valid events of recordBytes
// each: batch size 1, so one Lambda invocation per record; one standard PutItem per record on a
// table without indexes; one PUT payload unit per started 25 KB of each record. Only valid events
// are counted: the prototype retried an invalid record until it expired, at a cost without bound.
func Prototype(events int64, recordBytes float64, a PrototypeAssumptions) Run {
	itemBytes := a.ItemBytes
	if itemBytes == 0 {
		itemBytes = recordBytes
	}
	r := Run{
		Events:         events,
		Records:        events,
		AvgRecordBytes: recordBytes,
		Lambda: []LambdaUsage{{
			Function:    "prototype",
			Invocations: events,
			AvgBilledMs: float64(BilledMs(a.Duration)),
			MemoryMB:    a.MemoryMB,
		}},
		DynamoDB: []DynamoDBUsage{{
			Operation:    "PutItem",
			Access:       StandardWrite,
			Requests:     events,
			Items:        events,
			AvgItemBytes: itemBytes,
		}},
		Kinesis: KinesisUsage{Shards: a.Shards, SustainedEventsPerSecond: a.SustainedEventsPerSecond},
		Notes: []string{fmt.Sprintf("prototype: assumed %v per invocation at %d MB, batch size 1, one PutItem (no indexes) per event",
			a.Duration, a.MemoryMB)},
	}
	// One partition key, batch size 1: the event source mapping hands the shard's records to one
	// invocation at a time, so the stream moves at most one record per invocation duration.
	if ms := BilledMs(a.Duration); ms > 0 {
		ceiling := 1000 / float64(ms)
		if a.SustainedEventsPerSecond > ceiling {
			r.Notes = append(r.Notes, fmt.Sprintf(
				"prototype: one record per invocation, one invocation at a time (one partition key) caps it near %.0f events/s, below the %.0f events/s assumed: it would fall behind",
				ceiling, a.SustainedEventsPerSecond))
		}
	}
	return r
}
