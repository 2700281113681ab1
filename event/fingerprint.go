package event

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Fingerprint is the hash of the event's content: two records with the same id and the same
// fingerprint are the same event sent twice. Formatting, field order and the envelope time's
// zone do not change it.
//
// It is the SHA-256, in hex, of the event as json.Marshal writes it (the envelope time is in UTC
// once decoded). The known payload types are written here without reflection, to the same bytes.
func (e *Event) Fingerprint() string {
	var buf [1024]byte
	b, ok := appendEvent(buf[:0], e)
	if !ok {
		b, _ = json.Marshal(e) // an Event always marshals: its fields are plain data
	}
	sum := sha256.Sum256(b)
	var h [2 * sha256.Size]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}

// appendEvent appends e as json.Marshal writes it, or reports false for what it does not write
// itself: a payload type of its own, a string that needs escaping.
func appendEvent(b []byte, e *Event) ([]byte, bool) {
	ok := true
	b = append(b, `{"specversion":`...)
	b = appendString(b, e.SpecVersion, &ok)
	b = appendField(b, "id", e.ID, &ok)
	b = appendField(b, "source", e.Source, &ok)
	b = appendField(b, "type", string(e.Type), &ok)
	b = append(b, `,"time":`...)
	b = appendTime(b, e.Time, &ok)
	b = appendField(b, "subject", e.Subject, &ok)
	b = appendFieldOmitEmpty(b, "datacontenttype", e.DataContentType, &ok)
	b = appendField(b, "tenant", e.Tenant, &ok)
	b = append(b, `,"data":`...)
	switch p := e.Data.(type) {
	case *Transaction:
		b = append(b, `{"transactionId":`...)
		b = appendString(b, p.TransactionID, &ok)
		b = appendField(b, "accountId", p.AccountID, &ok)
		b = appendField(b, "customerId", p.CustomerID, &ok)
		if p.Amount != nil {
			b = append(b, `,"amount":`...)
			b = strconv.AppendInt(b, *p.Amount, 10)
		}
		b = appendFieldOmitEmpty(b, "currency", p.Currency, &ok)
		b = appendFieldOmitEmpty(b, "direction", p.Direction, &ok)
		b = appendFieldOmitEmpty(b, "channel", p.Channel, &ok)
		if m := p.Merchant; m != nil {
			b = append(b, `,"merchant":{"name":`...)
			b = appendString(b, m.Name, &ok)
			b = appendFieldOmitEmpty(b, "mcc", m.MCC, &ok)
			b = appendFieldOmitEmpty(b, "country", m.Country, &ok)
			b = appendFieldOmitEmpty(b, "terminal", m.Terminal, &ok)
			b = append(b, `}`...)
		}
		if p.FraudScore != nil {
			b = append(b, `,"fraudScore":`...)
			b = strconv.AppendInt(b, int64(*p.FraudScore), 10)
		}
	case *FraudAlert:
		b = append(b, `{"accountId":`...)
		b = appendString(b, p.AccountID, &ok)
		b = appendFieldOmitEmpty(b, "customerId", p.CustomerID, &ok)
		b = appendFieldOmitEmpty(b, "transactionId", p.TransactionID, &ok)
		b = append(b, `,"score":`...)
		b = strconv.AppendInt(b, int64(p.Score), 10)
		b = appendField(b, "reason", p.Reason, &ok)
		b = appendField(b, "severity", p.Severity, &ok)
		b = appendField(b, "recommendedAction", p.RecommendedAction, &ok)
	case *AccountStatus:
		b = append(b, `{"accountId":`...)
		b = appendString(b, p.AccountID, &ok)
		b = appendField(b, "action", p.Action, &ok)
		if len(p.BlockedActions) > 0 {
			b = append(b, `,"blockedActions":[`...)
			for i, a := range p.BlockedActions {
				if i > 0 {
					b = append(b, `,`...)
				}
				b = appendString(b, a, &ok)
			}
			b = append(b, `]`...)
		}
		b = appendFieldOmitEmpty(b, "monitoringLevel", p.MonitoringLevel, &ok)
		b = appendField(b, "reason", p.Reason, &ok)
		if p.EffectiveAt != nil {
			b = append(b, `,"effectiveAt":`...)
			b = appendTime(b, *p.EffectiveAt, &ok)
		}
	case *AccountCheck:
		b = append(b, `{"accountId":`...)
		b = appendString(b, p.AccountID, &ok)
		b = appendFieldOmitEmpty(b, "customerId", p.CustomerID, &ok)
		b = appendField(b, "check", p.Check, &ok)
		b = appendField(b, "outcome", p.Outcome, &ok)
		if p.Score != nil {
			b = append(b, `,"score":`...)
			b = strconv.AppendInt(b, int64(*p.Score), 10)
		}
		b = appendFieldOmitEmpty(b, "details", p.Details, &ok)
	default:
		return b, false
	}
	b = append(b, `}}`...)
	return b, ok
}

// The append functions write JSON as encoding/json does, for the strings it needs not escape;
// they set *ok to false at the first other one.

// appendField appends `,"name":"value"`.
func appendField(b []byte, name, value string, ok *bool) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value, ok)
}

// appendFieldOmitEmpty is appendField for an omitempty field: nothing when value is empty.
func appendFieldOmitEmpty(b []byte, name, value string, ok *bool) []byte {
	if value == "" {
		return b
	}
	return appendField(b, name, value, ok)
}

// appendString appends a string that needs no escaping; json.Marshal escapes ", \, control
// characters, <, > and & (for HTML), and treats non-ASCII apart.
func appendString(b []byte, s string, ok *bool) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			*ok = false
			return b
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendTime appends t as time.Time's MarshalJSON does.
func appendTime(b []byte, t time.Time, ok *bool) []byte {
	if _, offset := t.Zone(); t.Year() < 0 || t.Year() > 9999 || offset <= -24*60*60 || offset >= 24*60*60 {
		*ok = false // MarshalJSON fails on these; leave them to json.Marshal
		return b
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
