package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/gen"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/store"
	"github.com/go-event-processor/go-event-processor/typefn"
)

// ceilingTable is the scratch table the ceiling is measured on.
const ceilingTable = "bench-ceiling"

// Ceiling measures how many event items per second the DynamoDB emulator takes through the
// store's own write path — conditional TransactWriteItems of 100 puts, one writer, as one shard's
// pipeline writes — for the same item shape the pipeline writes (generated transactions).
func Ceiling(ctx context.Context, st *devstack.Stack, d time.Duration) (float64, error) {
	in := store.Schema(ceilingTable)
	if _, err := st.DynamoDB.CreateTable(ctx, in); err != nil {
		return 0, fmt.Errorf("create %s: %w", ceilingTable, err)
	}
	defer st.DynamoDB.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(ceilingTable)})
	s := store.New(st.DynamoDB, ceilingTable)
	var writes []typefn.Write
	for _, r := range gen.Generate(gen.Options{Events: 20000, Seed: 99, InvalidShare: -1, DuplicateShare: -1}) {
		e, err := event.Decode(r.Data)
		if err != nil || e.Type != event.TypeTransaction {
			continue
		}
		writes = append(writes, typefn.Write{Event: e, Fingerprint: e.Fingerprint()})
	}
	start := time.Now()
	n := 0
	for i := 0; i+100 <= len(writes) && time.Since(start) < d; i += 100 {
		for _, res := range s.Put(ctx, writes[i:i+100]) {
			if res.Outcome == typefn.OutcomeFailed {
				return 0, res.Err
			}
		}
		n += 100
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
