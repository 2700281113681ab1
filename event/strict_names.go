package event

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names of the strict check: paths as reasons write them, and member names folded as
// encoding/json matches them to fields.

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
