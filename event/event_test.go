package event_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
)

// valid returns a valid envelope of type t as a map, for tests to break one field at a time.
func valid(t event.Type) map[string]any {
	data := map[event.Type]map[string]any{
		event.TypeTransaction: {
			"transactionId": "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c", "accountId": "acc-1", "customerId": "cus-1",
			"amount": 1250, "currency": "EUR", "direction": "debit", "channel": "card",
			"merchant": map[string]any{"name": "Corner Shop", "mcc": "5411", "country": "IE"}, "fraudScore": 0,
		},
		event.TypeFraudAlert: {
			"accountId": "acc-1", "score": 93, "reason": "card used in two countries within 5 minutes",
			"severity": "critical", "recommendedAction": "freeze",
		},
		event.TypeAccountStatus: {
			"accountId": "acc-1", "action": "freeze", "blockedActions": []any{"debit", "card"}, "reason": "customer reported card stolen",
		},
		event.TypeAccountCheck: {
			"accountId": "acc-1", "check": "kyc", "outcome": "pass", "score": 12,
		},
	}[t]
	return map[string]any{
		"specversion": "1.0", "id": "evt-1", "source": "urn:bank:authorizer", "type": string(t),
		"time": "2026-11-10T23:00:00Z", "subject": "acc-1", "datacontenttype": "application/json",
		"tenant": "examplebank", "data": data,
	}
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// set changes the value at a dotted path ("data.amount"); nil removes it.
func set(m map[string]any, path string, v any) map[string]any {
	parts := strings.Split(path, ".")
	cur := m
	for _, p := range parts[:len(parts)-1] {
		cur = cur[p].(map[string]any)
	}
	if v == nil {
		delete(cur, parts[len(parts)-1])
	} else {
		cur[parts[len(parts)-1]] = v
	}
	return m
}

func TestDecodeValid(t *testing.T) {
	for _, typ := range event.Types {
		t.Run(string(typ), func(t *testing.T) {
			e, err := event.Decode(encode(t, valid(typ)))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if e.Type != typ || e.Data.Account() != "acc-1" || e.Tenant != "examplebank" {
				t.Errorf("decoded %+v", e)
			}
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	cases := []struct {
		name  string
		typ   event.Type
		path  string
		value any
		field string // the field the reason must name
	}{
		{"no id", event.TypeTransaction, "id", nil, "id"},
		{"bad specversion", event.TypeTransaction, "specversion", "0.3", "specversion"},
		{"no source", event.TypeTransaction, "source", "", "source"},
		{"bad time", event.TypeTransaction, "time", "yesterday", "time"},
		{"no time", event.TypeTransaction, "time", nil, "time"},
		{"subject not account", event.TypeTransaction, "subject", "acc-2", "subject"},
		{"no tenant", event.TypeTransaction, "tenant", nil, "tenant"},
		{"bad tenant", event.TypeTransaction, "tenant", "Example Bank", "tenant"},
		{"xml content", event.TypeTransaction, "datacontenttype", "application/xml", "datacontenttype"},
		{"no data", event.TypeTransaction, "data", nil, "data"},
		{"data not object", event.TypeTransaction, "data", "hello", "data"},
		{"txn id not uuid", event.TypeTransaction, "data.transactionId", "42", "data.transactionId"},
		{"txn no account", event.TypeTransaction, "data.accountId", nil, "data.accountId"},
		{"txn no customer", event.TypeTransaction, "data.customerId", nil, "data.customerId"},
		{"txn zero amount", event.TypeTransaction, "data.amount", 0, "data.amount"},
		{"txn negative amount", event.TypeTransaction, "data.amount", -5, "data.amount"},
		{"txn fractional amount", event.TypeTransaction, "data.amount", 12.5, "data.amount"},
		{"txn amount as string", event.TypeTransaction, "data.amount", "12", "data.amount"},
		{"txn no amount with currency", event.TypeTransaction, "data.amount", nil, "data.amount"},
		{"txn bad currency", event.TypeTransaction, "data.currency", "EURO", "data.currency"},
		{"txn no currency", event.TypeTransaction, "data.currency", nil, "data.currency"},
		{"txn bad direction", event.TypeTransaction, "data.direction", "sideways", "data.direction"},
		{"txn bad channel", event.TypeTransaction, "data.channel", "pigeon", "data.channel"},
		{"txn score over 100", event.TypeTransaction, "data.fraudScore", 101, "data.fraudScore"},
		{"txn score negative", event.TypeTransaction, "data.fraudScore", -1, "data.fraudScore"},
		{"txn bad mcc", event.TypeTransaction, "data.merchant.mcc", "54", "data.merchant.mcc"},
		{"txn merchant no name", event.TypeTransaction, "data.merchant.name", nil, "data.merchant.name"},
		{"txn misspelt field", event.TypeTransaction, "data.amout", 5, "data.amout"},
		{"alert no reason", event.TypeFraudAlert, "data.reason", nil, "data.reason"},
		{"alert bad severity", event.TypeFraudAlert, "data.severity", "urgent", "data.severity"},
		{"alert bad action", event.TypeFraudAlert, "data.recommendedAction", "close", "data.recommendedAction"},
		{"alert score 200", event.TypeFraudAlert, "data.score", 200, "data.score"},
		{"status bad action", event.TypeAccountStatus, "data.action", "close", "data.action"},
		{"status bad blocked action", event.TypeAccountStatus, "data.blockedActions", []any{"debit", "teleport"}, "data.blockedActions[1]"},
		{"status no reason", event.TypeAccountStatus, "data.reason", nil, "data.reason"},
		{"status bad effectiveAt", event.TypeAccountStatus, "data.effectiveAt", "soon", "data.effectiveAt"},
		{"status level with freeze", event.TypeAccountStatus, "data.monitoringLevel", "high", "data.monitoringLevel"},
		{"check bad outcome", event.TypeAccountCheck, "data.outcome", "maybe", "data.outcome"},
		{"check no check", event.TypeAccountCheck, "data.check", nil, "data.check"},
		{"check bad account", event.TypeAccountCheck, "data.accountId", "has space", "data.accountId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.Decode(encode(t, set(valid(c.typ), c.path, c.value)))
			var r *event.RejectError
			if !errors.As(err, &r) {
				t.Fatalf("Decode: got %v, want a *RejectError", err)
			}
			if r.Code != event.CodeInvalid {
				t.Errorf("code %q, want %q (%v)", r.Code, event.CodeInvalid, err)
			}
			named := false
			for _, f := range r.Fields {
				named = named || f.Field == c.field
			}
			if !named {
				t.Errorf("reason %q does not name %s", err, c.field)
			}
			if !event.IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = false", err)
			}
		})
	}
}

func TestDecodeNamesEveryFieldAtOnce(t *testing.T) {
	m := valid(event.TypeTransaction)
	set(m, "time", "noon")
	set(m, "data.currency", "XXX1")
	set(m, "tenant", nil)
	_, err := event.Decode(encode(t, m))
	for _, want := range []string{"time", "data.currency", "tenant"} {
		if !strings.Contains(err.Error(), want+" ") {
			t.Errorf("reason %q does not name %s", err, want)
		}
	}
}

func TestDecodeRejectCodes(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		code string
	}{
		{"not json", `{"id": `, event.CodeNotJSON},
		{"array", `[1,2]`, event.CodeNotJSON},
		{"plain text", `hello`, event.CodeNotJSON},
		{"unknown type", string(encode(t, set(valid(event.TypeTransaction), "type", "loan"))), event.CodeUnknownType},
		{"oversize", `{"pad":"` + strings.Repeat("x", event.MaxRecordBytes) + `"}`, event.CodeOversize},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.Decode([]byte(c.raw))
			var r *event.RejectError
			if !errors.As(err, &r) || r.Code != c.code {
				t.Fatalf("Decode: got %v, want code %s", err, c.code)
			}
		})
	}
}

