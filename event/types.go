package event

import (
	"time"

	"github.com/invopop/validation"
)

// Type names an event's kind; it selects the payload type and the function that persists it.
type Type string

// The event types the pipeline accepts.
const (
	TypeTransaction   Type = "transaction"
	TypeFraudAlert    Type = "fraud_alert"
	TypeAccountStatus Type = "account_status"
	TypeAccountCheck  Type = "account_check"
)

// Types lists every accepted type, in the order the router invokes their functions: events that
// change account state first, so that transactions in the same batch see them.
var Types = []Type{TypeAccountStatus, TypeFraudAlert, TypeAccountCheck, TypeTransaction}

// Payload is the typed content of an event's data attribute.
type Payload interface {
	// Account returns the account the event belongs to; it is the partition key and the subject.
	Account() string
	// Validate checks the payload's own rules; errors are validation.Errors keyed by JSON name.
	Validate() error
}

// newPayload returns an empty payload for t, or nil when t is unknown.
func newPayload(t Type) Payload {
	switch t {
	case TypeTransaction:
		return &Transaction{}
	case TypeFraudAlert:
		return &FraudAlert{}
	case TypeAccountStatus:
		return &AccountStatus{}
	case TypeAccountCheck:
		return &AccountCheck{}
	}
	return nil
}

// Actions an account can have blocked. A transaction is blocked when its direction or its
// channel is among the account's blocked actions at the transaction's time.
const (
	ActionDebit    = "debit"
	ActionCredit   = "credit"
	ActionCard     = "card"
	ActionATM      = "atm"
	ActionTransfer = "transfer"
	ActionOnline   = "online"
)

// AllActions is every action a freeze can block; a freeze that names none blocks them all.
var AllActions = []string{ActionDebit, ActionCredit, ActionCard, ActionATM, ActionTransfer, ActionOnline}

// Severity levels of fraud alerts, which are also the account monitoring levels, lowest first.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Severities lists the severity levels, lowest first; a level's rank is its index plus one.
var Severities = []string{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// SeverityRank returns 1 for low up to 4 for critical, and 0 for anything else.
func SeverityRank(s string) int {
	for i, v := range Severities {
		if v == s {
			return i + 1
		}
	}
	return 0
}

// isIdentifier requires the shape of account and customer ids.
var isIdentifier = identifier.rule("must be " + identifierShape)

// identifierShape is the shape of account and customer ids, for reasons.
const identifierShape = "1 to 64 letters, digits or _.:- starting with a letter or digit"

// idRules are the rules of a required identifier; optionalIDRules of one that may be absent.
var (
	idRules         = rules(validation.Required.Error("is required: "+identifierShape), isIdentifier)
	optionalIDRules = rules(isIdentifier)
)

// scoreRules keep a score within 0 to 100.
var scoreRules = rules(
	validation.Min(0).Error("must be between 0 and 100"),
	validation.Max(100).Error("must be between 0 and 100"),
)

// validTime rejects the zero time and times no bank system produces.
func validTime(t time.Time) bool { return t.Year() >= 1970 && t.Year() < 3000 }

// isUUID requires a UUID in its canonical text form: is.UUID, matched without its regular expression,
// with is.ErrUUID's code (importing is would link govalidator and its regular expressions).
var isUUID = validation.NewStringRuleWithError(isCanonicalUUID, validation.NewError("validation_is_uuid", "must be "+uuidShape))

// uuidShape is the shape isUUID requires, for reasons.
const uuidShape = "a UUID in lower-case hex, 8-4-4-4-12, such as 4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c"

// required is validation.Required with a reason that says what the field holds.
func required(holds string) validation.Rule {
	return validation.Required.Error("is required: " + holds)
}

// isSeverity requires one of the severity levels.
var isSeverity = oneOf("must be low, medium, high or critical", Severities...)

// timeKeyLayout has a fixed width, so that time keys sort as the times do.
const timeKeyLayout = "2006-01-02T15:04:05.000000000Z"

// TimeKey formats t in UTC with fixed width: string order is time order. Keys and sort keys
// that hold times use it.
func TimeKey(t time.Time) string { return t.UTC().Format(timeKeyLayout) }
