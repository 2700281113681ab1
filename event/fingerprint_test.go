package event_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
)

// marshalFingerprint is the fingerprint's definition: SHA-256 of json.Marshal of the event.
func marshalFingerprint(e *event.Event) string {
	b, _ := json.Marshal(e)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestFingerprintIsHashOfJSON(t *testing.T) {
	var events []*event.Event
	for _, r := range eventgen.Generate(eventgen.Options{Events: 2000, InvalidShare: -1, Seed: 4}) {
		e, err := event.Decode(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	for _, s := range fastSamples {
		if e, err := event.Decode([]byte(s)); err == nil {
			events = append(events, e)
		}
	}
	// Strings the writer leaves to json.Marshal, and every optional field.
	at := time.Date(2026, 11, 10, 23, 30, 0, 5, time.FixedZone("", 3600))
	amount, score := int64(-7), -3
	events = append(events,
		&event.Event{SpecVersion: "1.0", ID: "a<b>&\"\\", Source: "s\u2028", Type: event.TypeTransaction, Tenant: "t\x01", Subject: "é",
			Data: &event.Transaction{TransactionID: "x", Amount: &amount, FraudScore: &score, Merchant: &event.Merchant{Name: "n", Terminal: "t"}}},
		&event.Event{Type: event.TypeAccountStatus, Data: &event.AccountStatus{BlockedActions: []string{"a", "b"}, EffectiveAt: &at, MonitoringLevel: "low"}},
		&event.Event{Type: event.TypeAccountStatus, Data: &event.AccountStatus{BlockedActions: []string{}}},
		&event.Event{Type: event.TypeAccountCheck, Data: &event.AccountCheck{Score: &score, Details: "d", CustomerID: "c"}},
		&event.Event{Type: event.TypeFraudAlert, Time: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), Data: &event.FraudAlert{CustomerID: "c", TransactionID: "t"}},
		&event.Event{Type: "other"},
	)
	for _, e := range events {
		if got, want := e.Fingerprint(), marshalFingerprint(e); got != want {
			b, _ := json.Marshal(e)
			t.Errorf("Fingerprint %s, want %s, the hash of %s", got, want, b)
		}
	}
}
