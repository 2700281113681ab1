package event_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/event"
)

// record is a valid transaction record with old replaced by new, for the strict tests to break.
func record(t *testing.T, pairs ...string) string {
	t.Helper()
	raw := `{"specversion":"1.0","id":"evt-1","source":"urn:bank:authorizer","type":"transaction","time":"2026-11-10T23:00:00Z","subject":"acc-1","datacontenttype":"application/json","tenant":"examplebank","data":{"transactionId":"4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c","accountId":"acc-1","customerId":"cus-1","amount":1250,"currency":"EUR","direction":"debit","channel":"card","merchant":{"name":"Corner Shop","mcc":"5411","country":"IE"},"fraudScore":12}}`
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(raw, pairs[i]) {
			t.Fatalf("the record has no %s", pairs[i])
		}
		raw = strings.Replace(raw, pairs[i], pairs[i+1], 1)
	}
	return raw
}

// statusRecord is a valid freeze whose blockedActions are actions (JSON text of the elements).
func statusRecord(actions string) string {
	return `{"specversion":"1.0","id":"s1","source":"s","type":"account_status","time":"2026-11-10T23:00:00Z","subject":"acc-1","tenant":"t","data":{"accountId":"acc-1","action":"freeze","blockedActions":[` + actions + `],"reason":"r"}}`
}

const (
	dupProblem       = "appears more than once; each member name may appear only once (RFC 7493 I-JSON)"
	utf8Problem      = "is not valid UTF-8; JSON text must be UTF-8 (RFC 8259)"
	nameUTF8Problem  = "has a member name that is not valid UTF-8; JSON text must be UTF-8 (RFC 8259)"
	surrogateProblem = "holds a lone surrogate %s; a \\u escape of U+D800–U+DFFF must be a high surrogate followed by a low one"
)

func lone(escape string) string { return strings.Replace(surrogateProblem, "%s", escape, 1) }

