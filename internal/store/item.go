package store

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// eventItem is the stored form of an event: its envelope attributes, data as a native map, the
// keys of every access pattern, its fingerprint, its flag, and storedAt, the time of the write.
//
// It is on every record's path, so it is built without reflection and with few allocations: the
// keys and texts share one string, the attribute values one block (itemValues). The data of the
// known payload types is the map attributevalue makes of them with their json names (a test keeps
// the two equal); other payloads go through attributevalue.
func (s *Store) eventItem(w *typefn.Write, storedAt string) (map[string]types.AttributeValue, error) {
	e := w.Event
	var pk, at span
	var buf [192]byte
	b := appendText(buf[:0], &pk, "EVT#", e.Tenant, "#", e.ID)
	b = appendTime(b, &at, e.Time, time.RFC3339Nano, "")
	v := new(itemValues)
	data, b, err := v.data(e.Data, b)
	if err != nil {
		return nil, err
	}
	text := string(b) // every key and number of the item, in one allocation
	v.fill(text)
	item := make(map[string]types.AttributeValue, 20)
	item[attrPK], item[attrSK] = v.str(pk.of(text)), v.str(skEvent)
	item["id"], item["tenant"], item["type"] = v.str(e.ID), v.str(e.Tenant), v.str(string(e.Type))
	item["source"], item["subject"], item["accountId"] = v.str(e.Source), v.str(e.Subject), v.str(e.Data.Account())
	item["time"], item["specversion"] = v.str(at.of(text)), v.str(e.SpecVersion)
	item["data"], item["fingerprint"] = data, v.str(w.Fingerprint)
	if storedAt != "" {
		item["storedAt"] = v.str(storedAt)
	}
	if e.DataContentType != "" {
		item["datacontenttype"] = v.str(e.DataContentType)
	}
	if w.SequenceNumber != "" {
		item["sequenceNumber"] = v.str(w.SequenceNumber)
	}
	if w.BlockedBy != "" {
		item["blockedBy"] = v.str(w.BlockedBy)
	}
	return item, nil
}

// timeKeyLayout is event.TimeKey's layout.
const timeKeyLayout = "2006-01-02T15:04:05.000000000Z"

// itemValues holds the attribute values of one event item, allocated together. Numbers are
// filled in from the item's texts once those are one string (fill).
type itemValues struct {
	s          [30]types.AttributeValueMemberS
	n          [2]types.AttributeValueMemberN
	nText      [2]span // where the numbers' texts are
	m          [2]types.AttributeValueMemberM
	l          types.AttributeValueMemberL
	ns, nn, nm int // values of s, n and m in use
}

// str returns a string value; past the block's capacity, a value of its own.
func (v *itemValues) str(s string) types.AttributeValue {
	if v.ns == len(v.s) {
		return &types.AttributeValueMemberS{Value: s}
	}
	p := &v.s[v.ns]
	v.ns++
	p.Value = s
	return p
}

// num returns a number value for n, and appends its text to b (fill sets it).
func (v *itemValues) num(n int64, b []byte) (types.AttributeValue, []byte) {
	p := &v.n[v.nn]
	v.nText[v.nn].from = len(b)
	b = strconv.AppendInt(b, n, 10)
	v.nText[v.nn].to = len(b)
	v.nn++
	return p, b
}

// fill sets the numbers' texts, from the item's texts as one string.
func (v *itemValues) fill(text string) {
	for i := range v.nn {
		v.n[i].Value = v.nText[i].of(text)
	}
}

// mapOf returns an empty map value of capacity n.
func (v *itemValues) mapOf(n int) (*types.AttributeValueMemberM, map[string]types.AttributeValue) {
	p := &v.m[v.nm]
	v.nm++
	p.Value = make(map[string]types.AttributeValue, n)
	return p, p.Value
}

