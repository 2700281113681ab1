package event_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
)

// TestIntegerFields: an integer field takes a JSON integer without fraction or exponent, within
// ±(2^53−1) and its own rule; both decoding paths agree on each.
func TestIntegerFields(t *testing.T) {
	const (
		amountForm  = "must be a whole number of minor units (an integer without fraction or exponent), got "
		amountRange = "must be a whole number of minor units from 1 to 9007199254740991"
		scoreForm   = "must be a whole number from 0 to 100 (an integer without fraction or exponent), got "
		scoreRange  = "must be between 0 and 100"
	)
	txn := `{"specversion":"1.0","id":"e1","source":"s","type":"transaction","time":"2026-11-10T23:00:00Z","subject":"acc-1","tenant":"t","data":{"transactionId":"4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c","accountId":"acc-1","customerId":"c","amount":%s,"currency":"EUR","direction":"debit","fraudScore":%s}}`
	check := `{"specversion":"1.0","id":"c1","source":"s","type":"account_check","time":"2026-11-10T23:00:00Z","subject":"acc-1","tenant":"t","data":{"accountId":"acc-1","check":"kyc","outcome":"pass","score":%s}}`
	alert := `{"specversion":"1.0","id":"a1","source":"s","type":"fraud_alert","time":"2026-11-10T23:00:00Z","subject":"acc-1","tenant":"t","data":{"accountId":"acc-1","score":%s,"reason":"r","severity":"low","recommendedAction":"monitor"}}`
	proto := `{"ID":"7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01","Source":"application","Client":"examplebank","Type":"check_account","Event":{"FraudScore":%s,"CustomerID":"1e2d3c4b-5a69-4788-9abc-def012345678","AccountID":"9f8e7d6c-5b4a-4392-8172-6a5b4c3d2e1f","Time":"2026-11-10T23:00:00Z"}}`
	cases := []struct {
		name    string
		raw     string
		field   string // "" when the record is accepted
		problem string
		value   int64 // the value decoded, when accepted
	}{
		{"amount", fmt.Sprintf(txn, "1250", "12"), "", "", 1250},
		{"amount 1", fmt.Sprintf(txn, "1", "12"), "", "", 1},
		{"amount 2^53-1", fmt.Sprintf(txn, "9007199254740991", "12"), "", "", 9007199254740991},
		{"amount 2^53", fmt.Sprintf(txn, "9007199254740992", "12"), "data.amount", amountRange, 0},
		{"amount 2^53+1", fmt.Sprintf(txn, "9007199254740993", "12"), "data.amount", amountRange, 0},
		{"amount int64 max", fmt.Sprintf(txn, "9223372036854775807", "12"), "data.amount", amountRange, 0},
		{"amount beyond int64", fmt.Sprintf(txn, "99999999999999999999", "12"), "data.amount", amountRange + ", got 99999999999999999999", 0},
		{"amount beyond int64, negative", fmt.Sprintf(txn, "-99999999999999999999", "12"), "data.amount", amountRange + ", got -99999999999999999999", 0},
		{"amount of 300 digits", fmt.Sprintf(txn, strings.Repeat("9", 300), "12"), "data.amount", amountRange + ", got " + strings.Repeat("9", 64) + "…", 0},
		{"amount -(2^53)", fmt.Sprintf(txn, "-9007199254740992", "12"), "data.amount", amountRange, 0},
		{"amount 0", fmt.Sprintf(txn, "0", "12"), "data.amount", amountRange, 0},
		{"amount -0", fmt.Sprintf(txn, "-0", "12"), "data.amount", amountRange, 0},
		{"amount -5", fmt.Sprintf(txn, "-5", "12"), "data.amount", amountRange, 0},
		{"amount 12.5", fmt.Sprintf(txn, "12.5", "12"), "data.amount", amountForm + "12.5", 0},
		{"amount 12.0", fmt.Sprintf(txn, "12.0", "12"), "data.amount", amountForm + "12.0", 0},
		{"amount 1e3", fmt.Sprintf(txn, "1e3", "12"), "data.amount", amountForm + "1e3", 0},
		{"amount 1E+3", fmt.Sprintf(txn, "1E+3", "12"), "data.amount", amountForm + "1E+3", 0},
		{"amount 1250e0", fmt.Sprintf(txn, "1250e0", "12"), "data.amount", amountForm + "1250e0", 0},
		{"amount -0.0", fmt.Sprintf(txn, "-0.0", "12"), "data.amount", amountForm + "-0.0", 0},
		{"amount 1e400", fmt.Sprintf(txn, "1e400", "12"), "data.amount", amountForm + "1e400", 0},
		{"amount as a string", fmt.Sprintf(txn, `"1250"`, "12"), "data.amount", amountForm + "a string", 0},
		{"amount true", fmt.Sprintf(txn, "true", "12"), "data.amount", amountForm + "true or false", 0},
		{"amount an object", fmt.Sprintf(txn, "{}", "12"), "data.amount", amountForm + "an object", 0},
		{"amount with a fraction of 300 digits", fmt.Sprintf(txn, "1."+strings.Repeat("5", 300), "12"), "data.amount", amountForm + "1." + strings.Repeat("5", 62) + "…", 0},

		{"fraudScore -0", fmt.Sprintf(txn, "1250", "-0"), "", "", 1250},
		{"fraudScore 100", fmt.Sprintf(txn, "1250", "100"), "", "", 1250},
		{"fraudScore 101", fmt.Sprintf(txn, "1250", "101"), "data.fraudScore", scoreRange, 0},
		{"fraudScore 2^53", fmt.Sprintf(txn, "1250", "9007199254740992"), "data.fraudScore", scoreRange, 0},
		{"fraudScore 12.0", fmt.Sprintf(txn, "1250", "12.0"), "data.fraudScore", scoreForm + "12.0", 0},
		{"fraudScore 1e1", fmt.Sprintf(txn, "1250", "1e1"), "data.fraudScore", scoreForm + "1e1", 0},
		{"fraudScore beyond int64", fmt.Sprintf(txn, "1250", "99999999999999999999"), "data.fraudScore", "must be a whole number from 0 to 100, got 99999999999999999999", 0},

		{"check score -0", fmt.Sprintf(check, "-0"), "", "", 0},
		{"check score 0.5", fmt.Sprintf(check, "0.5"), "data.score", scoreForm + "0.5", 0},
		{"check score -1", fmt.Sprintf(check, "-1"), "data.score", scoreRange, 0},
		{"alert score 93", fmt.Sprintf(alert, "93"), "", "", 0},
		{"alert score 93.0", fmt.Sprintf(alert, "93.0"), "data.score", scoreForm + "93.0", 0},
		{"alert score 9.3e1", fmt.Sprintf(alert, "9.3e1"), "data.score", scoreForm + "9.3e1", 0},

		{"prototype FraudScore 20", fmt.Sprintf(proto, "20"), "", "", 0},
		{"prototype FraudScore -0", fmt.Sprintf(proto, "-0"), "", "", 0},
		{"prototype FraudScore 20.0", fmt.Sprintf(proto, "20.0"), "Event.FraudScore", scoreForm + "20.0", 0},
		{"prototype FraudScore 2e1", fmt.Sprintf(proto, "2e1"), "Event.FraudScore", scoreForm + "2e1", 0},
		{"prototype FraudScore 2^53", fmt.Sprintf(proto, "9007199254740992"), "Event.FraudScore", scoreRange, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte(c.raw)
			e, err := event.Decode(raw)
			sameAsJSON(t, raw)
			if c.field == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if tx, ok := e.Data.(*event.Transaction); ok && *tx.Amount != c.value {
					t.Errorf("amount %d, want %d", *tx.Amount, c.value)
				}
				return
			}
			var r *event.RejectError
			if !errors.As(err, &r) || r.Code != event.CodeInvalid || len(r.Fields) != 1 {
				t.Fatalf("Decode: got %v, want one invalid field", err)
			}
			if f := r.Fields[0]; f.Field != c.field || f.Problem != c.problem {
				t.Errorf("got  %s %s\nwant %s %s", f.Field, f.Problem, c.field, c.problem)
			}
		})
	}
}

