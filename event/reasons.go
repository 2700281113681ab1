package event

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// The reasons of the encoding/json path: its errors say what is wrong in Go's terms ("cannot
// unmarshal number 12.5 into Go struct field Transaction.amount of type int64"); a reason says
// what is allowed, in the record's own names.

// MaxSafeInteger is the largest integer an integer field accepts, 2^53−1: beyond it, a producer
// in JavaScript, or any reader that holds numbers as IEEE-754 doubles, cannot keep the value
// exactly. The smallest accepted is its negation; each integer field's own rule is narrower.
const MaxSafeInteger = 1<<53 - 1

// integerField words an integer field's reasons: what a value of it is (form, for a value that is
// not an integer), and what it is with its range (inRange, for one out of range).
type integerField struct{ form, inRange string }

// integerFields are the integer fields by lower-case member name (the prototype's FraudScore too).
var integerFields = map[string]integerField{
	"amount":     {"a whole number of minor units", "a whole number of minor units from 1 to " + strconv.Itoa(MaxSafeInteger)},
	"fraudscore": {"a whole number from 0 to 100", "a whole number from 0 to 100"},
	"score":      {"a whole number from 0 to 100", "a whole number from 0 to 100"},
}

// anyInteger words an integer field without a rule of its own.
var anyInteger = integerField{
	"an integer from -" + strconv.Itoa(MaxSafeInteger) + " to " + strconv.Itoa(MaxSafeInteger),
	"an integer from -" + strconv.Itoa(MaxSafeInteger) + " to " + strconv.Itoa(MaxSafeInteger),
}

// integerProblem is the reason for a value encoding/json would not read into the integer field
// name: a number with a fraction or an exponent, an integer beyond int64, or not a number at all.
func integerProblem(name, value string) string {
	f, ok := integerFields[strings.ToLower(name)]
	if !ok {
		f = anyInteger
	}
	if lit, isNumber := strings.CutPrefix(value, "number "); isNumber && !strings.ContainsAny(lit, ".eE") {
		return "must be " + f.inRange + ", got " + boundText(lit)
	}
	return "must be " + f.form + " (an integer without fraction or exponent), got " + gotValue(value)
}

// gotValue words what encoding/json's UnmarshalTypeError.Value says the record holds.
func gotValue(value string) string {
	if lit, ok := strings.CutPrefix(value, "number "); ok {
		return boundText(lit)
	}
	switch value {
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	return boundText(value)
}

// decodeError turns an encoding/json error from decoding raw into v into a RejectError, naming
// fields under prefix.
func decodeError(prefix string, err error, raw []byte, v any) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		got := gotValue(typeErr.Value)
		if typeErr.Field == "" {
			if prefix == "" {
				return reject(CodeNotJSON, "the record must be a JSON object, got "+got)
			}
			return invalidField(prefix, "must be a JSON object, got "+got)
		}
		return invalidField(join(prefix, typeErr.Field), typeProblem(v, typeErr, got))
	}
	var parseErr *time.ParseError
	if errors.As(err, &parseErr) {
		return invalidField(join(prefix, timeField(v)), timeProblem(parseErr.Value))
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "Time.UnmarshalJSON") {
		return invalidField(join(prefix, timeField(v)), "must be an RFC 3339 time string such as "+timeExample)
	}
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		var fields []FieldError
		unknownFields(raw, reflect.TypeOf(v), prefix, &fields)
		if len(fields) == 0 { // not found again: name the field encoding/json named
			if unquoted, err := strconv.Unquote(name); err == nil {
				name = unquoted
			}
			fields = []FieldError{{Field: join(prefix, boundName(name)), Problem: "is not a known field"}}
		}
		sortFields(fields)
		return &RejectError{Code: CodeInvalid, Fields: fields}
	}
	if prefix == "" {
		return reject(CodeNotJSON, "the record is not valid JSON; it must be one JSON object (RFC 8259): "+cut(msg, maxPathBytes))
	}
	return invalidField(prefix, "must be a JSON object of the type's fields: "+cut(msg, maxPathBytes))
}

// invalidField is a RejectError of one field.
func invalidField(field, problem string) error {
	return &RejectError{Code: CodeInvalid, Fields: []FieldError{{Field: field, Problem: problem}}}
}

var timeType = reflect.TypeFor[time.Time]()

// typeProblem is the reason for a value of the wrong JSON type: what the field v has at
// typeErr.Field holds.
func typeProblem(v any, typeErr *json.UnmarshalTypeError, got string) string {
	t := fieldType(reflect.TypeOf(v), typeErr.Field)
	if t == nil {
		t = typeErr.Type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := typeErr.Field[strings.LastIndexByte(typeErr.Field, '.')+1:]
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return integerProblem(name, typeErr.Value)
	case reflect.String:
		return "must be a string, got " + got
	case reflect.Bool:
		return "must be true or false, got " + got
	case reflect.Slice:
		if typeErr.Type != t { // an element of the wrong type
			return "must be an array of " + kindName(t.Elem()) + "s, got an array holding " + got
		}
		return "must be an array of " + kindName(t.Elem()) + "s, got " + got
	case reflect.Struct:
		if t == timeType {
			return "must be an RFC 3339 time string such as " + timeExample + ", got " + got
		}
	}
	return "must be a JSON object, got " + got
}

