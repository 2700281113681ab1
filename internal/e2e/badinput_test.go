package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// badInputCaughtUp bounds the time from the last put to the event source mapping having
// checkpointed the whole stream. A record that can never succeed is quarantined the first time
// the router sees it, so the stream takes a few batches' time: seconds here. A record that holds
// its batch back instead makes the mapping retry the batch MaximumRetryAttempts (10) times, with
// backoff up to 5 s, about half a minute, before it goes to OnFailure. The bound leaves room for
// a loaded two-core machine, and for no more than a few such batches.
const badInputCaughtUp = 120 * time.Second

// Seeds of the stream: the same records, so the same counts, on every run.
const (
	badInputSeed   = 20261110
	badInputValid  = 300 // valid events
	badInputOwners = 30  // accounts of the valid events
)

// streamed is one record of the test's stream.
type streamed struct {
	kind  string       // what the record is, for messages: "valid transaction", "oversize: huge id", …
	data  []byte       // as put
	key   string       // partition key
	event *event.Event // the event to persist; nil for a record that can never succeed
	orig  *streamed    // for a conflict: the event whose id it reuses
	shard string       // where the stream put it
	seq   string
}

// raw is JSON text written as it is, even when it is not valid JSON or not UTF-8.
type raw string

// field is one member of a JSON object: a raw value is written as it is, any other as
// encoding/json writes it.
type field struct {
	name  string
	value any
}

// object writes fields as a JSON object, in their order, repeated names included.
func object(fields ...field) raw {
	b := []byte{'{'}
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(f.name)
		b = append(append(b, name...), ':')
		switch v := f.value.(type) {
		case raw:
			b = append(b, v...)
		default:
			j, err := json.Marshal(v)
			if err != nil {
				panic(err)
			}
			b = append(b, j...)
		}
	}
	return raw(append(b, '}'))
}

// with returns fields with the value of name replaced, or the field added at the end.
func with(fields []field, name string, value any) []field {
	out := slices.Clone(fields)
	for i := range out {
		if out[i].name == name {
			out[i].value = value
			return out
		}
	}
	return append(out, field{name, value})
}

// without returns fields without name.
func without(fields []field, name string) []field {
	return slices.DeleteFunc(slices.Clone(fields), func(f field) bool { return f.name == name })
}

// badStream builds the bad records of the stream, each next to a valid version of itself (its
// base) that must decode, so that every record is wrong in exactly the way its kind says.
type badStream struct {
	t     *testing.T
	rng   *rand.Rand
	run   string
	valid []*streamed
	n     int
	out   []*streamed
}

// owner picks whom a bad record claims to be: every other one travels with the partition key,
// tenant and account of a valid event (so that the router holds that account's later events back
// if the record fails), the others with an account of their own.
func (b *badStream) owner() (key, tenant, account string) {
	b.n++
	if b.n%2 == 0 {
		v := b.valid[b.rng.IntN(len(b.valid))]
		return v.key, v.event.Tenant, v.event.Data.Account()
	}
	acc := fmt.Sprintf("acc-bad-%03d", b.n)
	return acc, b.run + "-a", acc
}

// envelope is a valid envelope of the record being made, as producers write it.
func (b *badStream) envelope(typ event.Type, tenant, account string, data raw) []field {
	return []field{
		{"specversion", "1.0"}, {"id", fmt.Sprintf("bad-%s-%04d", b.run, b.n)}, {"source", "urn:bank:test"},
		{"type", string(typ)}, {"time", base.Add(time.Duration(b.n) * time.Minute).Format(time.RFC3339)},
		{"subject", account}, {"datacontenttype", "application/json"}, {"tenant", tenant}, {"data", data},
	}
}

func (b *badStream) transaction(account string) []field {
	return []field{
		{"transactionId", uuidFor(900000 + b.n)}, {"accountId", account}, {"customerId", "cus-" + account},
		{"amount", 1250}, {"currency", "EUR"}, {"direction", "debit"}, {"channel", "card"},
		{"merchant", object(merchant("Corner Shop")...)}, {"fraudScore", 12},
	}
}

func merchant(name any) []field {
	return []field{{"name", name}, {"mcc", "5411"}, {"country", "IE"}}
}

func fraudAlert(account string) []field {
	return []field{{"accountId", account}, {"score", 55}, {"reason", "unusual merchant"}, {"severity", "medium"}, {"recommendedAction", "monitor"}}
}

