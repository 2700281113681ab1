package event_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
)

// TestReasonsOfTheJSONPath: the reasons of what encoding/json refuses name the field in the
// record's own names and say what is allowed.
func TestReasonsOfTheJSONPath(t *testing.T) {
	status := `{"specversion":"1.0","id":"s1","source":"s","type":"account_status","time":"2026-11-10T23:00:00Z","subject":"acc-1","tenant":"t","data":{"accountId":"acc-1","action":"freeze","reason":"r",%s}}`
	cases := []struct {
		name string
		raw  string
		want string // the whole reason
	}{
		{"effectiveAt not RFC 3339", fmt.Sprintf(status, `"effectiveAt":"soon"`),
			`invalid: data.effectiveAt must be an RFC 3339 time such as 2026-11-10T23:00:00Z, got "soon"`},
		{"effectiveAt a number", fmt.Sprintf(status, `"effectiveAt":5`),
			`invalid: data.effectiveAt must be an RFC 3339 time string such as 2026-11-10T23:00:00Z`},
		{"blockedActions a string", fmt.Sprintf(status, `"blockedActions":"debit"`),
			`invalid: data.blockedActions must be an array of strings, got a string`},
		{"blockedActions holding a number", fmt.Sprintf(status, `"blockedActions":["debit",1]`),
			`invalid: data.blockedActions must be an array of strings, got an array holding a number`},
		{"reason a number", fmt.Sprintf(status, `"monitoringLevel":5`),
			`invalid: data.monitoringLevel must be a string, got a number`},
		{"data a string", strings.Replace(fmt.Sprintf(status, `"x":1`), `{"accountId":"acc-1","action":"freeze","reason":"r","x":1}`, `"freeze"`, 1),
			`invalid: data must be a JSON object, got a string`},
		{"unknown fields, nested too", record(t, `"channel":"card"`, `"chanel":"card"`, `"mcc":"5411"`, `"mcc":"5411","colour":"red"`),
			`invalid: data.chanel is not a known field; the fields here are transactionId, accountId, customerId, amount, currency, direction, channel, merchant, fraudScore; ` +
				`data.merchant.colour is not a known field; the fields here are name, mcc, country, terminal`},
		{"a name in another case is the record's", record(t, `"data":{`, `"Data":{`, `"customerId":"cus-1"`, `"CustomerID":"has space"`),
			`invalid: Data.CustomerID must be 1 to 64 letters, digits or _.:- starting with a letter or digit`},
		{"id not a string", record(t, `"id":"evt-1"`, `"id":1`), `invalid: id must be a string, got a number`},
		{"the record an array", `[1,2]`, `not_json: the record must be a JSON object, got an array`},
		{"the record null", `null`, `not_json: the record must be a JSON object, got null`},
		{"missing type", record(t, `"type":"transaction",`, ``), `invalid: type is required: one of account_status, fraud_alert, account_check or transaction`},
		{"unknown type", record(t, `"type":"transaction"`, `"type":"loan"`),
			`unknown_type: type "loan" is not one the pipeline accepts: type must be account_status, fraud_alert, account_check or transaction`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.Decode([]byte(c.raw))
			if err == nil || err.Error() != c.want {
				t.Errorf("reason\n got %v\nwant %s", err, c.want)
			}
			sameAsJSON(t, []byte(c.raw))
		})
	}
}

// TestReasonsBoundValues: a value quoted in a reason is at most 64 bytes of it, cut on a UTF-8
// boundary, with "…" after.
func TestReasonsBoundValues(t *testing.T) {
	huge := strings.Repeat("é", 150_000) // 300 KB
	cases := []struct {
		name, raw, quoted string
	}{
		{"type", `{"specversion":"1.0","id":"e","source":"s","type":"` + huge + `","time":"2026-11-10T23:00:00Z","subject":"acc-1","tenant":"t","data":{}}`, `"` + strings.Repeat("é", 32) + `"…`},
		{"time", record(t, `"2026-11-10T23:00:00Z"`, `"x`+huge+`"`), `"x` + strings.Repeat("é", 31) + `"…`},
		{"effectiveAt", `{"specversion":"1.0","id":"s1","source":"s","type":"account_status","time":"2026-11-10T23:00:00Z","subject":"acc-1","tenant":"t","data":{"accountId":"acc-1","action":"freeze","reason":"r","effectiveAt":"` + huge + `"}}`, `"` + strings.Repeat("é", 32) + `"…`},
		{"prototype Type", `{"ID":"7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01","Type":"` + huge + `","Event":{}}`, `"` + strings.Repeat("é", 32) + `"…`},
		{"unknown field", record(t, `"channel":"card"`, `"`+huge+`":"card"`), strings.Repeat("é", 32) + "… is not a known field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.DecodeJSON([]byte(c.raw)) // 300 KB is oversize for Decode
			if err == nil {
				t.Fatal("accepted")
			}
			reason := err.Error()
			if len(reason) > 1024 || !strings.Contains(reason, c.quoted) || !utf8.ValidString(reason) {
				t.Errorf("reason of %d bytes does not quote %s: %.300s", len(reason), c.quoted, reason)
			}
		})
	}
	// Within the record limit, through Decode.
	raw := record(t, `"2026-11-10T23:00:00Z"`, `"`+strings.Repeat("€", 20_000)+`"`)
	if _, err := event.Decode([]byte(raw)); err == nil || len(err.Error()) > 1024 || !strings.Contains(err.Error(), `"`+strings.Repeat("€", 21)+`"…`) {
		t.Errorf("reason %.300v", err)
	}
}

