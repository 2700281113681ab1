package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/invopop/validation"
)

// SpecVersion is the CloudEvents version of the envelope.
const SpecVersion = "1.0"

// ContentTypeJSON is the only data content type the pipeline accepts.
const ContentTypeJSON = "application/json"

// MaxRecordBytes is the largest record accepted. Financial events are a few hundred bytes; the
// limit keeps every stored item far below DynamoDB's 400 KB item size.
const MaxRecordBytes = 64 << 10

// Event is a CloudEvents 1.0 event in structured JSON mode, with the extension attribute tenant
// naming the bank client that owns it. Its partition key and subject are the account id.
type Event struct {
	SpecVersion     string    `json:"specversion" jsonschema:"enum=1.0"`
	ID              string    `json:"id" jsonschema:"minLength=1,maxLength=128"`
	Source          string    `json:"source" jsonschema:"minLength=1"`
	Type            Type      `json:"type"`
	Time            time.Time `json:"time"`
	Subject         string    `json:"subject"`
	DataContentType string    `json:"datacontenttype,omitempty" jsonschema:"enum=application/json"`
	Tenant          string    `json:"tenant" jsonschema:"pattern=^[a-z0-9][a-z0-9-]*$,maxLength=63"`
	Data            Payload   `json:"data"`
}

// The rules of the envelope's fields.
var (
	specVersionRules     = rules(validation.Required.Error("is required: 1.0"), oneOf("must be 1.0", SpecVersion))
	eventIDRules         = rules(validation.Required.Error("is required: "+eventIDShape), validation.Length(1, 128).Error("must be "+eventIDShape), printable.rule("must be "+eventIDShape))
	sourceRules          = rules(validation.Required.Error("is required: "+sourceShape), validation.Length(1, 256).Error("must be "+sourceShape), printable.rule("must be "+sourceShape))
	timeRules            = rules(requiredTime, timeInRange)
	subjectRequired      = validation.Rule(validation.Required.Error("is required: the account id, equal to data.accountId (the partition key)"))
	dataContentTypeRules = rules(oneOf("must be application/json", ContentTypeJSON))
	tenantRules          = rules(validation.Required.Error("is required: "+tenantShapeText), tenantShape.rule("must be "+tenantShapeText))
	dataRequired         = validation.Required.Error("is required: a JSON object, the payload of the event's type")
)

// The shapes of the envelope's strings, for reasons.
const (
	eventIDShape    = "1 to 128 printable ASCII characters without spaces"
	sourceShape     = "a URI-reference of 1 to 256 printable ASCII characters without spaces"
	tenantShapeText = "1 to 63 lowercase letters, digits or -, starting with a letter or digit"
)

// subjectIsAccount requires the subject to be the payload's account, the partition key.
type subjectIsAccount struct{ e *Event }

func (r subjectIsAccount) Validate(any) error {
	if e := r.e; e.Data != nil && e.Data.Account() != "" && e.Subject != e.Data.Account() {
		return validation.NewError("validation_subject", "must equal data.accountId (the partition key)")
	}
	return nil
}

// Validate checks the envelope and the payload together, and returns a *RejectError naming every
// field at fault, or nil.
func (e *Event) Validate() error {
	var f fieldErrors
	f.check("specversion", enum(e.SpecVersion), specVersionRules)
	f.check("id", e.ID, eventIDRules)
	f.check("source", e.Source, sourceRules)
	f.check("time", e.Time, timeRules)
	f.check("subject", e.Subject, []validation.Rule{subjectRequired, subjectIsAccount{e}})
	f.check("datacontenttype", enum(e.DataContentType), dataContentTypeRules)
	f.check("tenant", e.Tenant, tenantRules)
	if isNil(e.Data) {
		f.add("data", dataRequired.Validate(nil))
	} else {
		f.add("data", e.Data.Validate())
	}
	return invalid("", f.err())
}

// isNil reports whether p is nil or a nil pointer of a payload type.
func isNil(p Payload) bool {
	switch p := p.(type) {
	case nil:
		return true
	case *Transaction:
		return p == nil
	case *FraudAlert:
		return p == nil
	case *AccountStatus:
		return p == nil
	case *AccountCheck:
		return p == nil
	}
	v := reflect.ValueOf(p)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// wire is what a record may hold: the CloudEvents envelope, or the prototype's shape. encoding/json
// matches names case-insensitively, so the prototype's ID, Source and Type land in the same fields.
type wire struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            string          `json:"time"`
	Subject         string          `json:"subject"`
	DataContentType string          `json:"datacontenttype"`
	Tenant          string          `json:"tenant"`
	Data            json.RawMessage `json:"data"`
	Client          string          `json:"Client"` // prototype: the tenant
	Event           json.RawMessage `json:"Event"`  // prototype: the payload
}

// Decode parses and validates one record. The error is a *RejectError for anything that can
// never succeed: oversize, not JSON, JSON that readers can read differently (a repeated member
// name, invalid UTF-8, a lone surrogate: see the package documentation), an unknown type, or
// fields that break a rule.
func Decode(raw []byte) (*Event, error) {
	if len(raw) > MaxRecordBytes {
		return nil, reject(CodeOversize, fmt.Sprintf("the record is %d bytes; the limit is %d", len(raw), MaxRecordBytes))
	}
	e, ok := decodeFast(raw)
	if !ok {
		var err error
		if e, err = decodeJSON(raw); err != nil {
			return nil, err
		}
	} else if err := e.Validate(); err != nil {
		return nil, err
	} else {
		normalize(e)
	}
	return e, nil
}