// add records a bad record; base, when not nil, is the same record without its fault, which
// must be a valid event.
func (b *badStream) add(kind, key string, base []field, bad raw) {
	b.t.Helper()
	if base != nil {
		if _, err := event.Decode([]byte(object(base...))); err != nil {
			b.t.Fatalf("test bug: the valid version of %q does not decode: %v", kind, err)
		}
	}
	if len(bad)+len(key) > kinesisMaxRecordBytes {
		b.t.Fatalf("test bug: %q is %d bytes", kind, len(bad))
	}
	b.out = append(b.out, &streamed{kind: kind, data: []byte(bad), key: key})
}

// oversize records a record of size bytes (at most what Kinesis takes with its key) that begins
// like a valid event and is made that large by one huge value: set(fields, v) puts v where it
// belongs.
func (b *badStream) oversize(kind string, size int, typ event.Type, data func(account string) []field, set func(f []field, huge string) []field) {
	b.t.Helper()
	key, tenant, account := b.owner()
	env := b.envelope(typ, tenant, account, object(data(account)...))
	size = min(size, kinesisMaxRecordBytes-len(key))
	pad := size - len(object(set(env, "")...))
	b.add("oversize: "+kind, key, env, object(set(env, strings.Repeat("x", pad))...))
}

// badRecords makes every kind of record that can never succeed.
func (b *badStream) badRecords() {
	// Oversize, 300 KB to 1 MiB (Kinesis's limit), each kind at the low end, in between and at
	// the top. The record begins like an event; one member is huge.
	sizes := func() []int { return []int{300_000, 300_000 + b.rng.IntN(700_000), kinesisMaxRecordBytes} }
	envelopeMember := func(name string) func([]field, string) []field {
		return func(f []field, huge string) []field { return with(f, name, huge) }
	}
	for _, size := range sizes() {
		b.oversize("huge id", size, event.TypeTransaction, b.transaction, envelopeMember("id"))
	}
	for _, size := range sizes() {
		b.oversize("huge type", size, event.TypeTransaction, b.transaction, func(f []field, huge string) []field {
			return with(f, "type", "transaction"+huge)
		})
	}
	for _, size := range sizes() {
		b.oversize("huge tenant", size, event.TypeTransaction, b.transaction, func(f []field, huge string) []field {
			return with(f, "tenant", b.run+"-a"+huge)
		})
	}
	for _, size := range sizes() {
		b.oversize("huge source", size, event.TypeFraudAlert, fraudAlert, func(f []field, huge string) []field {
			return with(f, "source", "urn:bank:"+huge)
		})
	}
	for _, size := range sizes() {
		b.oversize("huge subject", size, event.TypeFraudAlert, fraudAlert, func(f []field, huge string) []field {
			return with(f, "subject", huge)
		})
	}
	for _, size := range sizes() {
		b.oversize("huge extension attribute", size, event.TypeTransaction, b.transaction, func(f []field, huge string) []field {
			return with(f, "traceparent", huge) // an extension attribute, as CloudEvents allows
		})
	}
	for _, size := range sizes() {
		key, tenant, account := b.owner()
		env := b.envelope(event.TypeFraudAlert, tenant, account, object(fraudAlert(account)...))
		set := func(huge string) []field {
			return with(env, "data", object(with(fraudAlert(account), "reason", "pattern "+huge)...))
		}
		size = min(size, kinesisMaxRecordBytes-len(key))
		pad := size - len(object(set("")...))
		b.add("oversize: huge string in data", key, env, object(set(strings.Repeat("x", pad))...))
	}

	// Members named twice: encoding/json keeps the last, a reader that keeps the first sees
	// another event.
	for range 2 {
		key, tenant, account := b.owner()
		env := b.envelope(event.TypeTransaction, tenant, account, object(b.transaction(account)...))
		b.add("duplicate member: tenant", key, env, object(append(env, field{"tenant", b.run + "-b"})...))
	}
	for range 2 {
		key, tenant, account := b.owner()
		env := b.envelope(event.TypeTransaction, tenant, account, object(b.transaction(account)...))
		b.add("duplicate member: id", key, env, object(append(env, field{"id", fmt.Sprintf("bad-%s-%04d-again", b.run, b.n)})...))
	}
	for range 2 {
		key, tenant, account := b.owner()
		txn := b.transaction(account)
		env := b.envelope(event.TypeTransaction, tenant, account, object(txn...))
		b.add("duplicate member: data.amount", key, env, object(with(env, "data", object(append(txn, field{"amount", 999999})...))...))
	}

	// Text that is not UTF-8, in a string a reader would otherwise accept.
	for _, name := range []raw{"\"Caf\xe9 de Paris\"", "\"Shop \xe2\x82\""} {
		key, tenant, account := b.owner()
		txn := b.transaction(account)
		env := b.envelope(event.TypeTransaction, tenant, account, object(txn...))
		b.add("invalid UTF-8", key, env, object(with(env, "data", object(with(txn, "merchant", object(merchant(name)...))...))...))
	}
	// Escapes of lone UTF-16 surrogates: JSON text that names no character.
	for _, reason := range []raw{`"card \ud800 stolen"`, `"\udc00 impossible travel"`, `"split pair \ud83d\u0041"`} {
		key, tenant, account := b.owner()
		alert := fraudAlert(account)
		env := b.envelope(event.TypeFraudAlert, tenant, account, object(alert...))
		b.add("lone surrogate escape", key, env, object(with(env, "data", object(with(alert, "reason", reason)...))...))
	}

	// Not JSON, and JSON that is not an object.
	for _, text := range []raw{`{"specversion":"1.0","id":"truncated`, `just text`, "\x00\x01\x02 binary"} {
		key, _, _ := b.owner()
		b.add("not JSON", key, nil, text)
	}
	{
		key, tenant, account := b.owner()
		env := b.envelope(event.TypeTransaction, tenant, account, object(b.transaction(account)...))
		b.add("JSON array", key, nil, "["+object(env...)+"]")
		b.add("JSON array", key, nil, "[]")
		b.add("JSON scalar", key, nil, `"an event"`)
		b.add("JSON scalar", key, nil, `null`)
	}

	// An unknown type.
	for _, typ := range []event.Type{"loan_application", "Transaction"} {
		key, tenant, account := b.owner()
		b.add("unknown type", key, nil, object(b.envelope(typ, tenant, account, object(b.transaction(account)...))...))
	}

	// A required member missing.
	for _, name := range []string{"specversion", "id", "source", "type", "time", "subject", "tenant", "data"} {
		key, tenant, account := b.owner()
		env := b.envelope(event.TypeTransaction, tenant, account, object(b.transaction(account)...))
		b.add("missing "+name, key, env, object(without(env, name)...))
	}

	// A value that breaks a rule.
	badValue := func(kind string, typ event.Type, data func(string) []field, mutate func(env, data []field) []field) {
		key, tenant, account := b.owner()
		d := data(account)
		env := b.envelope(typ, tenant, account, object(d...))
		b.add("bad value: "+kind, key, env, object(mutate(env, d)...))
	}
	setData := func(name string, v any) func(env, data []field) []field {
		return func(env, data []field) []field { return with(env, "data", object(with(data, name, v)...)) }
	}
	setEnv := func(name string, v any) func(env, data []field) []field {
		return func(env, _ []field) []field { return with(env, name, v) }
	}
	badValue("currency", event.TypeTransaction, b.transaction, setData("currency", "EURO"))
	badValue("amount as a string", event.TypeTransaction, b.transaction, setData("amount", "12.50"))
	badValue("negative amount", event.TypeTransaction, b.transaction, setData("amount", -5))
	badValue("unknown data member", event.TypeTransaction, b.transaction, setData("colour", "blue"))
	badValue("score", event.TypeFraudAlert, fraudAlert, setData("score", 140))
	badValue("time", event.TypeFraudAlert, fraudAlert, setEnv("time", "yesterday"))
	badValue("tenant", event.TypeFraudAlert, fraudAlert, setEnv("tenant", "Bank_A"))
	badValue("specversion", event.TypeFraudAlert, fraudAlert, setEnv("specversion", "0.3"))
	badValue("subject is not the account", event.TypeFraudAlert, fraudAlert, setEnv("subject", "acc-someone-else"))
	badValue("datacontenttype", event.TypeFraudAlert, fraudAlert, setEnv("datacontenttype", "text/xml"))
	badValue("data not an object", event.TypeFraudAlert, fraudAlert, setEnv("data", "freeze it"))
}

