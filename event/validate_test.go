package event

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/invopop/validation"
	"github.com/invopop/validation/is"
)

// The rules as they were first written, with validation.ValidateStruct, validation.In and
// regular expressions: the reference the rules built once must agree with, reason for reason.
var (
	refPrintable  = regexp.MustCompile(`^[\x21-\x7e]+$`)
	refTenant     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	refIdentifier = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)
	refMCC        = regexp.MustCompile(`^[0-9]{4}$`)
	refCountry    = regexp.MustCompile(`^[A-Z]{2}$`)
	refIDRules    = []validation.Rule{validation.Required.Error("is required: 1 to 64 letters, digits or _.:- starting with a letter or digit"), validation.Match(refIdentifier).Error("must be 1 to 64 letters, digits or _.:- starting with a letter or digit")}
	refScoreRules = []validation.Rule{validation.Min(0).Error("must be between 0 and 100"), validation.Max(100).Error("must be between 0 and 100")}
	refUUID       = is.UUID.Error("must be a UUID in lower-case hex, 8-4-4-4-12, such as 4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c")
)

// refEvent is Event with the payload validated by the reference rules.
type refEvent struct {
	SpecVersion     string                 `json:"specversion"`
	ID              string                 `json:"id"`
	Source          string                 `json:"source"`
	Time            time.Time              `json:"time"`
	Subject         string                 `json:"subject"`
	DataContentType string                 `json:"datacontenttype"`
	Tenant          string                 `json:"tenant"`
	Data            validation.Validatable `json:"data"`
}

// refPayload validates a payload with the reference rules.
type refPayload struct{ p Payload }

func (r refPayload) Validate() error {
	switch p := r.p.(type) {
	case *Transaction:
		return refTransaction(p)
	case *FraudAlert:
		return refFraudAlert(p)
	case *AccountStatus:
		return refAccountStatus(p)
	case *AccountCheck:
		return refAccountCheck(p)
	}
	return fmt.Errorf("no reference for %T", r.p)
}

func refValidate(e *Event) error {
	r := &refEvent{SpecVersion: e.SpecVersion, ID: e.ID, Source: e.Source, Time: e.Time, Subject: e.Subject, DataContentType: e.DataContentType, Tenant: e.Tenant}
	if e.Data != nil {
		r.Data = refPayload{e.Data}
	}
	err := validation.ValidateStruct(r,
		validation.Field(&r.SpecVersion, validation.Required.Error("is required: 1.0"), validation.In(SpecVersion).Error("must be 1.0")),
		validation.Field(&r.ID, validation.Required.Error("is required: 1 to 128 printable ASCII characters without spaces"), validation.Length(1, 128).Error("must be 1 to 128 printable ASCII characters without spaces"), validation.Match(refPrintable).Error("must be 1 to 128 printable ASCII characters without spaces")),
		validation.Field(&r.Source, validation.Required.Error("is required: a URI-reference of 1 to 256 printable ASCII characters without spaces"), validation.Length(1, 256).Error("must be a URI-reference of 1 to 256 printable ASCII characters without spaces"), validation.Match(refPrintable).Error("must be a URI-reference of 1 to 256 printable ASCII characters without spaces")),
		validation.Field(&r.Time, validation.Required.Error("is required: an RFC 3339 time such as 2026-11-10T23:00:00Z"), validation.By(func(any) error {
			if !validTime(r.Time) {
				return validation.NewError("validation_time", "must be a time from 1970 to 2999, such as 2026-11-10T23:00:00Z")
			}
			return nil
		})),
		validation.Field(&r.Subject, validation.Required.Error("is required: the account id, equal to data.accountId (the partition key)"), validation.By(func(any) error {
			if e.Data != nil && e.Data.Account() != "" && r.Subject != e.Data.Account() {
				return validation.NewError("validation_subject", "must equal data.accountId (the partition key)")
			}
			return nil
		})),
		validation.Field(&r.DataContentType, validation.In(ContentTypeJSON).Error("must be application/json")),
		validation.Field(&r.Tenant, validation.Required.Error("is required: 1 to 63 lowercase letters, digits or -, starting with a letter or digit"), validation.Match(refTenant).Error("must be 1 to 63 lowercase letters, digits or -, starting with a letter or digit")),
		validation.Field(&r.Data, validation.Required.Error("is required: a JSON object, the payload of the event's type")),
	)
	return invalid("", err)
}

