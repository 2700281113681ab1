package event

import (
	"slices"
	"strings"
)

// The strict check: what encoding/json would read loosely, refused before it reads anything.
// encoding/json lets the last of two members with one name win (and matches names regardless of
// case, so "tenant" and "TENANT" are one member to it), and replaces invalid UTF-8 and lone
// surrogate escapes with U+FFFD. A record whose parts two readers can read differently is refused
// instead: walkStrict is one pass over the bytes, which also checks the syntax, so that a record
// that is not JSON at all is left to encoding/json and its messages (CodeNotJSON).

// Problems of the strict check.
const (
	problemDuplicate   = "appears more than once; each member name may appear only once (RFC 7493 I-JSON)"
	problemUTF8        = "is not valid UTF-8; JSON text must be UTF-8 (RFC 8259)"
	problemNameUTF8    = "has a member name that is not valid UTF-8; JSON text must be UTF-8 (RFC 8259)"
	problemSurrogate   = "holds a lone surrogate %s; a \\u escape of U+D800–U+DFFF must be a high surrogate followed by a low one"
	problemNameSurr    = "has a member name that holds a lone surrogate %s; a \\u escape of U+D800–U+DFFF must be a high surrogate followed by a low one"
	problemFoldedMatch = "is the same member as %s to the decoder, which matches names regardless of case; each member name may appear only once (RFC 7493 I-JSON)"
)

// maxDepth is encoding/json's limit on nesting; deeper records are not JSON to it.
const maxDepth = 10000

// linearMembers is how many members of an object are compared one by one before the object's
// names go into a map.
const linearMembers = 16

// strictError is what walkStrict found: a RejectError naming every problem, sorted by path, each
// once; nil when it found nothing, or when raw is not a JSON object at all.
func strictError(raw []byte) error {
	c := walkStrict(raw, false)
	if c == nil || len(c.fields) == 0 {
		return nil
	}
	sortFields(c.fields)
	kept := c.fields[:0]
	for i, f := range c.fields {
		if i == 0 || f != c.fields[i-1] {
			kept = append(kept, f)
		}
	}
	return &RejectError{Code: CodeInvalid, Fields: kept}
}

// peekedNames are the root members Peek reads, folded.
var peekedNames = []string{"tenant", "client", "id", "type"}

// repeatedPeekedNames returns which of peekedNames appear more than once at the root of raw.
func repeatedPeekedNames(raw []byte) []string {
	if c := walkStrict(raw, true); c != nil {
		return c.rootRepeats
	}
	return nil
}

// walkStrict checks raw for duplicate member names (at any depth, compared as encoding/json
// matches them), invalid UTF-8 and lone surrogate escapes, and returns the walk, or nil when raw
// is not a JSON object, leaving the reason to encoding/json. With quiet, it only notes
// rootRepeats.
func walkStrict(raw []byte, quiet bool) *strictChecker {
	var pathBuf [8]segment
	var namesBuf [32]string
	c := &strictChecker{src: string(raw), quiet: quiet, path: pathBuf[:0], names: namesBuf[:0]}
	c.space()
	if c.i >= len(c.src) || c.src[c.i] != '{' {
		return nil
	}
	c.value()
	c.space()
	if c.bad || c.i != len(c.src) {
		return nil
	}
	return c
}

// strictChecker walks the bytes of a record. bad is a syntax error: the walk stops, and the
// record is left to encoding/json.
type strictChecker struct {
	src         string
	i           int
	bad         bool
	quiet       bool // report nothing
	depth       int
	path        []segment // where the walk is: the member names and array indexes from the root
	names       []string  // the member names of the objects being walked, innermost last
	fields      []FieldError
	rootRepeats []string // those of peekedNames repeated at the root
}

// segment is one step of a path: a member name, or an array index when name is empty and index
// is not negative.
type segment struct {
	name  string
	index int
}

func (c *strictChecker) space() {
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// value walks one JSON value at c.i.
func (c *strictChecker) value() {
	c.space()
	if c.i >= len(c.src) {
		c.bad = true
		return
	}
	switch b := c.src[c.i]; {
	case b == '{':
		c.object()
	case b == '[':
		c.array()
	case b == '"':
		if _, invalid, lone := c.str(false); invalid {
			c.report(problemUTF8)
		} else if lone != "" {
			c.report(strings.Replace(problemSurrogate, "%s", lone, 1))
		}
	case b == '-' || '0' <= b && b <= '9':
		c.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if strings.HasPrefix(c.src[c.i:], lit) {
				c.i += len(lit)
				return
			}
		}
		c.bad = true
	}
}