func TestStrictRefusesWhatEncodingJSONReadsLoosely(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want []event.FieldError // all of the reason's fields, in order
	}{
		{"tenant twice, last would win", record(t, `"tenant":"examplebank"`, `"tenant":"examplebank","tenant":"otherbank"`),
			[]event.FieldError{{Field: "tenant", Problem: dupProblem}}},
		{"id twice, the same value", record(t, `"id":"evt-1"`, `"id":"evt-1","id":"evt-1"`),
			[]event.FieldError{{Field: "id", Problem: dupProblem}}},
		{"amount twice", record(t, `"amount":1250`, `"amount":1,"amount":1250`),
			[]event.FieldError{{Field: "data.amount", Problem: dupProblem}}},
		{"merchant name twice", record(t, `"name":"Corner Shop"`, `"name":"Corner Shop","name":"Other Shop"`),
			[]event.FieldError{{Field: "data.merchant.name", Problem: dupProblem}}},
		{"a name three times is one complaint", record(t, `"tenant":"examplebank"`, `"tenant":"a","tenant":"b","tenant":"examplebank"`),
			[]event.FieldError{{Field: "tenant", Problem: dupProblem}}},
		{"data twice", record(t, `"tenant":"examplebank",`, `"tenant":"examplebank","data":{},`),
			[]event.FieldError{{Field: "data", Problem: dupProblem}}},
		{"in an extension attribute the pipeline ignores", record(t, `"tenant":"examplebank"`, `"tenant":"examplebank","traceparent":{"a":[{"b":1,"b":2}]}`),
			[]event.FieldError{{Field: "traceparent.a[0].b", Problem: dupProblem}}},
		{"the same name regardless of case", record(t, `"tenant":"examplebank"`, `"tenant":"examplebank","TENANT":"otherbank"`),
			[]event.FieldError{{Field: "TENANT", Problem: `is the same member as "tenant" to the decoder, which matches names regardless of case; each member name may appear only once (RFC 7493 I-JSON)`}}},
		{"long s folds to s", record(t, `"source":"urn:bank:authorizer"`, `"source":"urn:bank:authorizer","ſource":"urn:other"`),
			[]event.FieldError{{Field: "ſource", Problem: `is the same member as "source" to the decoder, which matches names regardless of case; each member name may appear only once (RFC 7493 I-JSON)`}}},
		{"an escaped name is the same name", record(t, `"tenant":"examplebank"`, `"tenant":"examplebank","\u0074enant":"otherbank"`),
			[]event.FieldError{{Field: "tenant", Problem: dupProblem}}},
		{"many objects with many members", `{"a":{` + members(40, "x") + `,"x7":0},"b":[{` + members(40, "y") + `},{"y3":1,"y3":2}]}`,
			[]event.FieldError{{Field: "a.x7", Problem: dupProblem}, {Field: "b[1].y3", Problem: dupProblem}}},

		{"invalid UTF-8 in a value", record(t, `"Corner Shop"`, "\"Corner \xff Shop\""),
			[]event.FieldError{{Field: "data.merchant.name", Problem: utf8Problem}}},
		{"a UTF-8 encoded surrogate", record(t, `"Corner Shop"`, "\"Corner \xed\xa0\x80 Shop\""),
			[]event.FieldError{{Field: "data.merchant.name", Problem: utf8Problem}}},
		{"an overlong encoding", record(t, `"id":"evt-1"`, "\"id\":\"evt\xc0\xaf1\""),
			[]event.FieldError{{Field: "id", Problem: utf8Problem}}},
		{"invalid UTF-8 in an array element", statusRecord("\"debit\",\"c\xe9rd\""),
			[]event.FieldError{{Field: "data.blockedActions[1]", Problem: utf8Problem}}},
		{"invalid UTF-8 in a name", record(t, `"channel":"card"`, "\"chann\xe9l\":\"card\""),
			[]event.FieldError{{Field: "data.chann\uFFFDl", Problem: nameUTF8Problem}}},

		{"a lone high surrogate", record(t, `"Corner Shop"`, `"Corner \ud800 Shop"`),
			[]event.FieldError{{Field: "data.merchant.name", Problem: lone(`\ud800`)}}},
		{"a high surrogate at the end", record(t, `"id":"evt-1"`, `"id":"evt-1\uDBFF"`),
			[]event.FieldError{{Field: "id", Problem: lone(`\uDBFF`)}}},
		{"a high surrogate followed by another", record(t, `"id":"evt-1"`, `"id":"\ud83d\ud83d\ude00"`),
			[]event.FieldError{{Field: "id", Problem: lone(`\ud83d`)}}},
		{"a high surrogate followed by a letter", record(t, `"id":"evt-1"`, `"id":"\ud83d\u0041"`),
			[]event.FieldError{{Field: "id", Problem: lone(`\ud83d`)}}},
		{"a lone low surrogate", record(t, `"id":"evt-1"`, `"id":"\ude00\ud83d"`),
			[]event.FieldError{{Field: "id", Problem: lone(`\ude00`)}}},
		{"a lone surrogate in an array element", statusRecord(`"debit","\udfff"`),
			[]event.FieldError{{Field: "data.blockedActions[1]", Problem: lone(`\udfff`)}}},
		{"a lone surrogate in a name", record(t, `"channel":"card"`, `"chan\ud800":"card"`),
			[]event.FieldError{{Field: "data.chan\uFFFD", Problem: "has a member name that holds a lone surrogate \\ud800; a \\u escape of U+D800–U+DFFF must be a high surrogate followed by a low one"}}},

		{"every problem at once, in path order", "{\"tenant\":\"a\",\"id\":\"\xff\",\"tenant\":\"b\",\"data\":{\"x\":\"\\udc00\",\"blockedActions\":[\"\\ud800\",1,2,3,4,5,6,7,8,9,\"\xfe\"]}}",
			[]event.FieldError{
				{Field: "data.blockedActions[0]", Problem: lone(`\ud800`)},
				{Field: "data.blockedActions[10]", Problem: utf8Problem},
				{Field: "data.x", Problem: lone(`\udc00`)},
				{Field: "id", Problem: utf8Problem},
				{Field: "tenant", Problem: dupProblem},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte(c.raw)
			_, err := event.Decode(raw)
			var r *event.RejectError
			if !errors.As(err, &r) || r.Code != event.CodeInvalid {
				t.Fatalf("Decode: got %v, want code %s", err, event.CodeInvalid)
			}
			if got, want := fieldsString(r.Fields), fieldsString(c.want); got != want {
				t.Errorf("fields\n got %s\nwant %s", got, want)
			}
			if _, ok := event.DecodeFast(raw); ok {
				t.Errorf("decodeFast accepted %s", raw)
			}
			sameAsJSON(t, raw)
		})
	}
}

// members writes n members named prefix0… with distinct names.
func members(n int, prefix string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + prefix + itoa(i) + `":` + itoa(i))
	}
	return b.String()
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func fieldsString(fields []event.FieldError) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString("\n  " + f.Field + " | " + f.Problem)
	}
	return b.String()
}

