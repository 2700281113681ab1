package event

import (
	"strconv"
	"unicode/utf8"
)

// scanner reads the plain JSON decodeFast accepts. A method that meets anything else sets bad;
// once bad is set, results are meaningless and the caller gives up.
type scanner struct {
	src string
	i   int
	bad bool
}

// once marks a field as seen, and gives up on a field seen before.
func (s *scanner) once(seen *uint, bit uint) {
	if *seen&bit != 0 {
		s.bad = true
	}
	*seen |= bit
}

// space skips JSON whitespace.
func (s *scanner) space() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// open reads the start of an object and reports whether it has a first member.
func (s *scanner) open(c byte) bool {
	s.space()
	if s.i >= len(s.src) || s.src[s.i] != c {
		s.bad = true
		return false
	}
	s.i++
	s.space()
	if s.i < len(s.src) && s.src[s.i] == '}' {
		s.i++
		return false
	}
	return true
}

// next reads what follows a member: a comma (true, another member follows) or the end of the
// object, end (false).
func (s *scanner) next(end byte) bool {
	s.space()
	if s.i < len(s.src) {
		switch s.src[s.i] {
		case ',':
			s.i++
			return true
		case end:
			s.i++
			return false
		}
	}
	s.bad = true
	return false
}

// key reads a member's name and the colon after it.
func (s *scanner) key() string {
	s.space()
	k := s.str()
	s.space()
	if s.i >= len(s.src) || s.src[s.i] != ':' {
		s.bad = true
		return ""
	}
	s.i++
	s.space()
	return k
}

// plainByte marks the bytes a string can hold as they are: not a quote, a backslash, a control
// character or the start of a multi-byte UTF-8 sequence.
var plainByte = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string without escape sequences, of valid UTF-8, and returns it unquoted: what
// encoding/json decodes it to.
func (s *scanner) str() string {
	if s.i >= len(s.src) || s.src[s.i] != '"' {
		s.bad = true
		return ""
	}
	start, ascii := s.i+1, true
	for i := start; i < len(s.src); i++ {
		c := s.src[i]
		if plainByte[c] {
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			v := s.src[start:i]
			if !ascii && !utf8.ValidString(v) {
				s.bad = true // decodeJSON refuses invalid bytes and says why
			}
			return v
		case c >= utf8.RuneSelf:
			ascii = false
		default:
			s.bad = true // an escape (or invalid JSON): encoding/json decides
			return ""
		}
	}
	s.bad = true
	return ""
}

// strings reads an array of strings; an empty array is an empty, non-nil slice, as encoding/json
// decodes it.
func (s *scanner) strings() []string {
	s.space()
	if s.i >= len(s.src) || s.src[s.i] != '[' {
		s.bad = true
		return nil
	}
	s.i++
	s.space()
	if s.i < len(s.src) && s.src[s.i] == ']' {
		s.i++
		return []string{}
	}
	var out []string
	for more := true; more && !s.bad; more = s.next(']') {
		s.space()
		out = append(out, s.str())
	}
	return out
}

// integer returns the text of an integer: a JSON number without fraction or exponent.
func (s *scanner) integer() string {
	start := s.i
	if s.i < len(s.src) && s.src[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.src) && '0' <= s.src[s.i] && s.src[s.i] <= '9' {
		s.i++
	}
	n := s.i - digits
	if n == 0 || n > 1 && s.src[digits] == '0' {
		s.bad = true // not a number, or a leading zero (invalid JSON)
		return ""
	}
	if s.i < len(s.src) {
		switch s.src[s.i] {
		case '.', 'e', 'E':
			s.bad = true // a fraction or exponent: encoding/json refuses it for an integer field
			return ""
		}
	}
	return s.src[start:s.i]
}

func (s *scanner) int64() int64 {
	n, err := strconv.ParseInt(s.integer(), 10, 64)
	if err != nil {
		s.bad = true
	}
	return n
}

func (s *scanner) int() int {
	n, err := strconv.ParseInt(s.integer(), 10, strconv.IntSize)
	if err != nil {
		s.bad = true
	}
	return int(n)
}

// skipObject skips an object, checking it is valid JSON.
func (s *scanner) skipObject() {
	for more := s.open('{'); more && !s.bad; more = s.next('}') {
		s.key()
		s.skip()
	}
}

// skip skips a JSON value, checking it is valid JSON. Strings with escapes or invalid UTF-8 are
// given up on, as str does.
func (s *scanner) skip() {
	s.space()
	if s.i >= len(s.src) {
		s.bad = true
		return
	}
	switch c := s.src[s.i]; {
	case c == '{':
		s.skipObject()
	case c == '[':
		s.i++
		s.space()
		if s.i < len(s.src) && s.src[s.i] == ']' {
			s.i++
			return
		}
		for more := true; more && !s.bad; more = s.next(']') {
			s.skip()
		}
	case c == '"':
		s.str()
	case c == '-' || '0' <= c && c <= '9':
		s.number()
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(s.src)-s.i >= len(lit) && s.src[s.i:s.i+len(lit)] == lit {
				s.i += len(lit)
				return
			}
		}
		s.bad = true
	}
}

// number skips a JSON number.
func (s *scanner) number() {
	if s.i < len(s.src) && s.src[s.i] == '-' {
		s.i++
	}
	start := s.i
	if !s.digits() {
		return
	}
	if s.i-start > 1 && s.src[start] == '0' {
		s.bad = true // a leading zero
		return
	}
	if s.i < len(s.src) && s.src[s.i] == '.' {
		s.i++
		if !s.digits() {
			return
		}
	}
	if s.i < len(s.src) && (s.src[s.i] == 'e' || s.src[s.i] == 'E') {
		s.i++
		if s.i < len(s.src) && (s.src[s.i] == '+' || s.src[s.i] == '-') {
			s.i++
		}
		s.digits()
	}
}

// digits reads one or more digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.src) && '0' <= s.src[s.i] && s.src[s.i] <= '9' {
		s.i++
	}
	if s.i == start {
		s.bad = true
		return false
	}
	return true
}