// conflicts makes n records that reuse the id of a valid event with other content: the same
// event sent again from another source. Each goes on its original's partition key, after it.
func (b *badStream) conflicts(n int) {
	for i := range n {
		v := b.valid[(i*37+11)%len(b.valid)]
		var m map[string]any
		if err := json.Unmarshal(v.data, &m); err != nil {
			b.t.Fatal(err)
		}
		m["source"] = "urn:bank:replayed"
		data, _ := json.Marshal(m)
		b.out = append(b.out, &streamed{kind: "conflict: id reused with other content", data: data, key: v.key, orig: v})
	}
}

// badInputStream returns the whole stream in the order to put it: valid events of every type,
// and the bad records interleaved at random places (a conflict after the event it conflicts with).
func badInputStream(t *testing.T, run string) []*streamed {
	recs := eventgen.Generate(eventgen.Options{Events: badInputValid, Accounts: badInputOwners, Tenants: []string{run + "-a", run + "-b"},
		InvalidShare: -1, DuplicateShare: -1, Seed: badInputSeed})
	b := &badStream{t: t, rng: rand.New(rand.NewPCG(badInputSeed, 1)), run: run}
	types := map[event.Type]int{}
	for _, r := range recs {
		e, err := event.Decode(r.Data)
		if err != nil {
			t.Fatalf("test bug: a generated event does not decode: %v", err)
		}
		types[e.Type]++
		b.valid = append(b.valid, &streamed{kind: "valid " + string(e.Type), data: r.Data, key: r.PartitionKey, event: e})
	}
	for _, typ := range event.Types {
		if types[typ] == 0 {
			t.Fatalf("test bug: no %s among the valid events: %v", typ, types)
		}
	}
	b.badRecords()
	b.conflicts(6)
	out := slices.Clone(b.valid)
	for _, r := range b.out {
		at := b.rng.IntN(len(out) + 1)
		if r.orig != nil {
			orig := slices.Index(out, r.orig)
			at = orig + 1 + b.rng.IntN(len(out)-orig)
		}
		out = slices.Insert(out, at, r)
	}
	return out
}

