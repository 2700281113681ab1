// Package demo is `eventctl demo`: it sends the events/ samples and a generated mixed stream
// through the local stack, waits until every record is checkpointed, and checks the table against
// what the pipeline must have made of the stream.
package demo

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// Samples reads the records of every sample in dir (events/): the data of the router's Kinesis
// events and the events of the type functions' batches, in file order.
func Samples(dir string) ([]eventgen.Record, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no samples in %s/*/*.json", dir)
	}
	var out []eventgen.Record
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		recs, err := SampleRecords(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out = append(out, recs...)
	}
	return out, nil
}

// SampleRecords reads the records of one sample: the data of a Kinesis event's records, or the
// events of a type function's batch.
func SampleRecords(raw []byte) ([]eventgen.Record, error) {
	var probe map[string]json.RawMessage // exact keys: encoding/json would match "records" to "Records"
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	var out []eventgen.Record
	if _, kinesis := probe["Records"]; kinesis {
		var k events.KinesisEvent
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, fmt.Errorf("not a Kinesis event: %w", err)
		}
		for _, r := range k.Records {
			out = append(out, eventgen.Record{Data: r.Kinesis.Data, PartitionKey: r.Kinesis.PartitionKey})
		}
		return out, nil
	}
	var b typefn.Batch
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("not a type function batch: %w", err)
	}
	for _, r := range b.Records {
		pk := "unknown"
		if e, err := event.Decode(r.Event); err == nil {
			pk = e.Subject
		}
		out = append(out, eventgen.Record{Data: r.Event, PartitionKey: pk})
	}
	return out, nil
}
