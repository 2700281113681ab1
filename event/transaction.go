package event

import (
	"github.com/invopop/validation"
)

// Transaction is a card or account movement reported by the card authorizer or the core banking
// application. Amount is in the currency's minor units (cents for EUR). Amount, currency and
// direction come together; a transaction without them is a screening record, the shape the
// original prototype sent.
type Transaction struct {
	TransactionID string    `json:"transactionId" jsonschema:"format=uuid"`
	AccountID     string    `json:"accountId"`
	CustomerID    string    `json:"customerId"`
	Amount        *int64    `json:"amount,omitempty" jsonschema:"minimum=1"`
	Currency      string    `json:"currency,omitempty" jsonschema:"pattern=^[A-Z]{3}$"`
	Direction     string    `json:"direction,omitempty" jsonschema:"enum=debit,enum=credit"`
	Channel       string    `json:"channel,omitempty" jsonschema:"enum=card,enum=atm,enum=transfer,enum=online"`
	Merchant      *Merchant `json:"merchant,omitempty"`
	FraudScore    *int      `json:"fraudScore,omitempty" jsonschema:"minimum=0,maximum=100"`
}

// Merchant is where a card transaction took place.
type Merchant struct {
	Name     string `json:"name"`
	MCC      string `json:"mcc,omitempty" jsonschema:"pattern=^[0-9]{4}$"`
	Country  string `json:"country,omitempty" jsonschema:"pattern=^[A-Z]{2}$"`
	Terminal string `json:"terminal,omitempty"`
}

// Account returns the account the transaction moves money on.
func (t *Transaction) Account() string { return t.AccountID }

// Validate checks the transaction's rules.
func (t *Transaction) Validate() error {
	money := t.Amount != nil || t.Currency != "" || t.Direction != ""
	return validation.ValidateStruct(t,
		validation.Field(&t.TransactionID, validation.Required, isUUID),
		validation.Field(&t.AccountID, idRules...),
		validation.Field(&t.CustomerID, idRules...),
		validation.Field(&t.Amount, validation.When(money, validation.NotNil.Error("is required with currency and direction")), validation.By(positiveAmount)),
		validation.Field(&t.Currency, validation.When(money, validation.Required.Error("is required with amount and direction")), validation.In(currencies...).Error("must be an ISO 4217 currency code")),
		validation.Field(&t.Direction, validation.When(money, validation.Required.Error("is required with amount and currency")), validation.In(ActionDebit, ActionCredit).Error("must be debit or credit")),
		validation.Field(&t.Channel, validation.In(ActionCard, ActionATM, ActionTransfer, ActionOnline).Error("must be card, atm, transfer or online")),
		validation.Field(&t.Merchant),
		validation.Field(&t.FraudScore, scoreRules...),
	)
}

// Validate checks the merchant's rules.
func (m Merchant) Validate() error {
	return validation.ValidateStruct(&m,
		validation.Field(&m.Name, validation.Required, validation.Length(1, 128)),
		validation.Field(&m.MCC, validation.Match(mcc).Error("must be a 4-digit merchant category code")),
		validation.Field(&m.Country, validation.Match(country).Error("must be an ISO 3166-1 alpha-2 code")),
		validation.Field(&m.Terminal, validation.Length(0, 64)),
	)
}

// positiveAmount rejects zero and negative amounts (Min alone lets zero through as "empty").
func positiveAmount(v any) error {
	if a, ok := v.(*int64); ok && a != nil && *a < 1 {
		return validation.NewError("validation_amount", "must be at least 1 minor unit")
	}
	return nil
}
