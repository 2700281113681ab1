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

// Validate checks the check's rules.
func (c *AccountCheck) Validate() error {
	return validation.ValidateStruct(c,
		validation.Field(&c.AccountID, idRules...),
		validation.Field(&c.CustomerID, validation.Match(identifier).Error("must be 1 to 64 letters, digits or _.:- starting with a letter or digit")),
		validation.Field(&c.Check, validation.Required, validation.In(CheckKYC, CheckBalance, CheckFraudScreen, CheckSanctions).Error("must be kyc, balance, fraud_screen or sanctions")),
		validation.Field(&c.Outcome, validation.Required, validation.In(OutcomePass, OutcomeReview, OutcomeFail).Error("must be pass, review or fail")),
		validation.Field(&c.Score, scoreRules...),
		validation.Field(&c.Details, validation.Length(0, 500)),
	)
}
