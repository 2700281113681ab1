package event

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/invopop/validation/is"
)

// TestShapesAreTheirPatterns checks each shape against the regular expression in its comment, on
// edge cases and on random strings over the bytes that matter.
func TestShapesAreTheirPatterns(t *testing.T) {
	shapes := []struct {
		name    string
		match   func(string) bool
		pattern string
	}{
		{"printable", printable.match, `^[\x21-\x7e]+$`},
		{"tenant", tenantShape.match, `^[a-z0-9][a-z0-9-]{0,62}$`},
		{"identifier", identifier.match, `^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`},
		{"mcc", mcc.match, `^[0-9]{4}$`},
		{"country", country.match, `^[A-Z]{2}$`},
		{"uuid", isCanonicalUUID, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`},
	}
	edges := []string{"", "a", "-a", "a-", "A", "0", "5411", "541", "54111", "IE", "ie", "IEE", "a b", "a\n", "\na",
		"acc-1", "acc_1.x:y", "_acc", "é", "a\x7f", "a\x20", "~!", "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c",
		"4B0E2C8D-5A3F-4F1E-8C2B-9D7E6F5A4B3C", "4b0e2c8d5a3f-4f1e-8c2b-9d7e6f5a4b3c-", "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3g"}
	for _, n := range []int{62, 63, 64, 65, 200} {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a'
		}
		edges = append(edges, string(b))
	}
	alphabet := []byte("aAzZ09-_.:~!\x20\x7f\x00\n\xc3\xa9fF")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		re := regexp.MustCompile(s.pattern)
		check := func(v string) {
			if got, want := s.match(v), re.MatchString(v); got != want {
				t.Errorf("%s(%q) = %v, its pattern says %v", s.name, v, got, want)
			}
		}
		for _, v := range edges {
			check(v)
		}
		for range 20000 {
			b := make([]byte, rng.IntN(70))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			if s.name == "uuid" && len(b) > 0 {
				b = []byte("4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c")
				b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
			}
			check(string(b))
		}
	}
	for _, v := range edges {
		if v != "" && isCanonicalUUID(v) != (is.UUID.Validate(v) == nil) {
			t.Errorf("isCanonicalUUID(%q) differs from is.UUID", v)
		}
	}
}
