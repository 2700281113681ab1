package demo_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/demo"
	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestDemo runs the demo on a fresh in-memory stack, as `eventctl demo` does, and checks its
// summary: every count as the stream demands, every type present, and account effects visible.
func TestDemo(t *testing.T) {
	if os.Getenv("GEP_SKIP_EMULATORS") == "1" {
		t.Skip("GEP_SKIP_EMULATORS=1")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	_, keys, err := devstack.LocalAPIKeys(repoRoot())
	if err != nil {
		t.Fatal(err)
	}
	st, err := devstack.Start(ctx, devstack.Options{Root: repoRoot(), Mappings: true, LogDir: t.TempDir(), APIKeys: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Stop() })
	runCtx, stopRun := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- st.Run(runCtx) }()
	sum, err := demo.Run(ctx, st, demo.Options{SamplesDir: filepath.Join(repoRoot(), "events"), Generate: eventgen.Options{Events: 400, Seed: 3}, APIKeys: keys})
	stopRun()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if err := sum.Check(); err != nil {
		t.Fatalf("summary check: %v\n%+v", err, sum)
	}
	for _, typ := range event.Types {
		if sum.Persisted[typ] == 0 {
			t.Errorf("no %s persisted", typ)
		}
	}
	if len(sum.WantConsumed) != 3 {
		t.Errorf("consumers read %d tenants' feeds, want bank-a's, bank-b's and examplebank's: %v", len(sum.WantConsumed), sum.Consumed)
	}
	if len(sum.Accounts) == 0 || sum.Quarantined[event.CodeInvalid] == 0 || sum.Duplicates == 0 {
		t.Errorf("summary lacks account changes, invalid records or duplicates: %+v", sum)
	}
	t.Logf("demo: %d records in %s (%.0f/s), %d invocations, %d DynamoDB requests", sum.Sent, sum.Elapsed, sum.EventsPerSecond, sum.Invocations, sum.DynamoDBRequests)
}
