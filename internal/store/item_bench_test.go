package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/invopop/validation"
	"github.com/invopop/validation/is"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/perrecord"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// seq is a Kinesis sequence number of realistic length.
func seq(i int) string {
	return fmt.Sprintf("4959033827149025660855969253836157109592157598913658%04d", i)
}

// BenchmarkHotPathItem measures the per-record hot path of a type function: a Kinesis record's
// bytes → event.Decode (envelope, typed payload, validation) → Fingerprint → the DynamoDB item
// (eventItem). Per batch it does what Put does besides: allocate the writes and the items, and
// format the time of the write.
func BenchmarkHotPathItem(b *testing.B) {
	s := New(nil, "events")
	for _, t := range event.Types {
		for _, n := range eventgen.HotPathBatchSizes {
			records := eventgen.OfType(t, n)
			seqs := make([]string, n)
			for i := range seqs {
				seqs[i] = seq(i)
			}
			b.Run(fmt.Sprintf("%s/batch=%d", t, n), func(b *testing.B) {
				perrecord.Measure(b, n, func() {
					storedAt := s.now().UTC().Format(time.RFC3339Nano)
					writes := make([]typefn.Write, n)
					items := make([]map[string]types.AttributeValue, n)
					for i, raw := range records {
						e, err := event.Decode(raw)
						if err != nil {
							b.Fatal(err)
						}
						writes[i] = typefn.Write{Event: e, Fingerprint: e.Fingerprint(), SequenceNumber: seqs[i]}
						if items[i], err = s.eventItem(&writes[i], storedAt); err != nil {
							b.Fatal(err)
						}
					}
					itemSink = items
				})
			})
		}
	}
}

// BenchmarkHotPathPrototype is the baseline: the same records handled the way the prototype did,
// one at a time, with its validator built for every record. It decodes into a generic map, builds
// the invopop/validation rules of the envelope and the payload for the record, validates the
// map, and marshals it into an item with attributevalue's reflection.
func BenchmarkHotPathPrototype(b *testing.B) {
	for _, t := range event.Types {
		records := eventgen.OfType(t, 1000)
		b.Run(fmt.Sprintf("%s/batch=1", t), func(b *testing.B) {
			i := 0
			perrecord.Measure(b, 1, func() {
				item, err := prototypeItem(records[i%len(records)])
				if err != nil {
					b.Fatal(err)
				}
				itemSink = []map[string]types.AttributeValue{item}
				i++
			})
		})
	}
}

var itemSink []map[string]types.AttributeValue

// The prototype's patterns, compiled once: building the rules per record is what it did, and
// compiling regular expressions per record would make the baseline slower than it was.
var (
	protoIdentifier = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)
	protoCurrency   = regexp.MustCompile(`^[A-Z]{3}$`)
	protoMCC        = regexp.MustCompile(`^[0-9]{4}$`)
	protoCountry    = regexp.MustCompile(`^[A-Z]{2}$`)
	protoTenant     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// prototypeItem handles one record the prototype's way.
func prototypeItem(raw []byte) (map[string]types.AttributeValue, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	id := validation.Match(protoIdentifier)
	score := []validation.Rule{validation.Min(0.0), validation.Max(100.0)}
	var data validation.MapRule
	switch m["type"] {
	case string(event.TypeTransaction):
		data = validation.Map(
			validation.Key("transactionId", validation.Required, is.UUID),
			validation.Key("accountId", validation.Required, id),
			validation.Key("customerId", validation.Required, id),
			validation.Key("amount", validation.Min(1.0)).Optional(),
			validation.Key("currency", validation.Match(protoCurrency)).Optional(),
			validation.Key("direction", validation.In("debit", "credit")).Optional(),
			validation.Key("channel", validation.In("card", "atm", "transfer", "online")).Optional(),
			validation.Key("merchant", validation.Map(
				validation.Key("name", validation.Required, validation.Length(1, 128)),
				validation.Key("mcc", validation.Match(protoMCC)).Optional(),
				validation.Key("country", validation.Match(protoCountry)).Optional(),
			)).Optional(),
			validation.Key("fraudScore", score...).Optional(),
		)
	case string(event.TypeFraudAlert):
		data = validation.Map(
			validation.Key("accountId", validation.Required, id),
			validation.Key("score", score...),
			validation.Key("reason", validation.Required, validation.Length(1, 500)),
			validation.Key("severity", validation.Required, validation.In("low", "medium", "high", "critical")),
			validation.Key("recommendedAction", validation.Required, validation.In("monitor", "freeze")),
		)
	case string(event.TypeAccountStatus):
		data = validation.Map(
			validation.Key("accountId", validation.Required, id),
			validation.Key("action", validation.Required, validation.In("freeze", "unfreeze", "monitor")),
			validation.Key("blockedActions", validation.Each(validation.In("debit", "credit", "card", "atm", "transfer", "online"))).Optional(),
			validation.Key("monitoringLevel", validation.In("low", "medium", "high", "critical")).Optional(),
			validation.Key("reason", validation.Required, validation.Length(1, 500)),
		)
	default:
		data = validation.Map(
			validation.Key("accountId", validation.Required, id),
			validation.Key("check", validation.Required, validation.In("kyc", "balance", "fraud_screen", "sanctions")),
			validation.Key("outcome", validation.Required, validation.In("pass", "review", "fail")),
			validation.Key("score", score...).Optional(),
		)
	}
	err := validation.Validate(m, validation.Map(
		validation.Key("specversion", validation.Required, validation.In("1.0")),
		validation.Key("id", validation.Required, validation.Length(1, 128)),
		validation.Key("source", validation.Required, validation.Length(1, 256)),
		validation.Key("type", validation.Required),
		validation.Key("time", validation.Required, validation.Date(time.RFC3339Nano)),
		validation.Key("subject", validation.Required),
		validation.Key("datacontenttype", validation.In("application/json")).Optional(),
		validation.Key("tenant", validation.Required, validation.Match(protoTenant)),
		validation.Key("data", validation.Required, data),
	))
	if err != nil {
		return nil, err
	}
	m["pk"], m["sk"] = fmt.Sprint(m["tenant"], "#", m["id"]), "EVENT"
	return attributevalue.MarshalMap(m)
}