func refTransaction(t *Transaction) error {
	money := t.Amount != nil || t.Currency != "" || t.Direction != ""
	positive := func(v any) error {
		if a, ok := v.(*int64); ok && a != nil && (*a < 1 || *a > 1<<53-1) {
			return validation.NewError("validation_amount", "must be a whole number of minor units from 1 to 9007199254740991")
		}
		return nil
	}
	err := validation.ValidateStruct(t,
		validation.Field(&t.TransactionID, validation.Required.Error("is required: a UUID in lower-case hex, 8-4-4-4-12, such as 4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c"), refUUID),
		validation.Field(&t.AccountID, refIDRules...),
		validation.Field(&t.CustomerID, refIDRules...),
		validation.Field(&t.Amount, validation.When(money, validation.NotNil.Error("is required with currency and direction: a whole number of minor units from 1 to 9007199254740991")), validation.By(positive)),
		validation.Field(&t.Currency, validation.When(money, validation.Required.Error("is required with amount and direction: an ISO 4217 currency code")), validation.In(currencies...).Error("must be an ISO 4217 currency code")),
		validation.Field(&t.Direction, validation.When(money, validation.Required.Error("is required with amount and currency: debit or credit")), validation.In(ActionDebit, ActionCredit).Error("must be debit or credit")),
		validation.Field(&t.Channel, validation.In(ActionCard, ActionATM, ActionTransfer, ActionOnline).Error("must be card, atm, transfer or online")),
		validation.Field(&t.FraudScore, refScoreRules...),
	)
	if t.Merchant != nil {
		m := *t.Merchant
		if merr := validation.ValidateStruct(&m,
			validation.Field(&m.Name, validation.Required.Error("is required: 1 to 128 characters"), validation.Length(1, 128).Error("must be 1 to 128 characters")),
			validation.Field(&m.MCC, validation.Match(refMCC).Error("must be a 4-digit merchant category code")),
			validation.Field(&m.Country, validation.Match(refCountry).Error("must be an ISO 3166-1 alpha-2 code")),
			validation.Field(&m.Terminal, validation.Length(0, 64).Error("must be at most 64 characters")),
		); merr != nil {
			errs, _ := err.(validation.Errors)
			if errs == nil {
				errs = validation.Errors{}
			}
			errs["merchant"] = merr
			err = errs
		}
	}
	return err
}

func refFraudAlert(f *FraudAlert) error {
	return validation.ValidateStruct(f,
		validation.Field(&f.AccountID, refIDRules...),
		validation.Field(&f.CustomerID, validation.Match(refIdentifier).Error("must be 1 to 64 letters, digits or _.:- starting with a letter or digit")),
		validation.Field(&f.TransactionID, refUUID),
		validation.Field(&f.Score, refScoreRules...),
		validation.Field(&f.Reason, validation.Required.Error("is required: 1 to 500 characters"), validation.Length(1, 500).Error("must be 1 to 500 characters")),
		validation.Field(&f.Severity, validation.Required.Error("is required: low, medium, high or critical"), validation.In(Severities...).Error("must be low, medium, high or critical")),
		validation.Field(&f.RecommendedAction, validation.Required.Error("is required: monitor or freeze"), validation.In(RecommendMonitor, RecommendFreeze).Error("must be monitor or freeze")),
	)
}

func refAccountStatus(s *AccountStatus) error {
	return validation.ValidateStruct(s,
		validation.Field(&s.AccountID, refIDRules...),
		validation.Field(&s.Action, validation.Required.Error("is required: freeze, unfreeze or monitor"), validation.In(StatusFreeze, StatusUnfreeze, StatusMonitor).Error("must be freeze, unfreeze or monitor")),
		validation.Field(&s.BlockedActions,
			validation.When(s.Action != StatusFreeze, validation.Empty.Error("is only allowed with action freeze")),
			validation.Each(validation.In(AllActions...).Error("must be debit, credit, card, atm, transfer or online"))),
		validation.Field(&s.MonitoringLevel,
			validation.When(s.Action != StatusMonitor, validation.Empty.Error("is only allowed with action monitor")),
			validation.In(Severities...).Error("must be low, medium, high or critical")),
		validation.Field(&s.Reason, validation.Required.Error("is required: 1 to 500 characters"), validation.Length(1, 500).Error("must be 1 to 500 characters")),
		validation.Field(&s.EffectiveAt, validation.By(func(v any) error {
			if t, ok := v.(*time.Time); ok && t != nil && !validTime(*t) {
				return validation.NewError("validation_time", "must be a time from 1970 to 2999, such as 2026-11-10T23:00:00Z")
			}
			return nil
		})),
	)
}

