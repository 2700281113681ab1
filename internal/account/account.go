// Package account holds the account effects of events: which events change an account's state,
// and what the state says at a given time. It imports no AWS package.
//
// State is kept as two sets, so that applying the same changes in any order, any number of
// times, gives the same state:
//   - the freeze log: one entry per freeze or unfreeze decision, "<time key>|<event id>|freeze|<actions>"
//     or "<time key>|<event id>|unfreeze|"; the decision in force at time t is the greatest entry
//     at or before t (time first, event id breaking ties);
//   - the monitoring levels: every level ever raised; the level is the highest one.
//
// Monitoring only rises: lowering it is a manual decision outside the pipeline.
package account

import (
	"slices"
	"strings"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
)

// Change is what one event adds to its account's state. A nil *Change means no effect.
type Change struct {
	Freeze  string // a freeze log entry, or ""
	Monitor string // a monitoring level, or ""
}

// Blocked actions of a fraud alert whose recommended action is freeze: money can come in, none
// can go out.
var fraudFreeze = []string{event.ActionDebit}

// ChangeOf returns the state change e causes, or nil for events without account effects.
func ChangeOf(e *event.Event) *Change {
	switch p := e.Data.(type) {
	case *event.FraudAlert:
		c := &Change{Monitor: p.Severity}
		if p.RecommendedAction == event.RecommendFreeze {
			c.Freeze = entry(e.Time, e.ID, event.StatusFreeze, fraudFreeze)
		}
		return c
	case *event.AccountStatus:
		at := e.Time
		if p.EffectiveAt != nil {
			at = *p.EffectiveAt
		}
		switch p.Action {
		case event.StatusFreeze:
			blocked := p.BlockedActions
			if len(blocked) == 0 {
				blocked = event.AllActions
			}
			return &Change{Freeze: entry(at, e.ID, event.StatusFreeze, blocked)}
		case event.StatusUnfreeze:
			return &Change{Freeze: entry(at, e.ID, event.StatusUnfreeze, nil)}
		case event.StatusMonitor:
			level := p.MonitoringLevel
			if level == "" {
				level = event.SeverityMedium
			}
			return &Change{Monitor: level}
		}
	}
	return nil
}

// EntryTime returns the time of a freeze log entry.
func EntryTime(entry string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, strings.SplitN(entry, "|", 2)[0])
	return t
}

func entry(at time.Time, id, action string, blocked []string) string {
	sorted := slices.Clone(blocked)
	slices.Sort(sorted)
	return event.TimeKey(at) + "|" + id + "|" + action + "|" + strings.Join(sorted, ",")
}

// State is an account's state: the union of every change applied to it.
type State struct {
	FreezeLog     []string `dynamodbav:"freezeLog,stringset,omitempty" json:"freezeLog,omitempty"`
	MonitorLevels []string `dynamodbav:"monitorLevels,stringset,omitempty" json:"monitorLevels,omitempty"`
}

// Apply adds a change to the state; applying a change twice changes nothing.
func (s *State) Apply(c *Change) {
	if c == nil {
		return
	}
	if c.Freeze != "" && !slices.Contains(s.FreezeLog, c.Freeze) {
		s.FreezeLog = append(s.FreezeLog, c.Freeze)
		slices.Sort(s.FreezeLog)
	}
	if c.Monitor != "" && !slices.Contains(s.MonitorLevels, c.Monitor) {
		s.MonitorLevels = append(s.MonitorLevels, c.Monitor)
		slices.Sort(s.MonitorLevels)
	}
}

// Decision is the freeze or unfreeze in force at some time.
type Decision struct {
	EventID string    // the event that decided it; "" when the account was never frozen
	At      time.Time // when it took effect
	Frozen  bool
	Blocked []string // the actions blocked; empty unless Frozen
}

// DecisionAt returns the freeze decision in force at t.
func (s State) DecisionAt(t time.Time) Decision {
	key := event.TimeKey(t)
	var best string
	for _, e := range s.FreezeLog {
		if e[:len(key)] <= key && e > best {
			best = e
		}
	}
	if best == "" {
		return Decision{}
	}
	parts := strings.SplitN(best, "|", 4)
	d := Decision{EventID: parts[1], At: EntryTime(best), Frozen: parts[2] == event.StatusFreeze}
	if d.Frozen && parts[3] != "" {
		d.Blocked = strings.Split(parts[3], ",")
	}
	return d
}

// MonitoringLevel returns the highest monitoring level raised, or "" when none was.
func (s State) MonitoringLevel() string {
	level := ""
	for _, l := range s.MonitorLevels {
		if event.SeverityRank(l) > event.SeverityRank(level) {
			level = l
		}
	}
	return level
}

// BlockedBy reports whether the transaction at time t is of an action blocked then, and the id of
// the event that blocked it ("" when it is not blocked).
func (s State) BlockedBy(t *event.Transaction, at time.Time) string {
	d := s.DecisionAt(at)
	if !d.Frozen {
		return ""
	}
	if slices.Contains(d.Blocked, t.Direction) || slices.Contains(d.Blocked, t.Channel) {
		return d.EventID
	}
	return ""
}