// data is the map attributevalue makes of a payload with its json names: omitempty fields are
// left out when empty (a slice when nil), numbers are N, a slice of strings is an L, a time is
// its RFC 3339 text.
// Numbers' texts are appended to b.
func (v *itemValues) data(p event.Payload, b []byte) (types.AttributeValue, []byte, error) {
	optional := func(m map[string]types.AttributeValue, name, value string) {
		if value != "" {
			m[name] = v.str(value)
		}
	}
	switch p := p.(type) {
	case *event.Transaction:
		av, m := v.mapOf(9)
		m["transactionId"], m["accountId"], m["customerId"] = v.str(p.TransactionID), v.str(p.AccountID), v.str(p.CustomerID)
		if p.Amount != nil {
			m["amount"], b = v.num(*p.Amount, b)
		}
		optional(m, "currency", p.Currency)
		optional(m, "direction", p.Direction)
		optional(m, "channel", p.Channel)
		if p.Merchant != nil {
			merchant, mm := v.mapOf(4)
			mm["name"] = v.str(p.Merchant.Name)
			optional(mm, "mcc", p.Merchant.MCC)
			optional(mm, "country", p.Merchant.Country)
			optional(mm, "terminal", p.Merchant.Terminal)
			m["merchant"] = merchant
		}
		if p.FraudScore != nil {
			m["fraudScore"], b = v.num(int64(*p.FraudScore), b)
		}
		return av, b, nil
	case *event.FraudAlert:
		av, m := v.mapOf(7)
		m["accountId"] = v.str(p.AccountID)
		optional(m, "customerId", p.CustomerID)
		optional(m, "transactionId", p.TransactionID)
		m["score"], b = v.num(int64(p.Score), b)
		m["reason"] = v.str(p.Reason)
		m["severity"], m["recommendedAction"] = v.str(p.Severity), v.str(p.RecommendedAction)
		return av, b, nil
	case *event.AccountStatus:
		av, m := v.mapOf(6)
		m["accountId"], m["action"] = v.str(p.AccountID), v.str(p.Action)
		if p.BlockedActions != nil { // attributevalue's omitempty leaves out nil, not empty
			v.l.Value = make([]types.AttributeValue, len(p.BlockedActions))
			for i, a := range p.BlockedActions {
				v.l.Value[i] = v.str(a)
			}
			m["blockedActions"] = &v.l
		}
		optional(m, "monitoringLevel", p.MonitoringLevel)
		m["reason"] = v.str(p.Reason)
		if p.EffectiveAt != nil {
			m["effectiveAt"] = v.str(p.EffectiveAt.Format(time.RFC3339Nano))
		}
		return av, b, nil
	case *event.AccountCheck:
		av, m := v.mapOf(6)
		m["accountId"] = v.str(p.AccountID)
		optional(m, "customerId", p.CustomerID)
		m["check"], m["outcome"] = v.str(p.Check), v.str(p.Outcome)
		if p.Score != nil {
			m["score"], b = v.num(int64(*p.Score), b)
		}
		optional(m, "details", p.Details)
		return av, b, nil
	}
	av, err := attributevalue.MarshalWithOptions(p, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
	return av, b, err
}

// appendText appends the concatenation of parts to b and notes where it is in *at.
func appendText(b []byte, at *span, parts ...string) []byte {
	at.from = len(b)
	for _, p := range parts {
		b = append(b, p...)
	}
	at.to = len(b)
	return b
}

// appendTime appends tm formatted with layout, then suffix, and notes where it is in *at.
func appendTime(b []byte, at *span, tm time.Time, layout, suffix string) []byte {
	at.from = len(b)
	b = tm.AppendFormat(b, layout)
	b = append(b, suffix...)
	at.to = len(b)
	return b
}

// span is where a text is in the string of an item's texts.
type span struct{ from, to int }

func (s span) of(text string) string { return text[s.from:s.to] }

func fingerprintOf(item map[string]types.AttributeValue) string {
	if v, ok := item["fingerprint"].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// itemSize estimates an item's size as DynamoDB counts it (names plus values), from above.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberM:
		n := 3
		for name, x := range v.Value {
			n += len(name) + valueSize(x) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, x := range v.Value {
			n += valueSize(x) + 1
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, x := range v.Value {
			n += len(x)
		}
		return n
	}
	return 8
}
