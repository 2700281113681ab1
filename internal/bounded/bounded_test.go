package bounded_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-event-processor/go-event-processor/internal/bounded"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven cha…"},
		{"ab€cd", 3, "ab…"}, // € is 3 bytes: never cut inside it
		{"ab€cd", 5, "ab€…"},
		{"a\xffb", 10, "a\uFFFDb"},
		{"abc", 0, "…"},
		{"abc", -1, "…"},
	} {
		if got := bounded.String(c.in, c.limit); got != c.want {
			t.Errorf("String(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
		}
	}
	long := strings.Repeat("é", 1000) + "\xff"
	got := bounded.String(long, 101)
	if !utf8.ValidString(got) || len(got) > 101+len(bounded.Ellipsis) {
		t.Errorf("String of %d bytes to 101: %d bytes, valid UTF-8 %v", len(long), len(got), utf8.ValidString(got))
	}
}
