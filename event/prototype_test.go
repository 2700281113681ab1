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
