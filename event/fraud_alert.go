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

// The rules of a fraud alert's fields.
var (
	alertTransactionIDRules = rules(isUUID)
	reasonRules             = rules(required("1 to 500 characters"), validation.Length(1, 500).Error("must be 1 to 500 characters"))
	severityRules           = rules(required("low, medium, high or critical"), isSeverity)
	recommendedActionRules  = rules(required("monitor or freeze"), oneOf("must be monitor or freeze", RecommendMonitor, RecommendFreeze))
)

// Validate checks the alert's rules.
func (f *FraudAlert) Validate() error {
	var errs fieldErrors
	errs.check("accountId", f.AccountID, idRules)
	errs.check("customerId", f.CustomerID, optionalIDRules)
	errs.check("transactionId", f.TransactionID, alertTransactionIDRules)
	errs.check("score", f.Score, scoreRules)
	errs.check("reason", f.Reason, reasonRules)
	errs.check("severity", enum(f.Severity), severityRules)
	errs.check("recommendedAction", enum(f.RecommendedAction), recommendedActionRules)
	return errs.err()
}
