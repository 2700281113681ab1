package event

import "github.com/invopop/validation"

// Kinds of account check and their outcomes.
const (
	CheckKYC         = "kyc"
	CheckBalance     = "balance"
	CheckFraudScreen = "fraud_screen"
	CheckSanctions   = "sanctions"

	OutcomePass   = "pass"
	OutcomeReview = "review"
	OutcomeFail   = "fail"
)

// AccountCheck records that a check was run on an account and what it found (the prototype's
// check_account). It has no effect on account state.
type AccountCheck struct {
	AccountID  string `json:"accountId"`
	CustomerID string `json:"customerId,omitempty"`
	Check      string `json:"check" jsonschema:"enum=kyc,enum=balance,enum=fraud_screen,enum=sanctions"`
	Outcome    string `json:"outcome" jsonschema:"enum=pass,enum=review,enum=fail"`
	Score      *int   `json:"score,omitempty" jsonschema:"minimum=0,maximum=100"`
	Details    string `json:"details,omitempty"`
}

// Account returns the account that was checked.
func (c *AccountCheck) Account() string { return c.AccountID }

// The rules of an account check's fields.
var (
	checkRules   = rules(required("kyc, balance, fraud_screen or sanctions"), oneOf("must be kyc, balance, fraud_screen or sanctions", CheckKYC, CheckBalance, CheckFraudScreen, CheckSanctions))
	outcomeRules = rules(required("pass, review or fail"), oneOf("must be pass, review or fail", OutcomePass, OutcomeReview, OutcomeFail))
	detailsRules = rules(validation.Length(0, 500).Error("must be at most 500 characters"))
)

// Validate checks the check's rules.
func (c *AccountCheck) Validate() error {
	var f fieldErrors
	f.check("accountId", c.AccountID, idRules)
	f.check("customerId", c.CustomerID, optionalIDRules)
	f.check("check", enum(c.Check), checkRules)
	f.check("outcome", enum(c.Outcome), outcomeRules)
	f.check("score", optional(c.Score), scoreRules)
	f.check("details", c.Details, detailsRules)
	return f.err()
}
