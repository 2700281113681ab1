package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// ceilingTable is the scratch table the ceiling is measured on.
const ceilingTable = "bench-ceiling"

// Ceiling measures how many event items per second the DynamoDB emulator takes through the
// store's own write path — conditional TransactWriteItems of 100 puts, with as many writers at
// once as one store.Put uses — for the same item shape the pipeline writes (generated
// transactions). The emulator's JVM is warmed up first for a fifth of d (at least a second), so
// a cold start does not lower the ceiling and flatter the ratio.
func Ceiling(ctx context.Context, st *devstack.Stack, d time.Duration) (float64, error) {
	if _, err := CeilingWith(ctx, st, max(d/5, time.Second), store.MaxConcurrentAccounts); err != nil {
		return 0, fmt.Errorf("warm up: %w", err)
	}
	return CeilingWith(ctx, st, d, store.MaxConcurrentAccounts)
}

// CeilingWith is Ceiling with several writers at once, each on its own items.
func CeilingWith(ctx context.Context, st *devstack.Stack, d time.Duration, writers int) (float64, error) {
	in := store.Schema(ceilingTable)
	if _, err := st.DynamoDB.CreateTable(ctx, in); err != nil {
		return 0, fmt.Errorf("create %s: %w", ceilingTable, err)
	}
	defer st.DynamoDB.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(ceilingTable)})
	s := store.New(st.DynamoDB, ceilingTable)
	var writes []typefn.Write
	for _, r := range eventgen.Generate(eventgen.Options{Events: 40000, Seed: 99, InvalidShare: -1, DuplicateShare: -1}) {
		e, err := event.Decode(r.Data)
		if err != nil || e.Type != event.TypeTransaction {
			continue
		}
		writes = append(writes, typefn.Write{Event: e, Fingerprint: e.Fingerprint()})
	}
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	n := 0
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 100; i+100 <= len(writes) && time.Since(start) < d; i += 100 * writers {
				for _, res := range s.Put(ctx, writes[i:i+100]) {
					if res.Outcome == typefn.OutcomeFailed {
						mu.Lock()
						firstErr = res.Err
						mu.Unlock()
						return
					}
				}
				mu.Lock()
				n += 100
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
