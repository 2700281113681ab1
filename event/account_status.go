package event

import (
	"time"

	"github.com/invopop/validation"
)

// Account status actions.
const (
	StatusFreeze   = "freeze"
	StatusUnfreeze = "unfreeze"
	StatusMonitor  = "monitor"
)

// AccountStatus is the core banking application's decision on an account: freeze some or all
// actions, unfreeze, or put it under monitoring. It takes effect at EffectiveAt, or at the
// event's time when EffectiveAt is empty.
type AccountStatus struct {
	AccountID       string     `json:"accountId"`
	Action          string     `json:"action" jsonschema:"enum=freeze,enum=unfreeze,enum=monitor"`
	BlockedActions  []string   `json:"blockedActions,omitempty" jsonschema:"uniqueItems=true"`
	MonitoringLevel string     `json:"monitoringLevel,omitempty" jsonschema:"enum=low,enum=medium,enum=high,enum=critical"`
	Reason          string     `json:"reason"`
	EffectiveAt     *time.Time `json:"effectiveAt,omitempty"`
}

// Account returns the account whose status changes.
func (s *AccountStatus) Account() string { return s.AccountID }

// Validate checks the status change's rules.
func (s *AccountStatus) Validate() error {
	return validation.ValidateStruct(s,
		validation.Field(&s.AccountID, idRules...),
		validation.Field(&s.Action, validation.Required, validation.In(StatusFreeze, StatusUnfreeze, StatusMonitor).Error("must be freeze, unfreeze or monitor")),
		validation.Field(&s.BlockedActions,
			validation.When(s.Action != StatusFreeze, validation.Empty.Error("is only allowed with action freeze")),
			validation.Each(validation.In(AllActions...).Error("must be debit, credit, card, atm, transfer or online"))),
		validation.Field(&s.MonitoringLevel,
			validation.When(s.Action != StatusMonitor, validation.Empty.Error("is only allowed with action monitor")),
			validation.In(Severities...).Error("must be low, medium, high or critical")),
		validation.Field(&s.Reason, validation.Required, validation.Length(1, 500)),
		validation.Field(&s.EffectiveAt, validation.By(func(v any) error {
			if t, ok := v.(*time.Time); ok && t != nil && !validTime(*t) {
				return validation.NewError("validation_time", "must be a time between 1970 and 2999")
			}
			return nil
		})),
	)
}
