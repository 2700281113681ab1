package e2e_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/go-event-processor/go-event-processor/event"
)

// sent is one record put on the stream and what the test expects of it.
type sent struct {
	data       []byte
	account    string
	tenant     string
	id         string
	typ        event.Type
	quarantine string // the reject code expected, or "" for an event to store
	duplicate  bool   // the same event was sent before
	blockedBy  string // for transactions: the event expected to block it
	at         time.Time
}

func (s sent) partitionKey() string {
	if s.account == "" {
		return "no-account"
	}
	return s.account
}

var base = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

func envelope(tenant, id string, typ event.Type, at time.Time, account string, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "source": "urn:bank:test", "type": string(typ), "time": at.Format(time.RFC3339Nano),
		"subject": account, "datacontenttype": "application/json", "tenant": tenant, "data": data,
	})
	return b
}

func uuidFor(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// mix builds a mixed stream: every type over many accounts and two tenants, account effects whose
// outcome depends on event time, duplicates, conflicts, invalid records and the prototype's shape.
func mix(accounts, perAccount int) []sent {
	var out []sent
	n := 0
	next := func() int { n++; return n }
	for a := 0; a < accounts; a++ {
		tenant := "bank-a"
		if a%4 == 3 {
			tenant = "bank-b"
		}
		acc := fmt.Sprintf("acc-%03d", a)
		add := func(typ event.Type, min int, data map[string]any) *sent {
			id := fmt.Sprintf("evt-%05d", next())
			at := base.Add(time.Duration(min) * time.Minute)
			data["accountId"] = acc
			out = append(out, sent{data: envelope(tenant, id, typ, at, acc, data), account: acc, tenant: tenant, id: id, typ: typ, at: at})
			return &out[len(out)-1]
		}
		var freezeID string
		switch a % 5 {
		case 1: // frozen by the bank from minute 5 to 20: debits in between are flagged
			freezeID = add(event.TypeAccountStatus, 5, map[string]any{"action": "freeze", "blockedActions": []string{"debit"}, "reason": "card stolen"}).id
			add(event.TypeAccountStatus, 20, map[string]any{"action": "unfreeze", "reason": "card found"})
		case 2: // fraud alert recommends freeze at minute 10
			freezeID = add(event.TypeFraudAlert, 10, map[string]any{"score": 95, "reason": "impossible travel", "severity": "critical", "recommendedAction": "freeze"}).id
		case 3:
			add(event.TypeFraudAlert, 3, map[string]any{"score": 55, "reason": "unusual merchant", "severity": "medium", "recommendedAction": "monitor"})
		}
		add(event.TypeAccountCheck, 1, map[string]any{"check": "kyc", "outcome": "pass"})
		for i := 0; i < perAccount; i++ {
			min := 2 + i*25/perAccount
			dir := []string{"debit", "credit"}[i%2]
			s := add(event.TypeTransaction, min, map[string]any{"transactionId": uuidFor(n + 1), "customerId": "cus-" + acc,
				"amount": 100 + i, "currency": "EUR", "direction": dir, "channel": "card", "fraudScore": i % 100})
			if dir == "debit" && ((a%5 == 1 && min >= 5 && min < 20) || (a%5 == 2 && min >= 10)) {
				s.blockedBy = freezeID
			}
		}
	}
	valid := len(out)
	// Duplicates: the same bytes again, and the same event reformatted.
	for i := 0; i < valid; i += 7 {
		d := out[i]
		d.duplicate = true
		if i%2 == 0 {
			var m map[string]any
			_ = json.Unmarshal(d.data, &m)
			d.data, _ = json.MarshalIndent(m, "", "  ")
		}
		out = append(out, d)
	}
	// Conflicts: an id reused with other content.
	for i := 3; i < valid; i += 41 {
		c := out[i]
		c.data = []byte(strings.Replace(string(c.data), `"source":"urn:bank:test"`, `"source":"urn:bank:other"`, 1))
		c.quarantine, c.duplicate, c.blockedBy = event.CodeConflict, false, ""
		out = append(out, c)
	}
	// Records that can never succeed.
	bad := func(code string, data string) {
		out = append(out, sent{data: []byte(data), quarantine: code, account: "acc-000"})
	}
	bad(event.CodeNotJSON, `{"id": "truncated`)
	bad(event.CodeNotJSON, `just text`)
	bad(event.CodeUnknownType, string(envelope("bank-a", "evt-x1", "loan", base, "acc-000", map[string]any{"accountId": "acc-000"})))
	bad(event.CodeInvalid, string(envelope("bank-a", "evt-x2", event.TypeTransaction, base, "acc-000", map[string]any{
		"accountId": "acc-000", "transactionId": uuidFor(999999), "customerId": "c", "amount": 5, "currency": "EURO", "direction": "debit"})))
	bad(event.CodeInvalid, string(envelope("bank-a", "evt-x3", event.TypeFraudAlert, base, "acc-000", map[string]any{"accountId": "acc-000", "score": 101})))
	bad(event.CodeOversize, `{"pad":"`+strings.Repeat("x", event.MaxRecordBytes)+`"}`)
	// The prototype's shape: two accepted, one refused.
	proto := func(id, typ, time string, score int) string {
		return fmt.Sprintf(`{"ID":%q,"Source":"application","Client":"bank-a","Type":%q,"Event":{"TransactionID":"4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c","FraudScore":%d,"CustomerID":"5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716","AccountID":"9b2d7c1e-0a4f-4e8b-8c3d-5f6a7b8c9d00","Time":%q}}`, id, typ, score, time)
	}
	out = append(out,
		sent{data: []byte(proto("7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01", "transaction", "2026-11-10T09:30:00Z", 20)), account: "9b2d7c1e-0a4f-4e8b-8c3d-5f6a7b8c9d00", tenant: "bank-a", id: "7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e01", typ: event.TypeTransaction, at: base.Add(30 * time.Minute)},
		sent{data: []byte(proto("7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e02", "check_account", "2026-11-10T09:31:00Z", 75)), account: "9b2d7c1e-0a4f-4e8b-8c3d-5f6a7b8c9d00", tenant: "bank-a", id: "7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e02", typ: event.TypeAccountCheck, at: base.Add(31 * time.Minute)},
		sent{data: []byte(proto("7c1f6a52-0d55-4c8e-9a51-2f0c1b7a9e03", "transaction", "not a time", 20)), account: "9b2d7c1e-0a4f-4e8b-8c3d-5f6a7b8c9d00", quarantine: event.CodeInvalid},
	)
	return out
}

// expected is what a mixed stream must leave in the table.
type expected struct {
	stored      map[string]sent // by tenant/id
	quarantined map[string]int  // by reject code
	perAccount  map[string]int  // stored events by tenant/account
	perType     map[string]int  // stored events by tenant/type
}

// expect tallies what recs must leave: each valid event once, the rest quarantined by code.
func expect(recs []sent) expected {
	ex := expected{stored: map[string]sent{}, quarantined: map[string]int{}, perAccount: map[string]int{}, perType: map[string]int{}}
	for _, r := range recs {
		switch {
		case r.quarantine != "":
			ex.quarantined[r.quarantine]++
		case !r.duplicate:
			ex.stored[r.tenant+"/"+r.id] = r
			ex.perAccount[r.tenant+"/"+r.account]++
			ex.perType[r.tenant+"/"+string(r.typ)]++
		}
	}
	return ex
}
