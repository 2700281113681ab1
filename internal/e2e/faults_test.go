package e2e_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// faultyTargets are the DynamoDB operations of the functions that the fault test breaks: every
// read and write of events, account items, flags, the feed and quarantine, on the events table
// only. The event source mapping's own tables (checkpoints, OnFailure records) and Kinesis are
// left alone, and the test reads the table directly.
var faultyTargets = []string{
	"DynamoDB_20120810.PutItem", "DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.BatchWriteItem",
	"DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.Query", "DynamoDB_20120810.GetItem",
}

// TestStackUnderFaults runs a mixed stream through the local stack while a fifth of the
// functions' DynamoDB requests fail: half of those before DynamoDB sees them, half after it has
// applied them (the answer is lost, so the SDK and the pipeline retry what is already done), and
// some in bursts longer than the SDK's retries, so that the type functions, the router and the
// event source mapping retry too.
// Nothing may be lost and no retry may show: the table must hold exactly what the stream's rules
// say, with every account's state and every transaction's flag as if nothing had failed.
func TestStackUnderFaults(t *testing.T) {
	emu := emutest.Start(t)
	rng := rand.New(rand.NewPCG(7, 11))
	burst := map[string]int{} // target → requests still to fail in a row
	bursts := 0
	ep := edge(t, emu.KinesisEndpoint, emu.DynamoDBEndpoint, func(target, table string) fault {
		if !slices.Contains(faultyTargets, target) || table == devstack.CheckpointTable || table == devstack.FailureTable {
			return noFault
		}
		if burst[target] > 0 {
			burst[target]--
			return failBefore
		}
		switch r := rng.Float64(); {
		case r < 0.03: // longer than the SDK retries: the failure reaches the pipeline's own retries
			burst[target], bursts = 4, bursts+1
			return failBefore
		case r < 0.1:
			return failBefore
		case r < 0.2 && (strings.Contains(target, "Write") || strings.Contains(target, "Put") || strings.Contains(target, "Update")):
			return failAfter
		}
		return noFault
	})
	// Small batches: many invocations, many requests to break.
	st, ran := edgeStack(t, ep, map[string]string{"RouterBatchSize": "25"})
	// Tenants of this run only, so that other runs' freezes on the same account ids in the shared
	// table cannot change this run's flags.
	run := fmt.Sprintf("faults-%d", time.Now().UnixNano()%1e9)
	start := time.Now()
	want, ours := sendAndDrain(t, st, ran, eventgen.Options{Events: 1000, Accounts: 40, Tenants: []string{run + "-a", run + "-b"}}, 3*time.Minute)
	f := ep.faults()
	t.Logf("1,000 records through the stack in %s with %d requests failed before DynamoDB saw them (%d bursts of 5 in a row) and %d after it applied them",
		time.Since(start).Round(time.Millisecond), f[failBefore], bursts, f[failAfter])
	if f[failBefore] == 0 || f[failAfter] == 0 || bursts == 0 {
		t.Fatalf("faults injected: %v; the test needs both kinds", f)
	}
	stats := st.Stats()
	t.Logf("event source mapping: %d invocations, %d retried, %d bisections, %d records discarded", stats.Invocations, stats.Retries, stats.Bisections, stats.RecordsDiscarded)
	if stats.Retries == 0 {
		t.Errorf("no batch was retried: the faults never got past the SDK's and the functions' own retries")
	}
	if stats.RecordsDiscarded != 0 {
		t.Errorf("%d records discarded to OnFailure", stats.RecordsDiscarded)
	}

	s := store.New(emu.DynamoDB, *st.Resources.Tables[0].TableName) // not through the edge
	checkStored(t, s, want, ours)

	changed, flagged := checkStates(t, s, want)
	t.Logf("%d events stored, %d quarantined, %d accounts changed, %d transactions flagged", len(want.Stored), want.QuarantinedTotal(), changed, flagged)
}
