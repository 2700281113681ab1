package event

import "time"

// decodeFast decodes a record in the plain form producers write — a CloudEvents envelope with
// the field names as specified, each field once, strings without escape sequences — in one pass
// and without reflection, into one allocation for the event and its payload. It gives up (ok is
// false) on anything else, even valid JSON: then Decode takes the encoding/json path, which also
// words the reasons. When it succeeds, the event is exactly the one that path would decode; the
// caller still validates it.
func decodeFast(raw []byte) (e *Event, ok bool) {
	s := scanner{src: string(raw)} // one copy: the decoded strings are slices of it
	s.space()
	if !s.open('{') {
		return nil, false
	}
	var (
		env           Event
		typ, at       string
		data, dataEnd = -1, -1 // where the data is, when it comes before the type
		seen, bits    uint
	)
	for more := true; more && !s.bad; more = s.next('}') {
		switch key := s.key(); key {
		case "specversion":
			env.SpecVersion, bits = s.str(), 1<<0
		case "id":
			env.ID, bits = s.str(), 1<<1
		case "source":
			env.Source, bits = s.str(), 1<<2
		case "type":
			typ, bits = s.str(), 1<<3
		case "time":
			at, bits = s.str(), 1<<4
		case "subject":
			env.Subject, bits = s.str(), 1<<5
		case "datacontenttype":
			env.DataContentType, bits = s.str(), 1<<6
		case "tenant":
			env.Tenant, bits = s.str(), 1<<7
		case "data":
			bits = 1 << 8
			if seen&(1<<3) != 0 {
				e = s.payload(Type(typ))
			} else {
				data = s.i // decoded once the type is known
				s.skipObject()
				dataEnd = s.i
			}
		default:
			return nil, false // another field, another spelling: encoding/json decides
		}
		if seen&bits != 0 {
			return nil, false // a repeated field: decodeJSON refuses it and says why
		}
		seen |= bits
	}
	s.space()
	if s.bad || s.i != len(s.src) || seen&(1<<8) == 0 || at == "" {
		return nil, false
	}
	if data >= 0 {
		s.i = data
		if e = s.payload(Type(typ)); s.bad || s.i != dataEnd {
			return nil, false
		}
	}
	if e == nil || parseTime(at, &env.Time, "time") != nil {
		return nil, false
	}
	env.Type, env.Data = e.Type, e.Data
	*e = env
	return e, true
}

// payload decodes the data of an event of type t, and returns the event it belongs to, with its
// type and data set: one allocation holds both, and the payload's pointers. It returns nil for
// an unknown type.
func (s *scanner) payload(t Type) *Event {
	switch t {
	case TypeTransaction:
		r := new(struct {
			Event
			Transaction
			amount   int64
			score    int
			merchant Merchant
		})
		r.Type, r.Data = TypeTransaction, &r.Transaction
		s.transaction(&r.Transaction, &r.amount, &r.score, &r.merchant)
		return &r.Event
	case TypeFraudAlert:
		r := new(struct {
			Event
			FraudAlert
		})
		r.Type, r.Data = TypeFraudAlert, &r.FraudAlert
		s.fraudAlert(&r.FraudAlert)
		return &r.Event
	case TypeAccountStatus:
		r := new(struct {
			Event
			AccountStatus
			effectiveAt time.Time
		})
		r.Type, r.Data = TypeAccountStatus, &r.AccountStatus
		s.accountStatus(&r.AccountStatus, &r.effectiveAt)
		return &r.Event
	case TypeAccountCheck:
		r := new(struct {
			Event
			AccountCheck
			score int
		})
		r.Type, r.Data = TypeAccountCheck, &r.AccountCheck
		s.accountCheck(&r.AccountCheck, &r.score)
		return &r.Event
	}
	s.bad = true
	return nil
}