func refAccountCheck(c *AccountCheck) error {
	return validation.ValidateStruct(c,
		validation.Field(&c.AccountID, refIDRules...),
		validation.Field(&c.CustomerID, validation.Match(refIdentifier).Error("must be 1 to 64 letters, digits or _.:- starting with a letter or digit")),
		validation.Field(&c.Check, validation.Required.Error("is required: kyc, balance, fraud_screen or sanctions"), validation.In(CheckKYC, CheckBalance, CheckFraudScreen, CheckSanctions).Error("must be kyc, balance, fraud_screen or sanctions")),
		validation.Field(&c.Outcome, validation.Required.Error("is required: pass, review or fail"), validation.In(OutcomePass, OutcomeReview, OutcomeFail).Error("must be pass, review or fail")),
		validation.Field(&c.Score, refScoreRules...),
		validation.Field(&c.Details, validation.Length(0, 500).Error("must be at most 500 characters")),
	)
}

// TestValidateIsReference validates random events — every field drawn from valid values, edge
// values and wrong ones — with the rules and with the reference, and compares the reasons.
func TestValidateIsReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func(values ...string) string { return values[rng.IntN(len(values))] }
	long := func(n int) string { return strings.Repeat("a", n) }
	str := func(good ...string) string { // mostly the first values given, sometimes an edge or a wrong one
		if rng.IntN(12) > 0 {
			return good[0]
		}
		return pick(append(good, "", " ", "a b", "é", "\x00", "UPPER", "-x", "x-", long(63), long(64), long(65), long(129), long(257), long(501))...)
	}
	ptr := func(n int) *int {
		if rng.IntN(3) == 0 {
			return nil
		}
		return &n
	}
	num := func() int {
		return []int{12, 12, 12, 12, 0, 1, 99, 100, 101, -1, 1 << 40, 1<<53 - 1, 1 << 53}[rng.IntN(13)]
	}
	times := []time.Time{time.Date(2026, 11, 10, 23, 0, 0, 0, time.UTC), time.Date(2026, 11, 10, 23, 0, 0, 0, time.UTC), {}, time.Date(2026, 11, 10, 23, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 3600))}
	uuid := "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c"
	valid := 0
	for i := range 10000 {
		var p Payload
		switch i % 5 {
		case 0:
			tx := &Transaction{TransactionID: str(uuid, strings.ToUpper(uuid)), AccountID: str("acc-1", "9f8e7d6c-5b4a"), CustomerID: str("cus-1"),
				Currency: str("EUR", "USD", "EURO", "eur"), Direction: str("debit", "credit"), Channel: str("card", "atm", "online", "pigeon"), FraudScore: ptr(num())}
			if rng.IntN(3) > 0 {
				a := int64(num())
				tx.Amount = &a
			}
			if rng.IntN(2) == 0 {
				tx.Merchant = &Merchant{Name: str("Shop"), MCC: str("5411", "54", "541a"), Country: str("IE", "ie", "IRL"), Terminal: str("T1")}
			}
			p = tx
		case 1:
			p = &FraudAlert{AccountID: str("acc-1"), CustomerID: str("c-1"), TransactionID: str(uuid), Score: num(), Reason: str("r"),
				Severity: str(Severities...), RecommendedAction: str("monitor", "freeze", "close")}
		case 2:
			s := &AccountStatus{AccountID: str("acc-1"), Action: str("freeze", "unfreeze", "monitor", "close"), MonitoringLevel: str("high", "urgent"), Reason: str("r")}
			switch rng.IntN(4) {
			case 0:
				s.BlockedActions = []string{}
			case 1:
				s.BlockedActions = []string{str("debit", "card"), str("atm", "teleport")}
			}
			if rng.IntN(2) == 0 {
				at := times[rng.IntN(len(times))]
				s.EffectiveAt = &at
			}
			p = s
		case 3:
			p = &AccountCheck{AccountID: str("acc-1"), CustomerID: str("c"), Check: str(CheckKYC, CheckSanctions, "x"), Outcome: str(OutcomePass, "maybe"), Score: ptr(num()), Details: str("d")}
		}
		e := &Event{SpecVersion: str("1.0", "0.3"), ID: str("evt-1", "evt 1"), Source: str("urn:bank:core"), Time: times[rng.IntN(len(times))],
			Subject: str("acc-1"), DataContentType: str("application/json", "application/xml"), Tenant: str("examplebank", "Example"), Data: p}
		got, want := e.Validate(), refValidate(e)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("event %+v %+v:\nValidate  %v\nreference %v", e, p, got, want)
		}
		if got == nil {
			valid++
		}
	}
	t.Logf("%d of 10000 events valid", valid)
	if valid < 50 {
		t.Errorf("only %d valid events of 10000: the draw should make more", valid)
	}
}