// referenceItem is eventItem as it was written first, with attributevalue's reflection: the
// reference the hand-built item must equal.
func referenceItem(w *typefn.Write, storedAt string) (map[string]types.AttributeValue, error) {
	e := w.Event
	data, err := attributevalue.MarshalWithOptions(e.Data, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
	if err != nil {
		return nil, err
	}
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := map[string]types.AttributeValue{
		attrPK: str(eventPK(e.Tenant, e.ID)), attrSK: str(skEvent),
		"id": str(e.ID), "tenant": str(e.Tenant), "type": str(string(e.Type)), "source": str(e.Source),
		"subject": str(e.Subject), "accountId": str(e.Data.Account()), "time": str(e.Time.Format(time.RFC3339Nano)),
		"specversion": str(e.SpecVersion), "data": data, "fingerprint": str(w.Fingerprint),
		"storedAt": str(storedAt),
	}
	if e.DataContentType != "" {
		item["datacontenttype"] = str(e.DataContentType)
	}
	if w.SequenceNumber != "" {
		item["sequenceNumber"] = str(w.SequenceNumber)
	}
	if w.BlockedBy != "" {
		item["blockedBy"] = str(w.BlockedBy)
	}
	return item, nil
}

// otherPayload is a payload type eventItem does not encode by hand.
type otherPayload struct {
	AccountID string `json:"accountId"`
	Count     int    `json:"count"`
}

func (p *otherPayload) Account() string { return p.AccountID }
func (p *otherPayload) Validate() error { return nil }

func TestEventItemIsAttributevalue(t *testing.T) {
	var writes []typefn.Write
	for i, r := range eventgen.Generate(eventgen.Options{Events: 3000, InvalidShare: -1, Seed: 8}) {
		e, err := event.Decode(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		w := typefn.Write{Event: e, Fingerprint: e.Fingerprint()}
		if i%2 == 0 {
			w.SequenceNumber, w.BlockedBy = seq(i), "evt-freeze"
		}
		writes = append(writes, w)
	}
	// Every optional field, present and absent, and values attributevalue writes its own way.
	at := time.Date(2026, 11, 10, 23, 30, 0, 5, time.FixedZone("", -5*3600))
	amount, score, zero := int64(-7), 100, 0
	envelope := func(p event.Payload) *event.Event {
		return &event.Event{SpecVersion: "1.0", ID: "e-1", Source: "s", Type: event.TypeAccountStatus, Subject: p.Account(),
			Time: time.Date(2026, 11, 10, 23, 0, 0, 120, time.FixedZone("", 3600)), Tenant: "t", Data: p}
	}
	for _, p := range []event.Payload{
		&event.AccountStatus{AccountID: "a", Action: "freeze", BlockedActions: []string{"debit", "atm"}, EffectiveAt: &at, MonitoringLevel: "low", Reason: "r"},
		&event.AccountStatus{AccountID: "a", Action: "freeze", BlockedActions: []string{}},
		&event.AccountStatus{},
		&event.Transaction{TransactionID: "x", Amount: &amount, FraudScore: &zero, Merchant: &event.Merchant{Name: "n", Terminal: "t", MCC: "1", Country: "IE"}},
		&event.Transaction{Merchant: &event.Merchant{}},
		&event.FraudAlert{AccountID: "a", CustomerID: "c", TransactionID: "t"},
		&event.FraudAlert{},
		&event.AccountCheck{Score: &score, Details: "d", CustomerID: "c"},
		&event.AccountCheck{Score: &zero},
		&otherPayload{AccountID: "a", Count: 3},
	} {
		e := envelope(p)
		writes = append(writes, typefn.Write{Event: e, Fingerprint: "f"}, typefn.Write{Event: e, Fingerprint: "f", SequenceNumber: "1", BlockedBy: "b"})
		e2 := *e
		e2.DataContentType, e2.Type = event.ContentTypeJSON, event.TypeTransaction
		writes = append(writes, typefn.Write{Event: &e2})
	}
	s := New(nil, "events")
	storedAt := time.Now().UTC().Format(time.RFC3339Nano)
	for _, w := range writes {
		got, err := s.eventItem(&w, storedAt)
		if err != nil {
			t.Fatal(err)
		}
		want, err := referenceItem(&w, storedAt)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("event %+v %+v:\ngot  %s\nwant %s", w.Event, w.Event.Data, dump(got), dump(want))
		}
		if itemSize(got) != itemSize(want) {
			t.Fatalf("itemSize %d, want %d", itemSize(got), itemSize(want))
		}
	}
}

func dump(item map[string]types.AttributeValue) string {
	var b strings.Builder
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", k, dumpValue(item[k]))
	}
	return b.String()
}

func dumpValue(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S(%q)", v.Value)
	case *types.AttributeValueMemberN:
		return fmt.Sprintf("N(%s)", v.Value)
	case *types.AttributeValueMemberM:
		return "M{" + dump(v.Value) + "}"
	case *types.AttributeValueMemberL:
		var parts []string
		for _, x := range v.Value {
			parts = append(parts, dumpValue(x))
		}
		return "L[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf("%T%v", v, v)
}