func (s *scanner) transaction(t *Transaction, amount *int64, score *int, m *Merchant) {
	var seen uint
	for more := s.open('{'); more && !s.bad; more = s.next('}') {
		var bit uint
		switch s.key() {
		case "transactionId":
			t.TransactionID, bit = s.str(), 1<<0
		case "accountId":
			t.AccountID, bit = s.str(), 1<<1
		case "customerId":
			t.CustomerID, bit = s.str(), 1<<2
		case "amount":
			*amount, t.Amount, bit = s.int64(), amount, 1<<3
		case "currency":
			t.Currency, bit = s.str(), 1<<4
		case "direction":
			t.Direction, bit = s.str(), 1<<5
		case "channel":
			t.Channel, bit = s.str(), 1<<6
		case "merchant":
			s.merchant(m)
			t.Merchant, bit = m, 1<<7
		case "fraudScore":
			*score, t.FraudScore, bit = s.int(), score, 1<<8
		default:
			s.bad = true
		}
		s.once(&seen, bit)
	}
}

func (s *scanner) merchant(m *Merchant) {
	var seen uint
	for more := s.open('{'); more && !s.bad; more = s.next('}') {
		var bit uint
		switch s.key() {
		case "name":
			m.Name, bit = s.str(), 1<<0
		case "mcc":
			m.MCC, bit = s.str(), 1<<1
		case "country":
			m.Country, bit = s.str(), 1<<2
		case "terminal":
			m.Terminal, bit = s.str(), 1<<3
		default:
			s.bad = true
		}
		s.once(&seen, bit)
	}
}

func (s *scanner) fraudAlert(f *FraudAlert) {
	var seen uint
	for more := s.open('{'); more && !s.bad; more = s.next('}') {
		var bit uint
		switch s.key() {
		case "accountId":
			f.AccountID, bit = s.str(), 1<<0
		case "customerId":
			f.CustomerID, bit = s.str(), 1<<1
		case "transactionId":
			f.TransactionID, bit = s.str(), 1<<2
		case "score":
			f.Score, bit = s.int(), 1<<3
		case "reason":
			f.Reason, bit = s.str(), 1<<4
		case "severity":
			f.Severity, bit = s.str(), 1<<5
		case "recommendedAction":
			f.RecommendedAction, bit = s.str(), 1<<6
		default:
			s.bad = true
		}
		s.once(&seen, bit)
	}
}

func (s *scanner) accountStatus(a *AccountStatus, effectiveAt *time.Time) {
	var seen uint
	for more := s.open('{'); more && !s.bad; more = s.next('}') {
		var bit uint
		switch s.key() {
		case "accountId":
			a.AccountID, bit = s.str(), 1<<0
		case "action":
			a.Action, bit = s.str(), 1<<1
		case "blockedActions":
			a.BlockedActions, bit = s.strings(), 1<<2
		case "monitoringLevel":
			a.MonitoringLevel, bit = s.str(), 1<<3
		case "reason":
			a.Reason, bit = s.str(), 1<<4
		case "effectiveAt":
			// time.Time's own UnmarshalJSON, as encoding/json calls it: it keeps the offset.
			start := s.i
			s.str()
			if !s.bad && effectiveAt.UnmarshalJSON([]byte(s.src[start:s.i])) != nil {
				s.bad = true
			}
			a.EffectiveAt, bit = effectiveAt, 1<<5
		default:
			s.bad = true
		}
		s.once(&seen, bit)
	}
}

func (s *scanner) accountCheck(c *AccountCheck, score *int) {
	var seen uint
	for more := s.open('{'); more && !s.bad; more = s.next('}') {
		var bit uint
		switch s.key() {
		case "accountId":
			c.AccountID, bit = s.str(), 1<<0
		case "customerId":
			c.CustomerID, bit = s.str(), 1<<1
		case "check":
			c.Check, bit = s.str(), 1<<2
		case "outcome":
			c.Outcome, bit = s.str(), 1<<3
		case "score":
			*score, c.Score, bit = s.int(), score, 1<<4
		case "details":
			c.Details, bit = s.str(), 1<<5
		default:
			s.bad = true
		}
		s.once(&seen, bit)
	}
}
