package event

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The prototype's type names (shared/seed/prototype-record-shape.md) and the types they map to.
const (
	prototypeTransaction    = "transaction"
	prototypeFraudDetection = "fraud_detection"
	prototypeCheckAccount   = "check_account"
)

// prototypePayload is the prototype's Event object: the same fields whatever its Type.
type prototypePayload struct {
	TransactionID string `json:"TransactionID"`
	FraudScore    *int   `json:"FraudScore"`
	CustomerID    string `json:"CustomerID"`
	AccountID     string `json:"AccountID"`
	Time          string `json:"Time"`
}

// prototypeFields maps the envelope's field names back to the prototype's, so a producer still
// sending the old shape is told about the fields it sent.
var prototypeFields = map[string]string{
	"id":                 "ID",
	"source":             "Source",
	"type":               "Type",
	"tenant":             "Client",
	"time":               "Event.Time",
	"subject":            "Event.AccountID",
	"data.accountId":     "Event.AccountID",
	"data.customerId":    "Event.CustomerID",
	"data.transactionId": "Event.TransactionID",
	"data.fraudScore":    "Event.FraudScore",
	"data.score":         "Event.FraudScore",
}

// fromPrototype maps the prototype's record onto the envelope:
//   - Client becomes tenant, Event.AccountID the subject, Event.Time the event time;
//   - transaction stays transaction (a screening record: the prototype sent no amount);
//   - fraud_detection becomes fraud_alert, with severity from the score (≥90 critical, ≥70 high,
//     ≥40 medium, else low) and recommended action freeze at ≥90, monitor below;
//   - check_account becomes account_check of kind fraud_screen, with outcome from the score
//     (<40 pass, <70 review, else fail).
func fromPrototype(w *wire) (*Event, error) {
	var p prototypePayload
	if err := decodeStrict(w.Event, &p, "Event"); err != nil {
		return nil, renamePrototype(err)
	}
	e := &Event{
		SpecVersion:     SpecVersion,
		ID:              w.ID,
		Source:          w.Source,
		Subject:         p.AccountID,
		DataContentType: ContentTypeJSON,
		Tenant:          w.Client,
	}
	switch w.Type {
	case prototypeTransaction:
		e.Type = TypeTransaction
		e.Data = &Transaction{TransactionID: p.TransactionID, AccountID: p.AccountID, CustomerID: p.CustomerID, FraudScore: p.FraudScore}
	case prototypeFraudDetection:
		e.Type = TypeFraudAlert
		alert := &FraudAlert{AccountID: p.AccountID, CustomerID: p.CustomerID, TransactionID: p.TransactionID, Severity: SeverityLow, RecommendedAction: RecommendMonitor}
		if p.FraudScore != nil {
			alert.Score = *p.FraudScore
			alert.Severity = severityOf(*p.FraudScore)
			if *p.FraudScore >= 90 {
				alert.RecommendedAction = RecommendFreeze
			}
		}
		alert.Reason = fmt.Sprintf("fraud_detection from %s with fraud score %d", orUnknown(w.Source), alert.Score)
		e.Data = alert
	case prototypeCheckAccount:
		e.Type = TypeAccountCheck
		check := &AccountCheck{AccountID: p.AccountID, CustomerID: p.CustomerID, Check: CheckFraudScreen, Score: p.FraudScore}
		if p.FraudScore != nil {
			check.Outcome = outcomeOf(*p.FraudScore)
		}
		e.Data = check
	default:
		if w.Type == "" {
			return nil, invalidField("Type", "is required: "+prototypeTypes)
		}
		return nil, reject(CodeUnknownType, fmt.Sprintf("prototype Type %s is not one the prototype had: Type must be %s", quoteValue(w.Type), prototypeTypes))
	}
	timeErr := parseTime(p.Time, &e.Time, "time")
	err := e.Validate()
	if p.FraudScore == nil && e.Type != TypeTransaction {
		err = mergeRejects(err, invalidField("data.score", "is required: "+integerFields["score"].inRange))
	}
	if timeErr != nil {
		err = mergeRejects(timeErr, dropFields(err, func(f string) bool { return f == "time" }))
	}
	err = renamePrototype(err)
	// The prototype's ids were UUIDs: the UUID rule replaces the envelope's rules of those fields.
	var uuidErrs []FieldError
	for _, id := range []struct{ field, value string }{
		{"ID", w.ID}, {"Event.TransactionID", p.TransactionID}, {"Event.CustomerID", p.CustomerID}, {"Event.AccountID", p.AccountID},
	} {
		switch {
		case id.value != "" && !isCanonicalUUID(id.value):
			uuidErrs = append(uuidErrs, FieldError{Field: id.field, Problem: "must be " + prototypeUUID})
		case id.value == "" && hasField(err, id.field):
			uuidErrs = append(uuidErrs, FieldError{Field: id.field, Problem: "is required: " + prototypeUUID})
		}
	}
	if len(uuidErrs) > 0 {
		err = mergeRejects(&RejectError{Code: CodeInvalid, Fields: uuidErrs}, dropFields(err, func(f string) bool {
			return slices.ContainsFunc(uuidErrs, func(u FieldError) bool { return u.Field == f })
		}))
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// prototypeTypes lists the prototype's types for reasons.
const prototypeTypes = prototypeTransaction + ", " + prototypeFraudDetection + " or " + prototypeCheckAccount

// prototypeUUID is what the prototype's ids are, for reasons.
const prototypeUUID = "a UUID, as the prototype's ids are: lower-case hex digits in groups of 8-4-4-4-12, such as 7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01"

// hasField reports whether err is a RejectError naming field.
func hasField(err error, field string) bool {
	var r *RejectError
	return errors.As(err, &r) && slices.ContainsFunc(r.Fields, func(f FieldError) bool { return f.Field == field })
}

func severityOf(score int) string {
	switch {
	case score >= 90:
		return SeverityCritical
	case score >= 70:
		return SeverityHigh
	case score >= 40:
		return SeverityMedium
	}
	return SeverityLow
}

func outcomeOf(score int) string {
	switch {
	case score >= 70:
		return OutcomeFail
	case score >= 40:
		return OutcomeReview
	}
	return OutcomePass
}

func orUnknown(s string) string {
	if s == "" {
		return "an unnamed source"
	}
	return s
}

// dropFields removes the complaints about the fields drop selects from a RejectError, and returns
// nil when none is left.
func dropFields(err error, drop func(field string) bool) error {
	var r *RejectError
	if !errors.As(err, &r) {
		return err
	}
	kept := r.Fields[:0]
	for _, f := range r.Fields {
		if !drop(f.Field) {
			kept = append(kept, f)
		}
	}
	r.Fields = kept
	if len(kept) == 0 && r.Code == CodeInvalid {
		return nil
	}
	return r
}

// renamePrototype names the prototype's fields in a reason, and removes duplicate complaints
// (subject and data.accountId both come from Event.AccountID).
func renamePrototype(err error) error {
	var r *RejectError
	if !errors.As(err, &r) {
		return err
	}
	seen := map[string]bool{}
	kept := r.Fields[:0]
	for _, f := range r.Fields {
		if name, ok := prototypeFields[f.Field]; ok {
			f.Field = name
		} else if strings.HasPrefix(f.Field, "data.") {
			f.Field = "Event." + strings.TrimPrefix(f.Field, "data.")
		}
		if key := f.Field + f.Problem; !seen[key] {
			seen[key] = true
			kept = append(kept, f)
		}
	}
	r.Fields = kept
	return r
}
