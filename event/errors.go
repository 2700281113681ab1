package event

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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

// FieldError is one rule broken by one field. Field is the JSON path from the record's root in the
// record's own names: member names joined by dots ("data.amount"; a member of the root is its
// name alone), array elements by index ("data.blockedActions[1]"). Problem says what is allowed,
// and quotes at most a short prefix of the value it refuses.
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

// maxErrorBytes bounds RejectError.Error: a record may break hundreds of rules, and its reason is
// stored and logged.
const maxErrorBytes = 1 << 10

// Error reads as a reason a person can act on, naming the fields at fault in path order. It is at
// most 1 KiB and a short suffix: when the fields would make it longer, it stops at the last whole
// field that fits and ends with "; … and N more" (Fields holds them all).
func (e *RejectError) Error() string {
	if len(e.Fields) == 0 {
		return cut(e.Code+": "+e.Detail, maxErrorBytes)
	}
	var b strings.Builder
	b.WriteString(e.Code)
	b.WriteString(": ")
	for i, f := range e.Fields {
		sep := "; "
		if i == 0 {
			sep = ""
		}
		if n := len(sep) + len(f.Field) + 1 + len(f.Problem); b.Len()+n > maxErrorBytes {
			if i == 0 { // not even one field fits: a part of it
				b.WriteString(cut(f.Field+" "+f.Problem, maxErrorBytes-b.Len()))
				i++
			}
			if rest := len(e.Fields) - i; rest > 0 {
				b.WriteString("; … and ")
				b.WriteString(strconv.Itoa(rest))
				b.WriteString(" more")
			}
			break
		}
		b.WriteString(sep)
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
	sortFields(fields)
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
		if isIndex(name) { // validation.Each names an element by its index
			flatten(path+"["+name+"]", e, out)
		} else {
			flatten(join(path, name), e, out)
		}
	}
}

// isIndex reports whether name is an array index: the payloads' member names never are.
func isIndex(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return false
		}
	}
	return name != ""
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// sortFields sorts fields by path, stably, with array indexes in numeric order ([2] before [10]).
func sortFields(fields []FieldError) {
	slices.SortStableFunc(fields, func(a, b FieldError) int { return comparePaths(a.Field, b.Field) })
}

// comparePaths orders paths byte by byte, except that runs of digits compare as numbers.
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			i, j := digitRun(a), digitRun(b)
			da, db := strings.TrimLeft(a[:i], "0"), strings.TrimLeft(b[:j], "0")
			if len(da) != len(db) {
				return len(da) - len(db)
			}
			if c := strings.Compare(da, db); c != 0 {
				return c
			}
			if i != j { // the same number, with other leading zeros
				return i - j
			}
			a, b = a[i:], b[j:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitRun(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// Values echoed into a reason are bounded: a record of 64 KiB may hold a type, a time or a name
// of almost as much.
const (
	maxQuotedBytes = 64  // of a value quoted in a reason
	maxPathBytes   = 256 // of a field's path
)

// cut returns s cut to at most max bytes on a UTF-8 boundary, with "…" appended when it was cut.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len("…")
	if n < 0 {
		n = 0
	}
	for back := 0; back < utf8.UTFMax-1 && n > 0 && !utf8.RuneStart(s[n]); back++ {
		n--
	}
	return s[:n] + "…"
}

// prefixOf is the first maxQuotedBytes bytes of s, cut on a UTF-8 boundary, and whether s was cut.
func prefixOf(s string) (string, bool) {
	if len(s) <= maxQuotedBytes {
		return s, false
	}
	n := maxQuotedBytes
	for back := 0; back < utf8.UTFMax-1 && !utf8.RuneStart(s[n]); back++ {
		n--
	}
	return s[:n], true
}

// quoteValue quotes a value for a reason: at most maxQuotedBytes of it, with "…" after the quote
// when it was cut.
func quoteValue(s string) string {
	p, cutOff := prefixOf(s)
	if cutOff {
		return strconv.Quote(p) + "…"
	}
	return strconv.Quote(p)
}

// boundText is quoteValue for text that is shown as it is, such as a number.
func boundText(s string) string {
	p, cutOff := prefixOf(s)
	if cutOff {
		return p + "…"
	}
	return p
}

// boundName is a member name as a path shows it: valid UTF-8 (invalid bytes as U+FFFD), at most
// maxQuotedBytes of it, "" shown as "".
func boundName(name string) string {
	if name == "" {
		return `""`
	}
	return boundText(strings.ToValidUTF8(name, "\uFFFD"))
}

// boundPath shortens a path longer than maxPathBytes by leaving out its middle.
func boundPath(p string) string {
	if len(p) <= maxPathBytes {
		return p
	}
	head, tail := maxPathBytes/2, len(p)-maxPathBytes/2
	for back := 0; back < utf8.UTFMax-1 && !utf8.RuneStart(p[head]); back++ {
		head--
	}
	for fwd := 0; fwd < utf8.UTFMax-1 && tail < len(p) && !utf8.RuneStart(p[tail]); fwd++ {
		tail++
	}
	return p[:head] + "…" + p[tail:]
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
	sortFields(merged.Fields)
	return merged
}