func TestFingerprintIgnoresFormattingAndZone(t *testing.T) {
	a := valid(event.TypeFraudAlert)
	b := valid(event.TypeFraudAlert)
	set(b, "time", "2026-11-11T00:00:00+01:00")
	ea, err := event.Decode(encode(t, a))
	if err != nil {
		t.Fatal(err)
	}
	raw := encode(t, b)
	eb, err := event.Decode(append([]byte("  \n"), raw...))
	if err != nil {
		t.Fatal(err)
	}
	if ea.Fingerprint() != eb.Fingerprint() {
		t.Error("same content, different fingerprints")
	}
	set(b, "data.score", 94)
	ec, _ := event.Decode(encode(t, b))
	if ec.Fingerprint() == ea.Fingerprint() {
		t.Error("different content, same fingerprint")
	}
}

func TestFingerprintIgnoresEffectiveAtZone(t *testing.T) {
	a := set(valid(event.TypeAccountStatus), "data.effectiveAt", "2026-11-11T09:55:00Z")
	b := set(valid(event.TypeAccountStatus), "data.effectiveAt", "2026-11-11T10:55:00+01:00")
	ea, err := event.Decode(encode(t, a))
	if err != nil {
		t.Fatal(err)
	}
	eb, err := event.Decode(encode(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if ea.Fingerprint() != eb.Fingerprint() {
		t.Error("the same effectiveAt in another zone changed the fingerprint")
	}
}