// normalize puts times in UTC: the same instant written in another zone is the same event.
func normalize(e *Event) {
	if s, ok := e.Data.(*AccountStatus); ok && s.EffectiveAt != nil {
		utc := s.EffectiveAt.UTC()
		s.EffectiveAt = &utc
	}
}

// decodeJSON is Decode with encoding/json: for every record decodeFast gives up on, and the
// reference for what a record decodes to. Before encoding/json reads anything, strictError
// refuses what it would read loosely: repeated member names, invalid UTF-8, lone surrogates.
func decodeJSON(raw []byte) (*Event, error) {
	if err := strictError(raw); err != nil {
		return nil, err
	}
	e, err := decodeWire(raw)
	if err != nil {
		return nil, respell(raw, err)
	}
	return e, nil
}

// decodeWire decodes and validates a record that passed the strict check.
func decodeWire(raw []byte) (*Event, error) {
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil {
		err = decodeError("", err, raw, &w)
		if isPrototype(&w) {
			err = renamePrototype(err)
		}
		return nil, err
	}
	if bytes.HasPrefix(bytes.TrimLeft(raw, " \t\r\n"), []byte("null")) {
		return nil, reject(CodeNotJSON, "the record must be a JSON object, got null")
	}
	if isPrototype(&w) {
		return fromPrototype(&w)
	}
	e := &Event{
		SpecVersion:     w.SpecVersion,
		ID:              w.ID,
		Source:          w.Source,
		Type:            Type(w.Type),
		Subject:         w.Subject,
		DataContentType: w.DataContentType,
		Tenant:          w.Tenant,
	}
	if e.Data = newPayload(e.Type); e.Data == nil {
		return nil, unknownType(w.Type)
	}
	timeErr := parseTime(w.Time, &e.Time, "time")
	var dataErr error
	if len(w.Data) > 0 && !bytes.Equal(w.Data, []byte("null")) {
		dataErr = decodeStrict(w.Data, e.Data, "data")
	} else {
		e.Data = nil
	}
	if err := mergeRejects(timeErr, dataErr); err != nil {
		// Validate what did decode, leaving out what failed to, so one reason names every field.
		rest := dropFields(e.Validate(), func(f string) bool {
			return (timeErr != nil && f == "time") || (dataErr != nil && (f == "data" || strings.HasPrefix(f, "data.")))
		})
		return nil, mergeRejects(err, rest)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	normalize(e)
	return e, nil
}

// isPrototype reports whether a record is in the prototype's shape: no specversion, an Event.
func isPrototype(w *wire) bool { return w.SpecVersion == "" && len(w.Event) > 0 }

// typeNames lists the accepted types for reasons.
var typeNames = func() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}()

// unknownType is the reason for a type the pipeline does not know.
func unknownType(t string) error {
	if t == "" {
		return &RejectError{Code: CodeInvalid, Fields: []FieldError{{Field: "type", Problem: "is required: one of " + typeNames}}}
	}
	return reject(CodeUnknownType, fmt.Sprintf("type %s is not one the pipeline accepts: type must be %s", quoteValue(t), typeNames))
}

// timeExample is an RFC 3339 time, for reasons.
const timeExample = "2026-11-10T23:00:00Z"

// parseTime parses an RFC 3339 time into dst (in UTC) or returns a reason naming field.
func parseTime(s string, dst *time.Time, field string) error {
	if s == "" {
		return nil // Validate reports the missing time
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return &RejectError{Code: CodeInvalid, Fields: []FieldError{{Field: field, Problem: timeProblem(s)}}}
	}
	*dst = t.UTC()
	return nil
}

// timeProblem is the reason for a time that is not RFC 3339.
func timeProblem(got string) string {
	return "must be an RFC 3339 time such as " + timeExample + ", got " + quoteValue(got)
}

// decodeStrict decodes a JSON object into v, refusing fields v does not have (a misspelt field is
// a mistake, not an extension), and names the field at fault under prefix.
func decodeStrict(raw []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(prefix, err, raw, v)
	}
	return nil
}

// Peek reads what it can of a record that failed to decode: its tenant, id and type, from the
// envelope or the prototype's shape; empty where the record does not say, or says twice (a member
// repeated, which the strict check refuses: which of the two is meant is not known). Quarantine
// uses it so that a tenant can find its own rejected records.
func Peek(raw []byte) (tenant, id string, t Type) {
	var w wire
	if json.Unmarshal(raw, &w) != nil {
		return "", "", ""
	}
	repeated := repeatedPeekedNames(raw)
	twice := func(name string) bool { return slices.Contains(repeated, name) }
	// The member the decoder reads first: the prototype's tenant is its Client.
	tenant, key, other, otherKey := w.Tenant, "tenant", w.Client, "client"
	if isPrototype(&w) {
		tenant, key, other, otherKey = other, otherKey, tenant, key
	}
	if tenant == "" {
		tenant, key = other, otherKey
	}
	if twice(key) || !tenantShape.match(tenant) {
		tenant = ""
	}
	if id = w.ID; twice("id") {
		id = ""
	}
	if t = Type(w.Type); twice("type") {
		t = ""
	}
	return tenant, id, t
}
