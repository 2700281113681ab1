package event

import (
	"errors"
	"sort"
	"strings"

	"github.com/invopop/validation"
)

// Reject codes name the ways a record can fail for good. They are stable: quarantine stores them
// and clients filter on them.
const (
	CodeNotJSON     = "not_json"     // the record is not a JSON object
	CodeUnknownType = "unknown_type" // the envelope's type is not one the pipeline knows
	CodeInvalid     = "invalid"      // a field breaks a rule; Fields says which
	CodeOversize    = "oversize"     // the record is larger than MaxRecordBytes
	CodeConflict    = "conflict"     // the event id is already stored with different content
)

// FieldError is one rule broken by one field. Field is the JSON path from the envelope's root,
// e.g. "data.amount".
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// RejectError says why a record can never succeed. It is a permanent failure: retrying the same
// bytes gives the same answer, so such a record is quarantined, never retried.
type RejectError struct {
	Code   string       // one of the Code* constants
	Fields []FieldError // the fields at fault, sorted by path; empty unless Code is CodeInvalid
	Detail string       // a sentence for people, used when Fields is empty
}

// Error reads as a reason a person can act on, naming every field at fault.
func (e *RejectError) Error() string {
	if len(e.Fields) == 0 {
		return e.Code + ": " + e.Detail
	}
	var b strings.Builder
	b.WriteString(e.Code)
	b.WriteString(": ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(" ")
		b.WriteString(f.Problem)
	}
	return b.String()
}

// IsPermanent reports whether err (or an error it wraps) is a RejectError: the record must be
// quarantined rather than retried.
func IsPermanent(err error) bool {
	var r *RejectError
	return errors.As(err, &r)
}

// reject builds a RejectError without fields.
func reject(code, detail string) *RejectError {
	return &RejectError{Code: code, Detail: detail}
}

// invalid turns validation errors into a RejectError whose fields are prefixed by prefix
// ("" for the envelope, "data" for a payload). It returns nil when err is nil.
func invalid(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var fields []FieldError
	flatten(prefix, err, &fields)
	sort.Slice(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return &RejectError{Code: CodeInvalid, Fields: fields}
}

func flatten(path string, err error, out *[]FieldError) {
	var errs validation.Errors
	if !errors.As(err, &errs) {
		*out = append(*out, FieldError{Field: path, Problem: err.Error()})
		return
	}
	for name, e := range errs {
		if e == nil {
			continue
		}
		flatten(join(path, name), e, out)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// mergeRejects combines the invalid-field errors of the envelope and the payload into one, so a
// reason names every field at fault at once.
func mergeRejects(errs ...error) error {
	var merged *RejectError
	for _, err := range errs {
		var r *RejectError
		if err == nil || !errors.As(err, &r) {
			if err != nil {
				return err
			}
			continue
		}
		if merged == nil {
			merged = &RejectError{Code: r.Code}
		}
		merged.Fields = append(merged.Fields, r.Fields...)
	}
	if merged == nil {
		return nil
	}
	sort.Slice(merged.Fields, func(i, j int) bool { return merged.Fields[i].Field < merged.Fields[j].Field })
	return merged
}
