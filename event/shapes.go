package event

import "github.com/invopop/validation"

// The shapes of identifiers, tenants, codes and UUIDs are matched byte by byte: a regular
// expression took a quarter of the time of a record. Each shape's regular expression is in its
// comment; shapes_test.go checks them against each other.

// shape is a pattern of the form ^[first][rest]{min-1,max-1}$ over ASCII.
type shape struct {
	first, rest *[256]bool
	min, max    int // length in bytes; max 0 is no limit
}

// match reports whether s has the shape.
func (sh shape) match(s string) bool {
	if len(s) < sh.min || sh.max > 0 && len(s) > sh.max || len(s) == 0 {
		return false
	}
	if !sh.first[s[0]] {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !sh.rest[s[i]] {
			return false
		}
	}
	return true
}

// rule is validation.Match of the shape's regular expression, with message: an empty string is
// valid, use Required to forbid it.
func (sh shape) rule(message string) validation.Rule {
	return validation.NewStringRuleWithError(sh.match, validation.ErrMatchInvalid.SetMessage(message))
}

// class is a character class: each argument is one byte, or a range such as "a-z".
func class(members ...string) *[256]bool {
	var c [256]bool
	for _, m := range members {
		if len(m) == 3 && m[1] == '-' {
			for b := int(m[0]); b <= int(m[2]); b++ {
				c[b] = true
			}
		} else {
			for i := 0; i < len(m); i++ {
				c[m[i]] = true
			}
		}
	}
	return &c
}

var (
	// printable: ^[\x21-\x7e]+$, an event id or source without spaces or control characters.
	printable = shape{first: class("!-~"), rest: class("!-~"), min: 1}
	// tenantShape: ^[a-z0-9][a-z0-9-]{0,62}$; a tenant is part of every key, so it is kept simple.
	tenantShape = shape{first: class("a-z", "0-9"), rest: class("a-z", "0-9", "-"), min: 1, max: 63}
	// identifier: ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$, account and customer ids: UUIDs fit, and so
	// do core-banking ids.
	identifier = shape{first: class("A-Z", "a-z", "0-9"), rest: class("A-Z", "a-z", "0-9", "_.:-"), min: 1, max: 64}
	// mcc: ^[0-9]{4}$, a merchant category code.
	mcc = shape{first: class("0-9"), rest: class("0-9"), min: 4, max: 4}
	// country: ^[A-Z]{2}$, an ISO 3166-1 alpha-2 code.
	country = shape{first: class("A-Z"), rest: class("A-Z"), min: 2, max: 2}
)

// hexDigit is [0-9a-f].
var hexDigit = class("0-9", "a-f")

// isCanonicalUUID matches ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$, the
// pattern of is.UUID (govalidator.IsUUID).
func isCanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !hexDigit[s[i]] {
				return false
			}
		}
	}
	return true
}