func (c *strictChecker) object() {
	if c.depth++; c.depth > maxDepth {
		c.bad = true
		return
	}
	c.i++ // {
	start := len(c.names)
	var big map[string]string // folded name → name, once the object has many members
	c.space()
	if c.i < len(c.src) && c.src[c.i] == '}' {
		c.i++
		c.depth--
		return
	}
	for !c.bad {
		c.space()
		if c.i >= len(c.src) || c.src[c.i] != '"' {
			c.bad = true
			break
		}
		name, invalid, lone := c.str(true)
		c.space()
		if c.i >= len(c.src) || c.src[c.i] != ':' {
			c.bad = true
			break
		}
		c.i++
		c.path = append(c.path, segment{name: name, index: -1})
		switch {
		case invalid:
			c.report(problemNameUTF8)
		case lone != "":
			c.report(strings.Replace(problemNameSurr, "%s", lone, 1))
		}
		// A repeated name: compared as encoding/json matches names to fields. A small object's
		// names are compared one by one, a large one's folded into a map.
		earlier, seen := "", false
		if big != nil {
			earlier, seen = big[foldKey(name)]
		} else {
			for _, m := range c.names[start:] {
				if m == name || equalFold(m, name) {
					earlier, seen = m, true
					break
				}
			}
		}
		switch {
		case !seen && big != nil:
			big[foldKey(name)] = name
		case !seen:
			c.names = append(c.names, name)
			if len(c.names)-start > linearMembers {
				big = make(map[string]string, 2*linearMembers)
				for _, m := range c.names[start:] {
					big[foldKey(m)] = m
				}
				c.names = c.names[:start]
			}
		case earlier == name:
			c.report(problemDuplicate)
		default:
			c.report(strings.Replace(problemFoldedMatch, "%s", quoteValue(earlier), 1))
		}
		if seen && c.depth == 1 {
			if folded := foldKey(name); slices.Contains(peekedNames, folded) && !slices.Contains(c.rootRepeats, folded) {
				c.rootRepeats = append(c.rootRepeats, folded)
			}
		}
		c.value()
		c.path = c.path[:len(c.path)-1]
		if !c.next('}') {
			break
		}
	}
	c.names = c.names[:start]
	c.depth--
}

func (c *strictChecker) array() {
	if c.depth++; c.depth > maxDepth {
		c.bad = true
		return
	}
	c.i++ // [
	c.space()
	if c.i < len(c.src) && c.src[c.i] == ']' {
		c.i++
		c.depth--
		return
	}
	for n := 0; !c.bad; n++ {
		c.path = append(c.path, segment{index: n})
		c.value()
		c.path = c.path[:len(c.path)-1]
		if !c.next(']') {
			break
		}
	}
	c.depth--
}

// next reads what follows a member or an element: a comma (true: another follows) or end (false).
// Anything else makes the record not JSON.
func (c *strictChecker) next(end byte) bool {
	c.space()
	if c.i < len(c.src) && c.src[c.i] == ',' {
		c.i++
		return true
	}
	if c.i < len(c.src) && c.src[c.i] == end {
		c.i++
		return false
	}
	c.bad = true
	return false
}

// number walks a JSON number.
func (c *strictChecker) number() {
	if c.src[c.i] == '-' {
		c.i++
	}
	start := c.i
	if !c.digits() {
		return
	}
	if c.i-start > 1 && c.src[start] == '0' {
		c.bad = true // a leading zero
		return
	}
	if c.i < len(c.src) && c.src[c.i] == '.' {
		c.i++
		if !c.digits() {
			return
		}
	}
	if c.i < len(c.src) && (c.src[c.i] == 'e' || c.src[c.i] == 'E') {
		c.i++
		if c.i < len(c.src) && (c.src[c.i] == '+' || c.src[c.i] == '-') {
			c.i++
		}
		c.digits()
	}
}

func (c *strictChecker) digits() bool {
	start := c.i
	for c.i < len(c.src) && '0' <= c.src[c.i] && c.src[c.i] <= '9' {
		c.i++
	}
	if c.i == start {
		c.bad = true
		return false
	}
	return true
}

// report records a problem at the current path.
func (c *strictChecker) report(problem string) {
	if c.quiet {
		return
	}
	c.fields = append(c.fields, FieldError{Field: pathOf(c.path), Problem: problem})
}
