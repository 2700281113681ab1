// Package consumer reads a tenant's stored events in commit order through the query API, under
// a name whose checkpoint the server keeps: a ledger, a fraud-analytics job or an export reads
// every event once, at its own pace, and carries on where it stopped after a crash or a week
// away.
//
// # Start here
//
// Make a Consumer once per name, then either follow the feed until the context ends, or read what
// is new and return:
//
//	c, err := consumer.New(consumer.Config{
//		Endpoint: "https://abc123.execute-api.eu-west-1.amazonaws.com/v1", // the QueryApiUrl output
//		Key:      os.Getenv("GEP_API_KEY"),                                  // decides the tenant
//		Name:     "ledger",
//		Types:    []event.Type{event.TypeTransaction},
//	})
//	err = c.Run(ctx, func(ctx context.Context, page consumer.Page) error {
//		for _, e := range page.Events {
//			// apply e, keyed by e.ID
//		}
//		return nil // the checkpoint moves past the page
//	})
//
// CatchUp instead of Run returns once the feed has nothing more: for batch jobs and tests.
// `eventctl consume` and `eventctl consumers` are this package on the command line.
//
// # Guarantees
//
//   - Order: a handler gets pages in the feed's commit order, one page at a time, never an
//     empty page.
//   - Delivery is at least once. The checkpoint moves to a page's position only after the
//     handler returned nil for it; a process killed after the handler returned and before the
//     checkpoint was stored reads that page again. Use the event id (Event.ID) as the
//     idempotency key of whatever the handler writes.
//   - A failing handler is called again with the same page after an exponential backoff
//     (see Config.MaxBackoff) until it returns nil or the context ends; nothing after
//     the page is read meanwhile. A handler returns Stop(err) to give up instead.
//   - A checkpoint never moves backwards, except with Config.Reset.
//   - Run stops cleanly: when its context ends it returns nil, after giving a checkpoint under
//     way a few seconds to be stored.
//   - Transient failures of the API (network errors, 408, 429, 5xx including API Gateway's 502
//     and 504) are retried with backoff for Config.RetryTimeout; any other refusal (a bad key, a
//     bad parameter) ends Run or CatchUp with an *APIError naming the request and the API's
//     message.
//
// # One process per name
//
// Run one process per consumer name. Two processes with one name share one checkpoint: each
// moves it forward only, and when one finds the stored checkpoint ahead of (or beside) its own
// — the API answers 409 checkpoint_conflict — it carries on from the stored one. Nothing is
// lost, but events between the two positions may reach both. For parallel work, give each
// process its own name (and, with Config.Types, its own types).
//
// # Starting and lag
//
// Config.Start says where a consumer without a checkpoint starts: Beginning (the first event
// the tenant stored, the default), Now (events stored from now on) or At(t) (events stored at or
// after t — a storage time, so an event with an old time stored late is still read). It does not
// move an existing consumer: set Config.Reset for that, backwards too. Lag returns how many
// events are stored after the checkpoint and the age of the oldest, as the API measured them at
// the last checkpoint; List returns every consumer of the key's tenant with the same figures.
package consumer
