package event_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
)

const prototypeRecord = `{
  "ID": "7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01",
  "Source": "application",
  "Client": "examplebank",
  "Type": %q,
  "Event": {
    "TransactionID": "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c",
    "FraudScore": %d,
    "CustomerID": "1e2d3c4b-5a69-4788-9abc-def012345678",
    "AccountID": "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f",
    "Time": "2026-11-10T23:00:00Z"
  }
}`

func prototype(typ string, score int) []byte {
	return []byte(fmt.Sprintf(prototypeRecord, typ, score))
}

func TestPrototypeShapeIsAccepted(t *testing.T) {
	cases := []struct {
		typ   string
		score int
		want  event.Type
		check func(t *testing.T, e *event.Event)
	}{
		{"transaction", 20, event.TypeTransaction, func(t *testing.T, e *event.Event) {
			if p := e.Data.(*event.Transaction); *p.FraudScore != 20 || p.Amount != nil {
				t.Errorf("transaction %+v", p)
			}
		}},
		{"fraud_detection", 95, event.TypeFraudAlert, func(t *testing.T, e *event.Event) {
			if p := e.Data.(*event.FraudAlert); p.Severity != event.SeverityCritical || p.RecommendedAction != event.RecommendFreeze {
				t.Errorf("alert %+v", p)
			}
		}},
		{"fraud_detection", 45, event.TypeFraudAlert, func(t *testing.T, e *event.Event) {
			if p := e.Data.(*event.FraudAlert); p.Severity != event.SeverityMedium || p.RecommendedAction != event.RecommendMonitor {
				t.Errorf("alert %+v", p)
			}
		}},
		{"check_account", 75, event.TypeAccountCheck, func(t *testing.T, e *event.Event) {
			if p := e.Data.(*event.AccountCheck); p.Outcome != event.OutcomeFail || p.Check != event.CheckFraudScreen {
				t.Errorf("check %+v", p)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			e, err := event.Decode(prototype(c.typ, c.score))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if e.Type != c.want || e.Tenant != "examplebank" || e.Subject != "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f" || e.Time.IsZero() {
				t.Errorf("envelope %+v", e)
			}
			c.check(t, e)
		})
	}
}

func TestPrototypeReasonsNameItsFields(t *testing.T) {
	raw := strings.Replace(string(prototype("transaction", 20)), `"2026-11-10T23:00:00Z"`, `"last tuesday"`, 1)
	raw = strings.Replace(raw, `"Client": "examplebank",`, ``, 1)
	_, err := event.Decode([]byte(raw))
	var r *event.RejectError
	if !errors.As(err, &r) {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"Event.Time", "Client"} {
		if !strings.Contains(err.Error(), want+" ") {
			t.Errorf("reason %q does not name %s", err, want)
		}
	}
	_, err = event.Decode(prototype("loan", 1))
	if !errors.As(err, &r) || r.Code != event.CodeUnknownType {
		t.Errorf("unknown prototype type: %v", err)
	}
}

// TestPrototypeIDsAreUUIDs: the prototype's ID, TransactionID, CustomerID and AccountID were
// UUIDs, and a record in its shape is held to that, with reasons in its own names.
func TestPrototypeIDsAreUUIDs(t *testing.T) {
	const (
		mustUUID     = "must be a UUID, as the prototype's ids are: lower-case hex digits in groups of 8-4-4-4-12, such as 7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01"
		requiredUUID = "is required: a UUID, as the prototype's ids are: lower-case hex digits in groups of 8-4-4-4-12, such as 7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01"
	)
	cases := []struct {
		name   string
		typ    string
		old    string // replaced in the record by new
		new    string
		fields []event.FieldError // nil: accepted
	}{
		{"all UUIDs", "transaction", "", "", nil},
		{"ID not a UUID", "transaction", `"ID": "7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01"`, `"ID": "evt-1"`,
			[]event.FieldError{{Field: "ID", Problem: mustUUID}}},
		{"ID in upper case", "check_account", `"ID": "7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01"`, `"ID": "7C1F6A52-0D55-4C8E-9A51-2F0C1B7A9E01"`,
			[]event.FieldError{{Field: "ID", Problem: mustUUID}}},
		{"ID not printable is one complaint", "transaction", `"ID": "7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01"`, `"ID": "evt 1"`,
			[]event.FieldError{{Field: "ID", Problem: mustUUID}}},
		{"no ID", "transaction", `"ID": "7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01",`, ``,
			[]event.FieldError{{Field: "ID", Problem: requiredUUID}}},
		{"TransactionID of a transaction", "transaction", `"TransactionID": "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c"`, `"TransactionID": "42"`,
			[]event.FieldError{{Field: "Event.TransactionID", Problem: mustUUID}}},
		{"TransactionID of a check", "check_account", `"TransactionID": "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c"`, `"TransactionID": "42"`,
			[]event.FieldError{{Field: "Event.TransactionID", Problem: mustUUID}}},
		{"no TransactionID of a fraud detection", "fraud_detection", `"TransactionID": "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c",`, ``, nil},
		{"no TransactionID of a transaction", "transaction", `"TransactionID": "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c",`, ``,
			[]event.FieldError{{Field: "Event.TransactionID", Problem: requiredUUID}}},
		{"CustomerID", "fraud_detection", `"CustomerID": "1e2d3c4b-5a69-4788-9abc-def012345678"`, `"CustomerID": "cus-1"`,
			[]event.FieldError{{Field: "Event.CustomerID", Problem: mustUUID}}},
		{"AccountID", "check_account", `"AccountID": "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f"`, `"AccountID": "acc-1"`,
			[]event.FieldError{{Field: "Event.AccountID", Problem: mustUUID}}},
		{"no AccountID", "fraud_detection", `"AccountID": "9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f",`, ``,
			[]event.FieldError{{Field: "Event.AccountID", Problem: requiredUUID}}},
		{"every id at once", "transaction", `"ID": "7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01"`, `"ID": "p1"`,
			nil}, // completed below
	}
	cases[len(cases)-1].fields = []event.FieldError{
		{Field: "Event.AccountID", Problem: mustUUID}, {Field: "Event.CustomerID", Problem: mustUUID},
		{Field: "Event.TransactionID", Problem: mustUUID}, {Field: "ID", Problem: mustUUID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := string(prototype(c.typ, 50))
			if c.name == "every id at once" {
				for _, r := range [][2]string{{"4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c", "t-1"}, {"1e2d3c4b-5a69-4788-9abc-def012345678", "cus-1"}, {"9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f", "acc-1"}} {
					raw = strings.Replace(raw, r[0], r[1], 1)
				}
			}
			if c.old != "" {
				if !strings.Contains(raw, c.old) {
					t.Fatalf("the record has no %s", c.old)
				}
				raw = strings.Replace(raw, c.old, c.new, 1)
			}
			_, err := event.Decode([]byte(raw))
			if c.fields == nil {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			var r *event.RejectError
			if !errors.As(err, &r) || r.Code != event.CodeInvalid {
				t.Fatalf("Decode: got %v, want code invalid", err)
			}
			if got, want := fieldsString(r.Fields), fieldsString(c.fields); got != want {
				t.Errorf("fields\n got %s\nwant %s", got, want)
			}
		})
	}
}
