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

// The rules of a status change's fields. Blocked actions come only with a freeze and a
// monitoring level only with monitor (the "other" variants are for the other actions).
var (
	statusActionRules    = rules(required("freeze, unfreeze or monitor"), oneOf("must be freeze, unfreeze or monitor", StatusFreeze, StatusUnfreeze, StatusMonitor))
	eachBlockedAction    = validation.Each(oneOf("must be debit, credit, card, atm, transfer or online", AllActions...))
	blockedActionsRules  = rules(eachBlockedAction)
	otherBlockedActions  = rules(validation.Empty.Error("is only allowed with action freeze"), eachBlockedAction)
	monitoringLevelRules = rules(isSeverity)
	otherMonitoringLevel = rules(validation.Empty.Error("is only allowed with action monitor"), isSeverity)
	effectiveAtRules     = rules(timeInRange)
)

// Validate checks the status change's rules.
func (s *AccountStatus) Validate() error {
	blocked, level := blockedActionsRules, monitoringLevelRules
	if s.Action != StatusFreeze {
		blocked = otherBlockedActions
	}
	if s.Action != StatusMonitor {
		level = otherMonitoringLevel
	}
	var f fieldErrors
	f.check("accountId", s.AccountID, idRules)
	f.check("action", enum(s.Action), statusActionRules)
	if s.BlockedActions != nil {
		f.check("blockedActions", s.BlockedActions, blocked)
	}
	f.check("monitoringLevel", enum(s.MonitoringLevel), level)
	f.check("reason", s.Reason, reasonRules)
	f.check("effectiveAt", optional(s.EffectiveAt), effectiveAtRules)
	return f.err()
}
