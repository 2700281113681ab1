// Package eventgen makes synthetic event streams with a realistic mix — many accounts with a few hot
// ones, fraud alerts followed by freezes, transactions on frozen accounts, account checks — plus a
// share of invalid, duplicated and conflicting records, and says what the pipeline must make of
// each record. It imports no AWS package.
package eventgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
)

// Options shape a generated stream. The zero value of every field has a sensible default.
type Options struct {
	Events         int       // records to make, invalid and duplicated ones included; 500 by default
	Accounts       int       // distinct accounts; Events/8 (at least 1) by default
	Tenants        []string  // bank clients; ["bank-a", "bank-b"] by default
	InvalidShare   float64   // share of records that can never succeed; 0.03 by default (negative: none)
	DuplicateShare float64   // share of records sent again; 0.05 by default (negative: none)
	Seed           uint64    // the same seed makes the same stream
	Start          time.Time // time of the first event; 2026-11-10T09:00:00Z by default
}

func (o *Options) defaults() {
	if o.Events <= 0 {
		o.Events = 500
	}
	if o.Accounts <= 0 {
		o.Accounts = max(1, o.Events/8)
	}
	if len(o.Tenants) == 0 {
		o.Tenants = []string{"bank-a", "bank-b"}
	}
	if o.InvalidShare == 0 {
		o.InvalidShare = 0.03
	}
	if o.DuplicateShare == 0 {
		o.DuplicateShare = 0.05
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	}
}

// Record is one record to put on the stream.
type Record struct {
	Data         []byte
	PartitionKey string // the account id; records without one use "unknown"
}

// Generate makes a stream of opts.Events records, in the order to send them.
func Generate(opts Options) []Record {
	opts.defaults()
	g := &generator{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)), at: opts.Start}
	invalid := max(0, int(float64(opts.Events)*opts.InvalidShare))
	dups := max(0, int(float64(opts.Events)*opts.DuplicateShare))
	valid := opts.Events - invalid - dups
	var out []Record
	for len(out) < valid {
		out = append(out, g.next()...)
	}
	out = out[:valid]
	for i := 0; i < dups; i++ {
		out = g.insert(out, out[g.rng.IntN(len(out))])
	}
	for i := 0; i < invalid; i++ {
		out = g.insert(out, g.invalid(i, out[:valid]))
	}
	return out
}

type generator struct {
	opts   Options
	rng    *rand.Rand
	at     time.Time
	n      int
	frozen map[string]bool
}

// account picks an account: a tenth of the accounts take half the traffic.
func (g *generator) account() (tenant, acc string) {
	a := g.rng.IntN(g.opts.Accounts)
	if hot := max(1, g.opts.Accounts/10); g.rng.IntN(2) == 0 {
		a = g.rng.IntN(hot)
	}
	return g.opts.Tenants[a%len(g.opts.Tenants)], fmt.Sprintf("acc-%05d", a)
}

func (g *generator) event(tenant, acc string, t event.Type, source string, data map[string]any) Record {
	g.n++
	g.at = g.at.Add(time.Duration(1+g.rng.IntN(3000)) * time.Millisecond)
	data["accountId"] = acc
	b, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": fmt.Sprintf("gen-%08d-%04x", g.n, g.rng.Uint32()&0xffff), "source": source,
		"type": string(t), "time": g.at.Format(time.RFC3339Nano), "subject": acc,
		"datacontenttype": "application/json", "tenant": tenant, "data": data,
	})
	return Record{Data: b, PartitionKey: acc}
}

