package event

import "github.com/invopop/validation"

// Recommended actions of a fraud alert.
const (
	RecommendMonitor = "monitor"
	RecommendFreeze  = "freeze"
)

// FraudAlert is fraud monitoring's verdict on an account. Its effect: the account's monitoring
// level rises to the alert's severity; with recommendedAction freeze, debits are blocked too.
type FraudAlert struct {
	AccountID         string `json:"accountId"`
	CustomerID        string `json:"customerId,omitempty"`
	TransactionID     string `json:"transactionId,omitempty" jsonschema:"format=uuid"`
	Score             int    `json:"score" jsonschema:"minimum=0,maximum=100"`
	Reason            string `json:"reason"`
	Severity          string `json:"severity" jsonschema:"enum=low,enum=medium,enum=high,enum=critical"`
	RecommendedAction string `json:"recommendedAction" jsonschema:"enum=monitor,enum=freeze"`
}

// Account returns the account the alert is about.
func (f *FraudAlert) Account() string { return f.AccountID }

// Validate checks the alert's rules.
func (f *FraudAlert) Validate() error {
	return validation.ValidateStruct(f,
		validation.Field(&f.AccountID, idRules...),
		validation.Field(&f.CustomerID, validation.Match(identifier).Error("must be 1 to 64 letters, digits or _.:- starting with a letter or digit")),
		validation.Field(&f.TransactionID, isUUID),
		validation.Field(&f.Score, scoreRules...),
		validation.Field(&f.Reason, validation.Required, validation.Length(1, 500)),
		validation.Field(&f.Severity, validation.Required, validation.In(Severities...).Error("must be low, medium, high or critical")),
		validation.Field(&f.RecommendedAction, validation.Required, validation.In(RecommendMonitor, RecommendFreeze).Error("must be monitor or freeze")),
	)
}