// TestErrorIsBounded: however many fields are at fault, Error() is at most 1 KiB and a short
// suffix, ending with the number of fields left out; Fields keeps them all.
func TestErrorIsBounded(t *testing.T) {
	suffix := regexp.MustCompile(`; … and (\d+) more$`)
	many := func(n int, element string) string {
		return strings.TrimSuffix(strings.Repeat(element+",", n), ",")
	}
	cases := []struct {
		name   string
		raw    string
		fields int
	}{
		{"500 bad blocked actions", statusRecord(many(500, `"teleport"`)), 500},
		{"300 repeated members", `{` + members(300, "m") + `,` + members(300, "m") + `}`, 300},
		{"400 invalid strings", statusRecord(many(400, "\"\xff\"")), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := event.Decode([]byte(c.raw))
			var r *event.RejectError
			if !errors.As(err, &r) {
				t.Fatalf("Decode: %v", err)
			}
			if len(r.Fields) != c.fields {
				t.Errorf("%d fields, want %d", len(r.Fields), c.fields)
			}
			reason := err.Error()
			m := suffix.FindStringSubmatch(reason)
			if m == nil {
				t.Fatalf("reason does not end with … and N more: %s", reason[len(reason)-80:])
			}
			body := strings.TrimSuffix(reason, m[0])
			if len(body) > 1024 {
				t.Errorf("reason of %d bytes before the suffix", len(body))
			}
			// The fields shown are the first ones, whole, and one more would not fit.
			shown := len(r.Fields) - atoi(m[1])
			parts := make([]string, shown)
			for i, f := range r.Fields[:shown] {
				parts[i] = f.Field + " " + f.Problem
			}
			if want := r.Code + ": " + strings.Join(parts, "; "); body != want {
				t.Errorf("reason\n got %.200s\nwant %.200s", body, want)
			}
			if next := r.Fields[shown]; len(body)+len("; ")+len(next.Field)+1+len(next.Problem) <= 1024 {
				t.Errorf("the reason stops at %d bytes, but %s would fit", len(body), next.Field)
			}
		})
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = 10*n + int(c-'0')
	}
	return n
}

func TestErrorOfOneHugeField(t *testing.T) {
	cases := []*event.RejectError{
		{Code: event.CodeInvalid, Fields: []event.FieldError{{Field: "x", Problem: strings.Repeat("é", 2000)}}},
		{Code: event.CodeInvalid, Fields: []event.FieldError{{Field: strings.Repeat("f", 5000), Problem: "p"}, {Field: "y", Problem: "q"}}},
		{Code: event.CodeUnknownType, Detail: strings.Repeat("d", 5000)},
	}
	for _, r := range cases {
		s := r.Error()
		if len(s) > 1024+len("; … and 1 more") || !utf8.ValidString(s) || !strings.Contains(s, "…") {
			t.Errorf("Error() of %d bytes: %.80q…", len(s), s)
		}
	}
	small := &event.RejectError{Code: event.CodeInvalid, Fields: []event.FieldError{{Field: "a", Problem: "must be b"}, {Field: "c", Problem: "must be d"}}}
	if got := small.Error(); got != "invalid: a must be b; c must be d" {
		t.Errorf("Error() = %q", got)
	}
}

// TestReasonsSayWhatIsAllowed: every problem the package words, over many bad records, says what
// is allowed, not only what is wrong.
func TestReasonsSayWhatIsAllowed(t *testing.T) {
	allowed := regexp.MustCompile(`^(must |is required|is only allowed|appears more than once; each member name may|is the same member as .*; each member name may|is not a known field; the fields here are |(has a member name that )?(is not valid UTF-8|holds a lone surrogate .*); .* must )`)
	var records [][]byte
	for _, s := range fastSamples {
		records = append(records, []byte(s))
	}
	for _, r := range eventgen.Generate(eventgen.Options{Events: 600, InvalidShare: 0.5, Seed: 11}) {
		records = append(records, r.Data)
	}
	for _, typ := range event.Types {
		for _, path := range []string{"id", "source", "time", "subject", "tenant", "specversion", "datacontenttype", "data",
			"data.accountId", "data.customerId", "data.transactionId", "data.amount", "data.currency", "data.direction", "data.channel",
			"data.merchant", "data.fraudScore", "data.score", "data.reason", "data.severity", "data.recommendedAction", "data.action",
			"data.blockedActions", "data.monitoringLevel", "data.effectiveAt", "data.check", "data.outcome", "data.details"} {
			for _, v := range []any{nil, "", "x y", 12.5, -1, 1 << 60, strings.Repeat("z", 600), []any{1}, map[string]any{"q": 1}, true} {
				m := valid(typ)
				if strings.HasPrefix(path, "data.") {
					if v == nil {
						delete(m["data"].(map[string]any), path[5:])
					} else {
						m["data"].(map[string]any)[path[5:]] = v
					}
				} else if v == nil {
					delete(m, path)
				} else {
					m[path] = v
				}
				records = append(records, encode(t, m))
			}
		}
	}
	for _, id := range []string{"", "p1", "7C1F6A52-0D55-4C8E-9A51-2F0C1B7A9E01"} {
		for _, typ := range []string{"transaction", "fraud_detection", "check_account", ""} {
			records = append(records, []byte(`{"ID":"`+id+`","Type":"`+typ+`","Client":"Bad Bank","Event":{"AccountID":"a","CustomerID":"","TransactionID":"t","Time":"x"}}`))
		}
	}
	seen := 0
	for _, raw := range records {
		_, err := event.Decode(raw)
		var r *event.RejectError
		if !errors.As(err, &r) {
			continue
		}
		for _, f := range r.Fields {
			seen++
			if !allowed.MatchString(f.Problem) {
				t.Errorf("%s %q does not say what is allowed (%.120s)", f.Field, f.Problem, raw)
			}
		}
	}
	if seen < 500 {
		t.Errorf("only %d problems seen", seen)
	}
}
