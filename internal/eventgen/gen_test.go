package eventgen_test

import (
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
)

func TestGenerateMix(t *testing.T) {
	recs := eventgen.Generate(eventgen.Options{Events: 2000, Seed: 7})
	if len(recs) != 2000 {
		t.Fatalf("%d records, want 2000", len(recs))
	}
	ex := eventgen.Expect(recs)
	if got := len(ex.Stored) + ex.Duplicates + ex.QuarantinedTotal(); got != len(recs) {
		t.Errorf("stored %d + duplicates %d + quarantined %d = %d, want %d", len(ex.Stored), ex.Duplicates, ex.QuarantinedTotal(), got, len(recs))
	}
	types := map[event.Type]int{}
	for _, e := range ex.Stored {
		types[e.Type]++
	}
	for _, typ := range event.Types {
		if types[typ] == 0 {
			t.Errorf("no %s events in the mix: %v", typ, types)
		}
	}
	for _, code := range []string{event.CodeNotJSON, event.CodeInvalid, event.CodeUnknownType, event.CodeOversize, event.CodeConflict} {
		if ex.Quarantined[code] == 0 {
			t.Errorf("no %s records in the mix: %v", code, ex.Quarantined)
		}
	}
	if ex.Duplicates == 0 {
		t.Error("no duplicates in the mix")
	}
	again := eventgen.Generate(eventgen.Options{Events: 2000, Seed: 7})
	for i := range recs {
		if string(recs[i].Data) != string(again[i].Data) {
			t.Fatalf("record %d differs between two runs with one seed", i)
		}
	}
}
