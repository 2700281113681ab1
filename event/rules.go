package event

import (
	"time"

	"github.com/invopop/validation"
)

// The validation rules are invopop/validation rules, built once at start-up and applied field by
// field: validation.ValidateStruct would find every field by reflection and the rule slices would
// be built again for every record, which made validation most of the cost of a record.

// fieldErrors collects the errors of a struct's fields, keyed by JSON name, the way
// validation.ValidateStruct does. The zero value is ready to use.
type fieldErrors struct {
	errs     validation.Errors
	internal error // the first validation.InternalError: it is returned alone
}

// check validates one field's value with rules. Pass the field's value, not a pointer to it: the
// rules see the same value either way, and a pointer costs a copy in each rule.
func (f *fieldErrors) check(name string, value any, rules []validation.Rule) {
	f.add(name, validation.Validate(value, rules...))
}

// add records err for the field name; a nil err is no error.
func (f *fieldErrors) add(name string, err error) {
	if err == nil {
		return
	}
	if ie, ok := err.(validation.InternalError); ok && ie.InternalError() != nil {
		if f.internal == nil {
			f.internal = err
		}
		return
	}
	if f.errs == nil {
		f.errs = validation.Errors{}
	}
	f.errs[name] = err
}

// err returns the collected errors as validation.Errors, or nil.
func (f *fieldErrors) err() error {
	if f.internal != nil {
		return f.internal
	}
	if len(f.errs) == 0 {
		return nil
	}
	return f.errs
}

// rules lists rules; it reads better than a slice literal of an interface type.
func rules(r ...validation.Rule) []validation.Rule { return r }

// oneOf is validation.In(values...).Error(message) for strings, with a set lookup instead of a
// reflect.DeepEqual per value: an empty value is valid, anything else must be one of values.
func oneOf(message string, values ...string) validation.Rule {
	set := make(map[string]struct{}, len(values))
	for _, v := range values {
		set[v] = struct{}{}
	}
	invalid := validation.ErrInInvalid.SetMessage(message)
	return validation.By(func(value any) error {
		s, ok := value.(string)
		if !ok {
			var isNil bool
			if value, isNil = validation.Indirect(value); isNil || validation.IsEmpty(value) {
				return nil
			}
			if s, ok = value.(string); !ok {
				return invalid
			}
		}
		if _, in := set[s]; in || s == "" {
			return nil
		}
		return invalid
	})
}

// requiredTime is validation.Required for a time.Time: Required asks, by reflection, whether the
// value implements driver.Valuer, and for time.Time, with its many methods, that took half a
// microsecond.
var requiredTime = validation.By(func(value any) error {
	if t, ok := value.(time.Time); ok {
		if t.IsZero() {
			return errTimeRequired
		}
		return nil
	}
	return requiredTimeRule.Validate(value)
})

// errTimeRequired is the reason for a missing time.
var (
	errTimeRequired  = validation.ErrRequired.SetMessage("is required: an RFC 3339 time such as " + timeExample)
	requiredTimeRule = validation.Required.ErrorObject(errTimeRequired)
)

// timeInRange rejects times no bank system produces.
var timeInRange = validation.By(func(value any) error {
	if t, ok := value.(time.Time); ok && !validTime(t) {
		return errTimeRange
	}
	return nil
})

// errTimeRange is the reason for a time out of range.
var errTimeRange = validation.NewError("validation_time", "must be a time from 1970 to 2999, such as "+timeExample)

// optional returns the value p points to, or nil: rules treat a nil pointer and nil alike, and
// passing the value spares each rule a reflective copy of it.
func optional[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// enumValues are the values of the enumerated fields, each already in an interface.
var enumValues = map[string]any{}

func init() {
	for _, values := range [][]string{
		{SpecVersion, ContentTypeJSON, ActionDebit, ActionCredit, ActionCard, ActionATM, ActionTransfer, ActionOnline},
		currencies, Severities, {RecommendMonitor, RecommendFreeze}, {StatusFreeze, StatusUnfreeze, StatusMonitor},
		{CheckKYC, CheckBalance, CheckFraudScreen, CheckSanctions, OutcomePass, OutcomeReview, OutcomeFail},
	} {
		for _, v := range values {
			enumValues[v] = v
		}
	}
}

// enum returns s as an interface for rules: for the known values of enumerated fields, one made
// once, which spares the allocation of putting a string in an interface.
func enum(s string) any {
	if v, ok := enumValues[s]; ok {
		return v
	}
	return s
}
