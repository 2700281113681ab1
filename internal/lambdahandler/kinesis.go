// Package lambdahandler adapts aws-lambda-go's event shapes to the pipeline's logic. It is the only
// package that imports aws-lambda-go/events.
package lambdahandler

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/internal/routing"
)

// Kinesis returns the router's Lambda handler: it routes the batch and reports the records to
// retry as batch item failures (ReportBatchItemFailures; identifier = sequence number). It never
// returns an error: a function error would make Lambda retry or bisect the whole batch.
func Kinesis(r *routing.Router) func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error) {
	return func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		res := r.Route(ctx, Records(ev))
		resp := events.KinesisEventResponse{BatchItemFailures: make([]events.KinesisBatchItemFailure, 0, len(res.Failed))}
		for _, seq := range res.Failed {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: seq})
		}
		return resp, nil
	}
}

// Records converts a Kinesis event's records for the router.
func Records(ev events.KinesisEvent) []routing.Record {
	recs := make([]routing.Record, len(ev.Records))
	for i, r := range ev.Records {
		shard, _, _ := strings.Cut(r.EventID, ":") // "shardId-000000000000:4954…"
		recs[i] = routing.Record{
			Data:           r.Kinesis.Data,
			PartitionKey:   r.Kinesis.PartitionKey,
			ShardID:        shard,
			SequenceNumber: r.Kinesis.SequenceNumber,
			ArrivalTime:    r.Kinesis.ApproximateArrivalTimestamp.UTC(),
		}
	}
	return recs
}