// TestStrictAcceptsWhatIsOneReading: escapes, surrogate pairs, names that differ, the same name in
// different objects are all fine.
func TestStrictAcceptsWhatIsOneReading(t *testing.T) {
	for _, raw := range []string{
		record(t, `"Corner Shop"`, `"Corner \ud83d\ude00 Shop \u00e9 \"\\\/\b\f\n\r\t"`),
		record(t, `"Corner Shop"`, "\"Corner 😀 Shop é ☕\""),
		record(t, `"id":"evt-1"`, `"\u0069d":"evt-1"`),
		record(t, `"tenant":"examplebank"`, `"tenant":"examplebank","traceparent":{"name":"x","tenant":"y","a":[{"b":1},{"b":2}]}`),
		record(t, `"tenant":"examplebank"`, `"tenant":"examplebank","ext":{`+members(100, "m")+`}`),
	} {
		if _, err := event.Decode([]byte(raw)); err != nil {
			t.Errorf("Decode(%s): %v", raw, err)
		}
		sameAsJSON(t, []byte(raw))
	}
}

// TestStrictLeavesNotJSONToEncodingJSON: a record that is not JSON, or not an object, is
// CodeNotJSON, whatever the strict check would say of its parts.
func TestStrictLeavesNotJSONToEncodingJSON(t *testing.T) {
	// Deeper than encoding/json reads (10000), with a repeated name at the top.
	deep := `{"t":1,"t":2,"d":` + strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10001)
	for _, raw := range []string{
		`{"tenant":"a","tenant":"b"`,
		`{"tenant":"a","tenant":"b"} {}`,
		`{"tenant":"a","tenant":"b","x":01}`,
		`{"tenant":"a","tenant":"b","x":"\x"}`,
		"{\"tenant\":\"a\",\"tenant\":\"b\",\"x\":\"\x01\"}",
		`{"tenant":"a","tenant":"b","x":"\u12"}`,
		`[{"tenant":"a","tenant":"b"}]`,
		"\"\xff\"",
		`null`,
		deep,
	} {
		_, err := event.Decode([]byte(raw))
		var r *event.RejectError
		if !errors.As(err, &r) || r.Code != event.CodeNotJSON {
			t.Errorf("Decode(%.60q): got %v, want code %s", raw, err, event.CodeNotJSON)
		}
	}
}

// TestStrictBoundsPaths: a path through deep nesting or long names is shortened, and the reason
// stays short.
func TestStrictBoundsPaths(t *testing.T) {
	long := strings.Repeat("n", 300)
	deep := strings.Repeat(`{"`+long[:40]+`":`, 1000) + `{"x":1,"x":2}` + strings.Repeat("}", 1000)
	for _, raw := range []string{deep, `{"` + long + `":1,"` + long + `":2}`} {
		_, err := event.Decode([]byte(raw))
		var r *event.RejectError
		if !errors.As(err, &r) || len(r.Fields) != 1 {
			t.Fatalf("Decode: %v", err)
		}
		if f := r.Fields[0].Field; len(f) > 300 || !strings.Contains(f, "…") {
			t.Errorf("path of %d bytes: %.80q", len(f), f)
		}
		if len(err.Error()) > 1024 {
			t.Errorf("reason of %d bytes", len(err.Error()))
		}
	}
}

func TestPeekDoesNotGuessBetweenTwoValues(t *testing.T) {
	cases := []struct {
		name             string
		raw              string
		tenant, id, want string
	}{
		{"plain", record(t), "examplebank", "evt-1", "transaction"},
		{"tenant twice", record(t, `"tenant":"examplebank"`, `"tenant":"examplebank","tenant":"otherbank"`), "", "evt-1", "transaction"},
		{"tenant in two cases", record(t, `"tenant":"examplebank"`, `"tenant":"examplebank","Tenant":"otherbank"`), "", "evt-1", "transaction"},
		{"id twice", record(t, `"id":"evt-1"`, `"id":"evt-1","ID":"evt-2"`), "examplebank", "", "transaction"},
		{"type twice", record(t, `"type":"transaction"`, `"type":"transaction","type":"loan"`), "examplebank", "evt-1", ""},
		{"data twice does not matter", record(t, `"tenant":"examplebank",`, `"tenant":"examplebank","data":{},`), "examplebank", "evt-1", "transaction"},
		{"invalid UTF-8 elsewhere", record(t, `"Corner Shop"`, "\"\xff\""), "examplebank", "evt-1", "transaction"},
		{"the prototype's Client", `{"ID":"x","Client":"protobank","tenant":"other","Event":{}}`, "protobank", "x", ""},
		{"the prototype's Client twice", `{"ID":"x","Client":"protobank","client":"other","Event":{}}`, "", "x", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tenant, id, typ := event.Peek([]byte(c.raw))
			if tenant != c.tenant || id != c.id || string(typ) != c.want {
				t.Errorf("Peek = %q, %q, %q; want %q, %q, %q", tenant, id, typ, c.tenant, c.id, c.want)
			}
		})
	}
}