// TestBadInputAtFullSpeed: no record can hold a shard back. Through the local stack with the
// template's settings (one shard, batches of 500), it puts valid events of every type interleaved
// with every kind of record that can never succeed — oversize records (300 KB to 1 MiB) that
// begin like an event with one huge member, members named twice, text that is not UTF-8, lone
// surrogate escapes, not JSON, JSON that is not an object, unknown types, missing members, bad
// values, conflicts — half of them on the partition keys of valid events, as fast as PutRecords
// takes them. Every valid event must be stored, every bad record quarantined exactly once with a
// code and a reason, nothing sent to OnFailure, and the stream processed within badInputCaughtUp.
func TestBadInputAtFullSpeed(t *testing.T) {
	emu := emutest.Start(t)
	ep := edge(t, emu.KinesisEndpoint, emu.DynamoDBEndpoint, nil)
	st, ran := edgeStack(t, ep, nil) // the template's defaults: one shard, RouterBatchSize 500
	ctx := t.Context()
	stream := st.Resources.Streams[0].Name
	shards, err := st.Kinesis.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	if len(shards.Shards) != 1 {
		t.Fatalf("stream %s has %d shards, want 1", stream, len(shards.Shards))
	}
	// The emulators and the stack's fixed-name stream and table are shared by the package's
	// tests: tenants of this run only, so that no earlier run's events count here.
	run := fmt.Sprintf("badin-%09d", time.Now().UnixNano()%1e9)
	recs := badInputStream(t, run)

	total, bad, accepted := 0, 0, map[string]int{}
	entries := make([]kinesistypes.PutRecordsRequestEntry, len(recs))
	for i, r := range recs {
		entries[i] = kinesistypes.PutRecordsRequestEntry{Data: r.data, PartitionKey: aws.String(r.key)}
		total += len(r.data)
		if r.event == nil {
			bad++
			if r.orig == nil {
				if _, err := event.Decode(r.data); err == nil {
					accepted[r.kind]++
				}
			}
		}
	}
	if len(accepted) > 0 {
		t.Logf("bad records that event.Decode accepts today, by kind: %v", accepted)
	}
	start := time.Now()
	results := putAll(t, st, entries)
	lastPut := time.Now()
	for i, r := range results {
		recs[i].shard, recs[i].seq = aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber)
	}
	t.Logf("put %d records (%d valid, %d bad; %.1f MB) in %s", len(recs), len(recs)-bad, bad, float64(total)/1e6, lastPut.Sub(start).Round(time.Millisecond))

	waited, caughtUp := waitCaughtUp(t, st, ran, badInputCaughtUp, "the stream with bad records")
	if caughtUp {
		t.Logf("caught up %s after the last put (bound %s)", waited.Round(time.Millisecond), badInputCaughtUp)
	}
	stats := st.Stats()
	t.Logf("event source mapping: %d batches, %d invocations, %d partial failures, %d retries, %d bisections, %d records discarded to OnFailure",
		stats.Batches, stats.Invocations, stats.PartialFailures, stats.Retries, stats.Bisections, stats.RecordsDiscarded)

	// Every record: a valid event stored and not quarantined; a bad one quarantined exactly once,
	// with a code and a reason. Read directly, not through the edge.
	table := *st.Resources.Tables[0].TableName
	s := store.New(emu.DynamoDB, table)
	var kinds []string
	count, problems, codes := map[string]int{}, map[string][]string{}, map[string]map[string]int{}
	for _, r := range recs {
		if count[r.kind] == 0 {
			kinds = append(kinds, r.kind)
		}
		count[r.kind]++
		problem := func(format string, args ...any) {
			problems[r.kind] = append(problems[r.kind], fmt.Sprintf("record %s (key %.20s): ", r.seq, r.key)+fmt.Sprintf(format, args...))
		}
		items, err := quarantineItems(ctx, emu.DynamoDB, table, r.shard, r.seq)
		if err != nil {
			t.Fatal(err)
		}
		if r.event != nil {
			got, err := s.GetEvent(ctx, r.event.Tenant, r.event.ID)
			switch {
			case err != nil:
				problem("event %s/%s not stored: %v", r.event.Tenant, r.event.ID, err)
			case got.Type != string(r.event.Type) || got.Source != r.event.Source || got.AccountID != r.event.Data.Account():
				problem("event %s/%s stored as %s from %s on %s", r.event.Tenant, r.event.ID, got.Type, got.Source, got.AccountID)
			}
			for _, q := range items {
				problem("valid event quarantined: %s: %.200s", q.Code, q.Reason)
			}
			continue
		}
		switch {
		case len(items) == 0:
			why := ""
			if e, err := event.Decode(r.data); err == nil {
				if _, err := s.GetEvent(ctx, e.Tenant, e.ID); err == nil {
					why = fmt.Sprintf(" (stored as event %s/%.40s instead)", e.Tenant, e.ID)
				} else if !errors.Is(err, store.ErrNotFound) {
					t.Fatal(err)
				}
			}
			problem("not quarantined%s", why)
		case len(items) > 1:
			problem("%d quarantine items, want 1", len(items))
		case items[0].Code == "" || items[0].Reason == "":
			problem("quarantined with code %q and reason %q; both must be set", items[0].Code, items[0].Reason)
		default:
			if codes[r.kind] == nil {
				codes[r.kind] = map[string]int{}
			}
			codes[r.kind][items[0].Code]++
		}
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		p := problems[kind]
		if len(p) == 0 {
			continue
		}
		want := "stored once, not quarantined"
		if !strings.HasPrefix(kind, "valid ") {
			want = "exactly one quarantine item with a code and a reason"
		}
		t.Errorf("%s: %d of %d records wrong (want %s): %s", kind, len(p), count[kind], want, strings.Join(p[:min(3, len(p))], "; "))
	}
	t.Logf("quarantine codes by kind: %v", codes)

	// Nothing in the OnFailure destination.
	lo, hi := seqMinMax(func() []string {
		seqs := make([]string, len(recs))
		for i, r := range recs {
			seqs[i] = r.seq
		}
		return seqs
	}())
	failures := onFailureOverlapping(t, st, recs[0].shard, lo, hi)
	for _, f := range failures {
		lost := map[string]int{}
		for _, r := range recs {
			if seqBetween(r.seq, f.Record.KinesisBatchInfo.StartSequenceNumber, f.Record.KinesisBatchInfo.EndSequenceNumber) {
				lost[r.kind]++
			}
		}
		t.Errorf("OnFailure record %s; its records: %v", describeFailure(f), lost)
	}
	if stats.RecordsDiscarded != 0 && len(failures) == 0 {
		t.Errorf("%d records discarded to OnFailure, and no OnFailure record found for them", stats.RecordsDiscarded)
	}
}
