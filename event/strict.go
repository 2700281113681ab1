package event

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
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
		c.space()
		if c.i < len(c.src) && c.src[c.i] == ',' {
			c.i++
			continue
		}
		if c.i < len(c.src) && c.src[c.i] == '}' {
			c.i++
			break
		}
		c.bad = true
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
		c.space()
		if c.i < len(c.src) && c.src[c.i] == ',' {
			c.i++
			continue
		}
		if c.i < len(c.src) && c.src[c.i] == ']' {
			c.i++
			break
		}
		c.bad = true
	}
	c.depth--
}

// str walks a string at c.i. With decode, it returns the string unquoted, invalid UTF-8 and lone
// surrogates replaced by U+FFFD as encoding/json replaces them; invalid reports invalid UTF-8 and
// lone is the first lone surrogate escape, as written.
func (c *strictChecker) str(decode bool) (s string, invalid bool, lone string) {
	c.i++ // "
	start := c.i
	var b *strings.Builder // the decoded string, once it differs from the bytes
	flush := func(i int) {
		if decode && b == nil {
			b = &strings.Builder{}
			b.WriteString(c.src[start:i])
		}
	}
	for i := start; i < len(c.src); {
		if b == nil { // the common case: printable ASCII, not " or \, kept as it is
			for i < len(c.src) && plainByte[c.src[i]] {
				i++
			}
			if i == len(c.src) {
				break
			}
		}
		ch := c.src[i]
		switch {
		case ch == '"':
			c.i = i + 1
			if b != nil {
				return b.String(), invalid, lone
			}
			return c.src[start:i], invalid, lone
		case ch < ' ':
			c.bad = true // a control character: invalid JSON
			return "", false, ""
		case ch == '\\':
			flush(i)
			if i+1 >= len(c.src) {
				c.bad = true
				return "", false, ""
			}
			switch e := c.src[i+1]; e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				if b != nil {
					b.WriteByte(unescape(e))
				}
				i += 2
			case 'u':
				r, ok := hex4(c.src, i+2)
				if !ok {
					c.bad = true
					return "", false, ""
				}
				n := 6
				switch {
				case utf16.IsSurrogate(r) && r < 0xdc00:
					if low, ok := hex4(c.src, i+8); ok && c.src[i+6] == '\\' && c.src[i+7] == 'u' && 0xdc00 <= low && low <= 0xdfff {
						r, n = utf16.DecodeRune(r, low), 12
						break
					}
					fallthrough
				case utf16.IsSurrogate(r):
					if lone == "" {
						lone = c.src[i : i+6]
					}
					r = utf8.RuneError
				}
				if b != nil {
					b.WriteRune(r)
				}
				i += n
			default:
				c.bad = true
				return "", false, ""
			}
		case ch < utf8.RuneSelf:
			if b != nil {
				b.WriteByte(ch)
			}
			i++
		default:
			r, n := utf8.DecodeRuneInString(c.src[i:])
			if r == utf8.RuneError && n == 1 {
				invalid = true
				flush(i)
			}
			if b != nil {
				b.WriteRune(r)
			}
			i += n
		}
	}
	c.bad = true // unterminated
	return "", false, ""
}

// unescape returns the byte a one-letter escape stands for.
func unescape(e byte) byte {
	switch e {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return e // ", \ and /
}

// hex4 reads the four hex digits of a \u escape at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, h := range []byte(s[i : i+4]) {
		switch {
		case '0' <= h && h <= '9':
			h -= '0'
		case 'a' <= h && h <= 'f':
			h -= 'a' - 10
		case 'A' <= h && h <= 'F':
			h -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	return r, true
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

// pathOf writes a path as the reasons name fields: member names joined by dots (a root member is
// its name alone), array elements as [i]. Long names and long paths are shortened.
func pathOf(path []segment) string {
	var b strings.Builder
	for _, s := range path {
		if s.name == "" && s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(boundName(s.name))
	}
	return boundPath(b.String())
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(buf[i:])
		}
	}
}

// foldKey returns name in a form that is equal for two names exactly when encoding/json matches
// them to the same field: ASCII letters in lower case, other runes the smallest of their case
// folding orbit (so the Kelvin sign K is k, and ſ is s).
func foldKey(name string) string {
	i := 0
	for i < len(name) {
		if c := name[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			break
		}
		i++
	}
	if i == len(name) {
		return name // lower-case ASCII already: the common case, without a copy
	}
	b := make([]byte, 0, len(name))
	b = append(b, name[:i]...)
	for _, r := range name[i:] {
		if r >= utf8.RuneSelf {
			r = foldRune(r)
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// equalFold reports whether foldKey(a) == foldKey(b), without building either.
func equalFold(a, b string) bool {
	for a != "" && b != "" {
		if ca, cb := a[0], b[0]; ca < utf8.RuneSelf && cb < utf8.RuneSelf {
			if ca != cb && lowerASCII(rune(ca)) != lowerASCII(rune(cb)) {
				return false
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if lowerASCII(foldRune(ra)) != lowerASCII(foldRune(rb)) {
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return a == "" && b == ""
}

func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// foldRune returns the smallest rune of r's case folding orbit, as encoding/json's does.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
