package store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// TestQuarantineOversizeRecord: a record as large as Kinesis allows (1 MiB) cannot be a DynamoDB
// item; quarantine keeps its first bytes, its length and its hash, and the records quarantined
// with it are kept whole.
func TestQuarantineOversizeRecord(t *testing.T) {
	s, _ := newStore(t, nil)
	at := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	huge := bytes.Repeat([]byte("{\"pad\":\"x\"}"), (1<<20)/11)
	small := []byte(`{"not": "an event"}`)
	errs := s.Quarantine(t.Context(), []routing.Quarantined{
		{Record: routing.Record{Data: huge, ShardID: "shardId-000000000000", SequenceNumber: "1", ArrivalTime: at}, Code: event.CodeOversize, Reason: "oversize: too big"},
		{Record: routing.Record{Data: small, ShardID: "shardId-000000000000", SequenceNumber: "2", ArrivalTime: at}, Code: event.CodeUnknownType, Reason: "unknown_type"},
	})
	if errs != nil {
		t.Fatalf("quarantine a %d-byte record: %v", len(huge), errs)
	}
	recs, err := s.QuarantinedBetween(t.Context(), at, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records quarantined, want 2", len(recs))
	}
	sum := sha256.Sum256(huge)
	big, whole := recs[0], recs[1]
	if !big.RawTruncated || big.RawBytes != len(huge) || big.RawSHA256 != hex.EncodeToString(sum[:]) || !bytes.Equal(big.Raw, huge[:store.KeptOversizeBytes]) {
		t.Errorf("oversize record kept as truncated=%v bytes=%d sha=%s raw of %d bytes", big.RawTruncated, big.RawBytes, big.RawSHA256, len(big.Raw))
	}
	if whole.RawTruncated || !bytes.Equal(whole.Raw, small) {
		t.Errorf("small record kept as truncated=%v raw %q", whole.RawTruncated, whole.Raw)
	}
}
