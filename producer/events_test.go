package producer_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/producer"
)

func ptr[T any](v T) *T { return &v }

var at = time.Date(2026, 11, 10, 23, 0, 0, 0, time.FixedZone("CET", 3600))

func TestConstructorsBuildValidEnvelopes(t *testing.T) {
	cases := []struct {
		typ   event.Type
		build func(opts ...producer.EventOption) (*event.Event, error)
	}{
		{event.TypeTransaction, func(opts ...producer.EventOption) (*event.Event, error) {
			return producer.Transaction("examplebank", "urn:bank:authorizer", at, event.Transaction{
				TransactionID: "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c", AccountID: "acc-1", CustomerID: "cus-1",
				Amount: ptr[int64](1250), Currency: "EUR", Direction: event.ActionDebit, Channel: event.ActionCard, FraudScore: ptr(12),
			}, opts...)
		}},
		{event.TypeFraudAlert, func(opts ...producer.EventOption) (*event.Event, error) {
			return producer.FraudAlert("examplebank", "urn:bank:fraud", at, event.FraudAlert{
				AccountID: "acc-1", Score: 93, Reason: "card testing", Severity: event.SeverityCritical, RecommendedAction: event.RecommendFreeze,
			}, opts...)
		}},
		{event.TypeAccountStatus, func(opts ...producer.EventOption) (*event.Event, error) {
			return producer.AccountStatus("examplebank", "urn:bank:core", at, event.AccountStatus{
				AccountID: "acc-1", Action: event.StatusFreeze, BlockedActions: []string{event.ActionDebit}, Reason: "fraud alert",
			}, opts...)
		}},
		{event.TypeAccountCheck, func(opts ...producer.EventOption) (*event.Event, error) {
			return producer.AccountCheck("examplebank", "urn:bank:kyc", at, event.AccountCheck{
				AccountID: "acc-1", Check: event.CheckSanctions, Outcome: event.OutcomeReview, Score: ptr(55),
			}, opts...)
		}},
	}
	for _, c := range cases {
		t.Run(string(c.typ), func(t *testing.T) {
			e, err := c.build()
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			if _, err := uuid.Parse(e.ID); err != nil {
				t.Errorf("id %q is not a UUID: %v", e.ID, err)
			}
			if e.Type != c.typ || e.Subject != "acc-1" || e.DataContentType != event.ContentTypeJSON ||
				e.SpecVersion != event.SpecVersion || e.Tenant != "examplebank" || !e.Time.Equal(at) || e.Time.Location() != time.UTC {
				t.Errorf("envelope %+v", e)
			}
			// The router decodes it into the same event.
			raw, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			back, err := event.Decode(raw)
			if err != nil {
				t.Fatalf("Decode(%s): %v", raw, err)
			}
			if back.Fingerprint() != e.Fingerprint() {
				t.Errorf("decoded %+v, built %+v", back, e)
			}
			again, _ := c.build()
			if again.ID == e.ID {
				t.Errorf("two events got one id %s", e.ID)
			}
			given, err := c.build(producer.WithID("evt-0001"))
			if err != nil || given.ID != "evt-0001" {
				t.Errorf("WithID: %+v, %v", given, err)
			}
		})
	}
}

func TestConstructorsRefuseInvalidEvents(t *testing.T) {
	cases := []struct {
		name   string
		build  func() (*event.Event, error)
		fields []string
	}{
		{"zero amount", func() (*event.Event, error) {
			return producer.Transaction("bank-a", "urn:s", at, event.Transaction{
				TransactionID: uuid.NewString(), AccountID: "acc-1", CustomerID: "cus-1", Amount: ptr[int64](0), Currency: "EUR", Direction: "debit",
			})
		}, []string{"data.amount"}},
		{"bad tenant and no source", func() (*event.Event, error) {
			return producer.AccountCheck("Bank A", "", at, event.AccountCheck{AccountID: "acc-1", Check: event.CheckKYC, Outcome: event.OutcomePass})
		}, []string{"source", "tenant"}},
		{"no time", func() (*event.Event, error) {
			return producer.AccountCheck("bank-a", "urn:s", time.Time{}, event.AccountCheck{AccountID: "acc-1", Check: event.CheckKYC, Outcome: event.OutcomePass})
		}, []string{"time"}},
		{"severity and action", func() (*event.Event, error) {
			return producer.FraudAlert("bank-a", "urn:s", at, event.FraudAlert{AccountID: "acc-1", Score: 10, Reason: "r", Severity: "extreme", RecommendedAction: "close"})
		}, []string{"data.recommendedAction", "data.severity"}},
		{"blocked actions on unfreeze", func() (*event.Event, error) {
			return producer.AccountStatus("bank-a", "urn:s", at, event.AccountStatus{AccountID: "acc-1", Action: event.StatusUnfreeze, BlockedActions: []string{"debit"}, Reason: "r"})
		}, []string{"data.blockedActions"}},
		{"no account", func() (*event.Event, error) {
			return producer.AccountCheck("bank-a", "urn:s", at, event.AccountCheck{Check: event.CheckKYC, Outcome: event.OutcomePass})
		}, []string{"data.accountId", "subject"}},
		{"bad id", func() (*event.Event, error) {
			return producer.AccountCheck("bank-a", "urn:s", at, event.AccountCheck{AccountID: "acc-1", Check: event.CheckKYC, Outcome: event.OutcomePass}, producer.WithID("has space"))
		}, []string{"id"}},
		{"nil payload", func() (*event.Event, error) {
			return producer.Envelope("bank-a", "urn:s", at, (*event.Transaction)(nil))
		}, []string{"data"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := c.build()
			var rej *event.RejectError
			if !errors.As(err, &rej) || e != nil {
				t.Fatalf("got %+v, %v; want a RejectError", e, err)
			}
			var fields []string
			for _, f := range rej.Fields {
				fields = append(fields, f.Field)
			}
			if fmt.Sprint(fields) != fmt.Sprint(c.fields) || rej.Code != event.CodeInvalid {
				t.Errorf("%s: fields %v, want %v", rej, fields, c.fields)
			}
		})
	}
}

// otherPayload is a payload the pipeline does not know.
type otherPayload struct{}

func (otherPayload) Account() string { return "acc-1" }
func (otherPayload) Validate() error { return nil }

func TestEnvelopeRefusesUnknownPayload(t *testing.T) {
	_, err := producer.Envelope("bank-a", "urn:s", at, otherPayload{})
	var rej *event.RejectError
	if !errors.As(err, &rej) || rej.Code != event.CodeUnknownType || !strings.Contains(err.Error(), "otherPayload") {
		t.Errorf("Envelope error = %v, want unknown_type naming the payload type", err)
	}
}
