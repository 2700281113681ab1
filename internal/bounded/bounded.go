// Package bounded cuts values read from untrusted records to a size that logs, reasons and
// DynamoDB items can hold.
package bounded

import (
	"strings"
	"unicode/utf8"
)

// Ellipsis ends a string that String cut.
const Ellipsis = "…"

// String returns s as valid UTF-8 (invalid bytes become U+FFFD) of at most limit bytes, plus
// Ellipsis when it was cut. The cut falls on a character boundary.
func String(s string, limit int) string {
	if len(s) <= limit {
		if utf8.ValidString(s) {
			return s
		}
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	cut := max(limit, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "\uFFFD") + Ellipsis
}
