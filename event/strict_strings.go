package event

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Strings of the strict check: escapes, UTF-8 and surrogates, read as encoding/json reads them.

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
