package event

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// refRepeats reports, the slow way, whether a JSON object repeats a member name in some object
// (as encoding/json matches names: regardless of case), walking encoding/json's tokens.
func refRepeats(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object bool
		names  map[string]bool
		key    bool // the next token of an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
				continue
			}
			name := foldKey(tok.(string))
			if top.names[name] {
				return true
			}
			top.names[name] = true
			top.key = false
			continue
		}
		switch d, _ := tok.(json.Delim); d {
		case '{':
			stack = append(stack, &frame{object: true, names: map[string]bool{}, key: true})
			continue
		case '[':
			stack = append(stack, &frame{})
			continue
		case '}', ']':
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return false
		}
		if top := stack[len(stack)-1]; top.object {
			top.key = true
		}
	}
}

// TestCheckStrictIsReference compares strictError with the slow reference on random objects:
// repeated names as encoding/json's tokens show them, invalid UTF-8 as utf8.Valid sees it.
func TestCheckStrictIsReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	names := []string{"a", "A", "b", "tenant", "TENANT", "ſ", "s", "S", "k", "\u212a", "\\u0061", "é", "É", "x\xff", ""}
	strs := []string{`"v"`, `"\ud83d\ude00"`, `"é"`, "\"\xff\"", `"\"\\"`, `"\u00e9"`}
	var value func(depth int) string
	value = func(depth int) string {
		switch n := rng.IntN(8); {
		case n < 2 && depth < 4:
			var b strings.Builder
			b.WriteByte('{')
			for i := range rng.IntN(5) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`"` + names[rng.IntN(len(names))] + `":` + value(depth+1))
			}
			b.WriteByte('}')
			return b.String()
		case n < 3 && depth < 4:
			var parts []string
			for range rng.IntN(4) {
				parts = append(parts, value(depth+1))
			}
			return "[" + strings.Join(parts, ",") + "]"
		case n < 5:
			return strs[rng.IntN(len(strs))]
		case n < 6:
			return "-1.5e3"
		}
		return "null"
	}
	var repeats, invalid int
	for range 20000 {
		raw := []byte(value(0))
		if raw[0] != '{' || !json.Valid(raw) {
			continue
		}
		err := strictError(raw)
		gotRepeat, gotUTF8 := false, false
		if r, ok := err.(*RejectError); ok {
			for _, f := range r.Fields {
				gotRepeat = gotRepeat || f.Problem == problemDuplicate || strings.HasPrefix(f.Problem, "is the same member")
				gotUTF8 = gotUTF8 || f.Problem == problemUTF8 || f.Problem == problemNameUTF8
			}
		}
		if want := refRepeats(raw); gotRepeat != want {
			t.Fatalf("%s: strictError repeats %v, reference %v (%v)", raw, gotRepeat, want, err)
		}
		if want := !utf8.Valid(raw); gotUTF8 != want {
			t.Fatalf("%s: strictError invalid UTF-8 %v, reference %v (%v)", raw, gotUTF8, want, err)
		}
		if gotRepeat {
			repeats++
		}
		if gotUTF8 {
			invalid++
		}
	}
	if repeats < 100 || invalid < 100 {
		t.Errorf("only %d records with repeats, %d with invalid UTF-8", repeats, invalid)
	}
}

// FuzzCheckStrict: walkStrict never accepts as JSON what encoding/json does not, finds a repeat
// when the reference does, and a record it passes has no U+FFFD that encoding/json would make.
func FuzzCheckStrict(f *testing.F) {
	for _, s := range []string{`{"a":1,"A":2}`, `{"a":{"b":[{"c":"\ud800"}]}}`, "{\"a\":\"\xff\"}", `{"ſ":1,"s":2}`, `{"a":"\ud83d\ude00"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c := walkStrict(raw, false)
		object := json.Valid(raw) && bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("{"))
		if (c == nil) == object {
			t.Fatalf("%q: walkStrict returned %v for a JSON object: %v", raw, c != nil, object)
		}
		if c == nil || len(c.fields) == 0 {
			if object {
				if refRepeats(raw) {
					t.Fatalf("%q: a repeat the check missed", raw)
				}
				if !utf8.Valid(raw) {
					t.Fatalf("%q: invalid UTF-8 the check missed", raw)
				}
				var v any
				_ = json.Unmarshal(raw, &v)
				b, _ := json.Marshal(v)
				if bytes.Contains(b, []byte("\ufffd")) && !bytes.Contains(raw, []byte("\ufffd")) && !bytes.Contains(bytes.ToLower(raw), []byte(`\ufffd`)) {
					t.Fatalf("%q: a replacement the check missed", raw)
				}
			}
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("%q: not JSON, but the check reports %v", raw, c.fields)
		}
	})
}

// BenchmarkCheckStrict is the strict check's cost on a record that takes the encoding/json path
// (an extension attribute), and so pays for it.
func BenchmarkCheckStrict(b *testing.B) {
	raw := []byte(`{"specversion":"1.0","id":"evt-1","source":"urn:bank:authorizer","type":"transaction","time":"2026-11-10T23:00:00Z","subject":"acc-1","datacontenttype":"application/json","tenant":"examplebank","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","data":{"transactionId":"4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c","accountId":"acc-1","customerId":"cus-1","amount":1250,"currency":"EUR","direction":"debit","channel":"card","merchant":{"name":"Corner Shop","mcc":"5411","country":"IE"},"fraudScore":12}}`)
	b.ReportAllocs()
	for b.Loop() {
		if strictError(raw) != nil {
			b.Fatal("refused")
		}
	}
}
