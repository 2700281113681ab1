package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/account"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/internal/eventgen"
	"github.com/go-event-processor/go-event-processor/internal/reqcount"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

func TestMain(m *testing.M) { emutest.Main(m) }

// writesOf returns n valid generated events of every type over the given number of accounts,
// as a type function hands them to Put (ids distinct).
func writesOf(t *testing.T, n, accounts int) []typefn.Write {
	t.Helper()
	var writes []typefn.Write
	seen := map[string]bool{}
	for _, r := range eventgen.Generate(eventgen.Options{Events: n, Accounts: accounts, Seed: 7, InvalidShare: -1, DuplicateShare: -1}) {
		e, err := event.Decode(r.Data)
		if err != nil {
			t.Fatalf("generated record does not decode: %v", err)
		}
		if seen[e.Tenant+"/"+e.ID] {
			continue
		}
		seen[e.Tenant+"/"+e.ID] = true
		writes = append(writes, typefn.Write{Event: e, Fingerprint: e.Fingerprint(), SequenceNumber: fmt.Sprint(len(writes)), Change: account.ChangeOf(e)})
	}
	return writes
}

// newStore is a store on a fresh events table in DynamoDB Local, through api when it is not nil
// (it wraps the client), with the requests counted.
func newStore(t *testing.T, wrap func(store.API) store.API) (*store.Store, *reqcount.Counter) {
	stack := emutest.Start(t)
	table := stack.CreateTable(t, store.Schema)
	counter := &reqcount.Counter{}
	var api store.API = emulators.DynamoDBClient(stack.DynamoDBEndpoint, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, counter.APIOption())
	})
	if wrap != nil {
		api = wrap(api)
	}
	return store.New(api, table), counter
}

// TestPutStoresEveryAccount writes a batch of many accounts: every event is stored once, every
// account's state holds all its changes; the same records again are this very batch sent again
// (stored, their account items written again, nothing added), and the same events from other
// records are duplicates.
func TestPutStoresEveryAccount(t *testing.T) {
	s, counter := newStore(t, nil)
	writes := writesOf(t, 450, 40)
	results := s.Put(t.Context(), writes)
	want := map[typefn.AccountKey]*account.State{}
	for i, r := range results {
		if r.Outcome != typefn.OutcomeStored {
			t.Fatalf("write %d (%s): outcome %d (%v), want stored", i, writes[i].Event.ID, r.Outcome, r.Err)
		}
		if c := writes[i].Change; c != nil {
			k := typefn.KeyOf(writes[i].Event)
			if want[k] == nil {
				want[k] = &account.State{}
			}
			want[k].Apply(c)
		}
	}
	c := counter.Counts()
	t.Logf("%d events of %d accounts: %d PutItem, %d BatchWriteItem, %d BatchGetItem", len(writes), 40, c["PutItem"], c["BatchWriteItem"], c["BatchGetItem"])
	keys := make([]typefn.AccountKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	states, err := s.States(t.Context(), keys)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want {
		got := states[k]
		slices.Sort(got.FreezeLog)
		slices.Sort(got.MonitorLevels)
		slices.Sort(w.FreezeLog)
		slices.Sort(w.MonitorLevels)
		if !slices.Equal(got.FreezeLog, w.FreezeLog) || !slices.Equal(got.MonitorLevels, w.MonitorLevels) {
			t.Errorf("account %s: state %+v, want %+v", k.Account, got, *w)
		}
	}
	for i, r := range s.Put(t.Context(), writes) {
		if r.Outcome != typefn.OutcomeStored {
			t.Fatalf("record %d sent again: outcome %d (%v), want stored (this very record)", i, r.Outcome, r.Err)
		}
	}
	others := slices.Clone(writes)
	for i := range others {
		others[i].SequenceNumber = "other-" + others[i].SequenceNumber
	}
	for i, r := range s.Put(t.Context(), others) {
		if r.Outcome != typefn.OutcomeDuplicate {
			t.Fatalf("write %d from another record: outcome %d (%v), want duplicate", i, r.Outcome, r.Err)
		}
	}
	again, err := s.States(t.Context(), keys)
	if err != nil || len(again) != len(states) {
		t.Fatalf("states after writing again: %d accounts (%v), want %d", len(again), err, len(states))
	}
}

// failingAccount fails every write of an event of one account, as throttling past the SDK's
// retries would.
type failingAccount struct {
	store.API
	account string
}

func (f failingAccount) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if v, ok := in.Item["accountId"].(*types.AttributeValueMemberS); ok && v.Value == f.account {
		return nil, errors.New("ThrottlingException: rate exceeded")
	}
	return f.API.PutItem(ctx, in, opts...)
}

