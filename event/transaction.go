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
	Amount        *int64    `json:"amount,omitempty" jsonschema:"minimum=1,maximum=9007199254740991"`
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

// The rules of a transaction's fields. Amount, currency and direction come together: when one is
// present the others are required (the "money" variants).
var (
	transactionIDRules = rules(required(uuidShape), isUUID)
	amountRules        = rules(validation.By(positiveAmount))
	moneyAmountRules   = rules(validation.NotNil.Error("is required with currency and direction: "+amountRange), validation.By(positiveAmount))
	isCurrency         = oneOf("must be an ISO 4217 currency code", currencies...)
	currencyRules      = rules(isCurrency)
	moneyCurrencyRules = rules(validation.Required.Error("is required with amount and direction: an ISO 4217 currency code"), isCurrency)
	isDirection        = oneOf("must be debit or credit", ActionDebit, ActionCredit)
	directionRules     = rules(isDirection)
	moneyDirection     = rules(validation.Required.Error("is required with amount and currency: debit or credit"), isDirection)
	channelRules       = rules(oneOf("must be card, atm, transfer or online", ActionCard, ActionATM, ActionTransfer, ActionOnline))
	merchantNameRules  = rules(required("1 to 128 characters"), validation.Length(1, 128).Error("must be 1 to 128 characters"))
	mccRules           = rules(mcc.rule("must be a 4-digit merchant category code"))
	countryRules       = rules(country.rule("must be an ISO 3166-1 alpha-2 code"))
	terminalRules      = rules(validation.Length(0, 64).Error("must be at most 64 characters"))
)

// Validate checks the transaction's rules.
func (t *Transaction) Validate() error {
	amount, currency, direction := amountRules, currencyRules, directionRules
	if t.Amount != nil || t.Currency != "" || t.Direction != "" {
		amount, currency, direction = moneyAmountRules, moneyCurrencyRules, moneyDirection
	}
	var f fieldErrors
	f.check("transactionId", t.TransactionID, transactionIDRules)
	f.check("accountId", t.AccountID, idRules)
	f.check("customerId", t.CustomerID, idRules)
	f.check("amount", optional(t.Amount), amount)
	f.check("currency", enum(t.Currency), currency)
	f.check("direction", enum(t.Direction), direction)
	f.check("channel", enum(t.Channel), channelRules)
	if t.Merchant != nil {
		f.add("merchant", t.Merchant.Validate())
	}
	f.check("fraudScore", optional(t.FraudScore), scoreRules)
	return f.err()
}

// Validate checks the merchant's rules.
func (m Merchant) Validate() error {
	var f fieldErrors
	f.check("name", m.Name, merchantNameRules)
	f.check("mcc", m.MCC, mccRules)
	f.check("country", m.Country, countryRules)
	f.check("terminal", m.Terminal, terminalRules)
	return f.err()
}

// amountRange is what an amount may be, for reasons.
var amountRange = integerFields["amount"].inRange

// errAmount is the reason for an amount out of range.
var errAmount = validation.NewError("validation_amount", "must be "+amountRange)

// positiveAmount rejects zero and negative amounts (Min alone lets zero through as "empty"), and
// amounts beyond MaxSafeInteger, which not every reader of JSON keeps exactly.
func positiveAmount(v any) error {
	if a, ok := v.(int64); ok && (a < 1 || a > MaxSafeInteger) {
		return errAmount
	}
	return nil
}