// kindName names a Go type the way a JSON producer thinks of it.
func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return "integer"
}

// jsonField is a struct field as encoding/json sees it.
type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the fields of struct type t in order, by their JSON names.
func jsonFields(t reflect.Type) []jsonField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType {
		return nil
	}
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name, f.Type})
	}
	return out
}

// lookupField finds the field a member name decodes into, as encoding/json does: the exact name,
// else one equal regardless of case.
func lookupField(fields []jsonField, name string) (jsonField, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	folded := foldKey(name)
	for _, f := range fields {
		if foldKey(f.name) == folded {
			return f, true
		}
	}
	return jsonField{}, false
}

// fieldType returns the type of the field at a dotted path of JSON names in t, or nil.
func fieldType(t reflect.Type, path string) reflect.Type {
	for name := range strings.SplitSeq(path, ".") {
		f, ok := lookupField(jsonFields(t), name)
		if !ok {
			return nil
		}
		t = f.typ
	}
	return t
}

// timeField returns the JSON name of v's time field: the one field an UnmarshalJSON error can
// come from.
func timeField(v any) string {
	for _, f := range jsonFields(reflect.TypeOf(v)) {
		t := f.typ
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == timeType {
			return f.name
		}
	}
	return ""
}

// unknownFields appends a reason for every member of the object raw that the struct type t does
// not have, at any depth, under path. It runs on the error path only, on a record the strict
// check passed: no member appears twice, so a map holds the members.
func unknownFields(raw []byte, t reflect.Type, path string, out *[]FieldError) {
	fields := jsonFields(t)
	if fields == nil {
		return
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return
	}
	for name, value := range members {
		f, ok := lookupField(fields, name)
		if !ok {
			names := make([]string, len(fields))
			for i, f := range fields {
				names[i] = f.name
			}
			*out = append(*out, FieldError{Field: join(path, boundName(name)), Problem: "is not a known field; the fields here are " + strings.Join(names, ", ")})
			continue
		}
		unknownFields(value, f.typ, join(path, name), out)
	}
}

// respell names the fields of a reason as the record spells them: encoding/json matches member
// names regardless of case, so "data.amount" may be the record's "data.Amount". Fields the record
// does not have (a missing one) keep their names.
func respell(raw []byte, err error) error {
	var r *RejectError
	if !errors.As(err, &r) || len(r.Fields) == 0 {
		return err
	}
	s := speller{raw: raw, objects: map[string]map[string]string{}}
	for i, f := range r.Fields {
		r.Fields[i].Field = s.spell(f.Field)
	}
	sortFields(r.Fields)
	return r
}

// speller finds the record's own spelling of paths, parsing each object on the way once.
type speller struct {
	raw     []byte
	values  map[string]json.RawMessage // by path as the record spells it; "" is the record
	objects map[string]map[string]string
}

// spell returns path with each member name as the record spells it, as far as the record has it.
func (s *speller) spell(path string) string {
	if s.values == nil {
		s.values = map[string]json.RawMessage{"": s.raw}
	}
	var done strings.Builder // the path as spelt so far
	rest := path
	for rest != "" {
		// The next step: a name up to the next '.' or '[', or an index [n].
		if rest[0] == '[' {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				break
			}
			done.WriteString(rest[:end+1])
			rest = rest[end+1:]
			continue
		}
		rest = strings.TrimPrefix(rest, ".")
		end := strings.IndexAny(rest, ".[")
		if end < 0 {
			end = len(rest)
		}
		name := rest[:end]
		at := done.String()
		names := s.members(at)
		spelt, ok := names[foldKey(name)]
		if !ok {
			break
		}
		if at != "" {
			done.WriteByte('.')
		}
		done.WriteString(spelt)
		rest = rest[end:]
	}
	if rest != "" {
		if done.Len() > 0 && rest[0] != '.' && rest[0] != '[' {
			done.WriteByte('.')
		}
		done.WriteString(rest)
	}
	return done.String()
}

// members maps the folded names of the object at path (as spelt) to the record's spelling.
func (s *speller) members(path string) map[string]string {
	if m, ok := s.objects[path]; ok {
		return m
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(s.values[path], &obj)
	m := make(map[string]string, len(obj))
	for name, v := range obj {
		m[foldKey(name)] = name
		s.values[join(path, name)] = v
	}
	s.objects[path] = m
	return m
}