// next makes one scenario step: mostly transactions, sometimes a check, a fraud alert (a severe
// one followed by the bank's freeze), or an unfreeze of a frozen account.
func (g *generator) next() []Record {
	if g.frozen == nil {
		g.frozen = map[string]bool{}
	}
	tenant, acc := g.account()
	switch r := g.rng.IntN(100); {
	case r < 8:
		return []Record{g.event(tenant, acc, event.TypeAccountCheck, "urn:bank:core", map[string]any{
			"check": []string{"kyc", "balance", "fraud_screen", "sanctions"}[g.rng.IntN(4)], "outcome": []string{"pass", "pass", "pass", "review", "fail"}[g.rng.IntN(5)]})}
	case r < 14:
		score := 40 + g.rng.IntN(61)
		severity, action := event.SeverityMedium, event.RecommendMonitor
		if score >= 90 {
			severity, action = event.SeverityCritical, event.RecommendFreeze
		} else if score >= 70 {
			severity = event.SeverityHigh
		}
		out := []Record{g.event(tenant, acc, event.TypeFraudAlert, "urn:bank:fraud-monitoring", map[string]any{
			"score": score, "reason": "pattern " + fmt.Sprint(g.rng.IntN(20)), "severity": severity, "recommendedAction": action})}
		if action == event.RecommendFreeze {
			g.frozen[tenant+acc] = true
			out = append(out, g.event(tenant, acc, event.TypeAccountStatus, "urn:bank:core", map[string]any{
				"action": "freeze", "blockedActions": []string{"debit", "card"}, "reason": "fraud alert confirmed"}))
		}
		return out
	case r < 17 && g.frozen[tenant+acc]:
		delete(g.frozen, tenant+acc)
		return []Record{g.event(tenant, acc, event.TypeAccountStatus, "urn:bank:core", map[string]any{"action": "unfreeze", "reason": "customer verified"})}
	case r < 18:
		return []Record{g.event(tenant, acc, event.TypeAccountStatus, "urn:bank:core", map[string]any{"action": "monitor", "reason": "periodic review"})}
	}
	data := map[string]any{
		"transactionId": uuid(g.rng), "customerId": "cus-" + strings.TrimPrefix(acc, "acc-"),
		"amount": 100 + g.rng.IntN(50000), "currency": []string{"EUR", "EUR", "GBP", "USD"}[g.rng.IntN(4)],
		"direction": []string{"debit", "debit", "credit"}[g.rng.IntN(3)], "channel": []string{"card", "card", "atm", "transfer", "online"}[g.rng.IntN(5)],
		"fraudScore": g.rng.IntN(101),
	}
	if data["channel"] == "card" {
		data["merchant"] = map[string]any{"name": "Merchant " + fmt.Sprint(g.rng.IntN(500)), "mcc": "5411", "country": "IE"}
	}
	return []Record{g.event(tenant, acc, event.TypeTransaction, "urn:bank:authorizer", data)}
}

// invalid makes a record that can never succeed, cycling through the ways to be wrong.
func (g *generator) invalid(i int, sent []Record) Record {
	tenant, acc := g.account()
	switch i % 6 {
	case 0:
		return Record{Data: []byte(`{"specversion":"1.0","id":"broken`), PartitionKey: acc}
	case 1:
		return g.event(tenant, acc, event.TypeTransaction, "urn:bank:authorizer", map[string]any{"transactionId": uuid(g.rng), "customerId": "c", "amount": 10, "currency": "EURO", "direction": "debit"})
	case 2:
		return g.event(tenant, acc, "loan_application", "urn:bank:core", map[string]any{})
	case 3:
		return g.event(tenant, acc, event.TypeFraudAlert, "urn:bank:fraud-monitoring", map[string]any{"score": 140, "reason": "x", "severity": "critical", "recommendedAction": "freeze"})
	case 4:
		// An id already used, with other content: a conflict.
		var m map[string]any
		if json.Unmarshal(sent[g.rng.IntN(len(sent))].Data, &m) == nil && m["specversion"] != nil {
			m["source"] = "urn:bank:replayed"
			b, _ := json.Marshal(m)
			return Record{Data: b, PartitionKey: fmt.Sprint(m["subject"])}
		}
	}
	return Record{Data: []byte(`{"pad":"` + strings.Repeat("x", event.MaxRecordBytes) + `"}`), PartitionKey: acc}
}

// insert puts r at a random place after the first record.
func (g *generator) insert(out []Record, r Record) []Record {
	i := 1 + g.rng.IntN(len(out))
	out = append(out, Record{})
	copy(out[i+1:], out[i:])
	out[i] = r
	return out
}

func uuid(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffffffffffff)
}