// TestPutFailureHoldsBackOnlyLaterEvents: when one account's write fails, none of that account's
// later events is written, each account's outcomes are stored-then-failed in its own order (never
// a later event stored after an earlier failed one), and the other accounts are written.
func TestPutFailureHoldsBackOnlyLaterEvents(t *testing.T) {
	writes := writesOf(t, 450, 40)
	victim := writes[len(writes)/2].Event.Data.Account()
	s, _ := newStore(t, func(api store.API) store.API { return failingAccount{API: api, account: victim} })
	results := s.Put(t.Context(), writes)
	failed := map[typefn.AccountKey]bool{}
	stored := 0
	for i, r := range results {
		k := typefn.KeyOf(writes[i].Event)
		switch r.Outcome {
		case typefn.OutcomeStored:
			stored++
			if k.Account == victim {
				t.Errorf("event %s of the failing account %s was stored", writes[i].Event.ID, victim)
			}
			if failed[k] {
				t.Errorf("event %s of account %s stored after an earlier event of the account failed", writes[i].Event.ID, k.Account)
			}
		case typefn.OutcomeFailed:
			failed[k] = true
		default:
			t.Errorf("event %s: outcome %d, want stored or failed", writes[i].Event.ID, r.Outcome)
		}
		_, err := s.GetEvent(t.Context(), k.Tenant, writes[i].Event.ID)
		if inTable := err == nil; inTable != (r.Outcome == typefn.OutcomeStored) {
			t.Errorf("event %s: outcome %d but in the table: %v (%v)", writes[i].Event.ID, r.Outcome, inTable, err)
		}
	}
	if stored == 0 {
		t.Errorf("no event stored: one account's failure held back the whole batch")
	}
	t.Logf("failing account %s: %d of %d events stored, %d accounts held back", victim, stored, len(writes), len(failed))
}

// TestSetFlagsSkipsMissingTransactions: a flag for a transaction that is not stored does not keep
// the others in its transaction from being written.
func TestSetFlagsSkipsMissingTransactions(t *testing.T) {
	s, _ := newStore(t, nil)
	var writes []typefn.Write
	for _, w := range writesOf(t, 60, 4) {
		if w.Event.Type == event.TypeTransaction {
			writes = append(writes, w)
		}
	}
	for i, r := range s.Put(t.Context(), writes) {
		if r.Outcome != typefn.OutcomeStored {
			t.Fatalf("write %d: outcome %d (%v)", i, r.Outcome, r.Err)
		}
	}
	flags := []typefn.Flag{{Tenant: writes[0].Event.Tenant, ID: "never-stored", BlockedBy: "evt-x"}}
	for _, w := range writes {
		flags = append(flags, typefn.Flag{Tenant: w.Event.Tenant, ID: w.Event.ID, BlockedBy: "evt-freeze"})
	}
	if err := s.SetFlags(t.Context(), flags); err != nil {
		t.Fatalf("SetFlags: %v", err)
	}
	for _, w := range writes {
		e, err := s.GetEvent(t.Context(), w.Event.Tenant, w.Event.ID)
		if err != nil || e.BlockedBy != "evt-freeze" {
			t.Fatalf("transaction %s: flag %+v (%v), want evt-freeze", w.Event.ID, e, err)
		}
	}
	if _, err := s.GetEvent(t.Context(), writes[0].Event.Tenant, "never-stored"); err == nil {
		t.Errorf("a flag created the transaction it was meant for")
	}
}