// TestMinusZeroIsZero: -0 decodes to the event 0 decodes to, on both paths.
func TestMinusZeroIsZero(t *testing.T) {
	raw := `{"specversion":"1.0","id":"c1","source":"s","type":"account_check","time":"2026-11-10T23:00:00Z","subject":"acc-1","tenant":"t","data":{"accountId":"acc-1","check":"kyc","outcome":"pass","score":%s}}`
	zero, err := event.Decode([]byte(fmt.Sprintf(raw, "0")))
	if err != nil {
		t.Fatal(err)
	}
	for _, decode := range []func([]byte) (*event.Event, error){event.Decode, event.DecodeJSON} {
		minus, err := decode([]byte(fmt.Sprintf(raw, "-0")))
		if err != nil {
			t.Fatal(err)
		}
		if minus.Fingerprint() != zero.Fingerprint() || *minus.Data.(*event.AccountCheck).Score != 0 {
			t.Errorf("-0 decoded to %+v", minus.Data)
		}
	}
}

// TestValidateRefusesUnsafeAmounts: a producer building an event in Go is told the same as a
// record on the stream.
func TestValidateRefusesUnsafeAmounts(t *testing.T) {
	for amount, ok := range map[int64]bool{1: true, event.MaxSafeInteger: true, event.MaxSafeInteger + 1: false, 1 << 62: false, 0: false} {
		e := &event.Event{SpecVersion: "1.0", ID: "e", Source: "s", Type: event.TypeTransaction, Subject: "acc-1", Tenant: "t",
			Time: mustTime(t, "2026-11-10T23:00:00Z"),
			Data: &event.Transaction{TransactionID: "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c", AccountID: "acc-1", CustomerID: "c", Amount: &amount, Currency: "EUR", Direction: "debit"}}
		if err := e.Validate(); (err == nil) != ok {
			t.Errorf("amount %d: Validate = %v", amount, err)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
