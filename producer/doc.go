// Package producer is the pipeline's front door for Go programs: constructors that build valid
// CloudEvents envelopes for the four event types, and a Producer that puts records on the Kinesis
// stream with PutRecords.
//
// # Start here
//
// Build an event with its type's constructor, then send it with a Producer made once per stream:
//
//	p, err := producer.New(kinesis.NewFromConfig(cfg), "EventStream")
//	e, err := producer.Transaction("examplebank", "urn:bank:authorizer", time.Now(), event.Transaction{…})
//	res, err := p.Send(ctx, e)
//
// A constructor's error is the *event.RejectError the router would quarantine the event for;
// Send's Result says per record what was sent and what failed, and why.
//
// # Guarantees
//
//   - Nothing the pipeline would reject leaves through Send: every event is validated with the
//     pipeline's own rules first.
//   - An account's records reach the stream in the order given (see Order for Kinesis's one
//     exception), so its events stay in order on one shard.
//   - Delivery is at least once; a record sent twice is a duplicate the pipeline recognises by
//     its id and stores once.
//   - Every record is accounted for: sent, or in Result.Failed with a code and a message.
//
// # Building events
//
// Transaction, FraudAlert, AccountStatus and AccountCheck (and Envelope, for any payload) fill
// in the envelope — a generated UUID as id unless WithID gives one, the account id as subject,
// datacontenttype application/json — and run the pipeline's own validation, so an event the
// router would quarantine is refused here, with the *event.RejectError naming the field.
//
// # Sending
//
// Producer.Send encodes events (refusing, per event, any the router would reject);
// Producer.SendRaw sends records already encoded, such as the prototype's shape or lines of a
// file, without looking inside them. Both:
//
//   - batch PutRecords calls within the Kinesis limits: at most MaxRecordsPerCall records and
//     MaxBytesPerCall bytes per call, counting data and partition key; a record over
//     MaxRecordBytes (data and partition key) is refused in the Result and never sent;
//   - retry only the records a call reports as failed (ErrorCode set), and the whole call when it
//     fails with an error the SDK deems retryable, at most WithMaxAttempts times per record, with
//     the SDK's exponential backoff with jitter between attempts (WithBackoff to change it);
//   - stop when the context ends, reporting what was not sent.
//
// # Order
//
// Records of one partition key (one account) leave in the order given: a call is made only once
// the previous call of its lane has been answered, records refused by a call go first in the
// next one, and with WithConcurrency(n) the records are split into n lanes by partition key, so
// calls in flight at once never share a key. One limit remains, Kinesis's own: within a single
// call, the stream may refuse a record and accept a later one of the same key, which then lands
// ahead of the retried one. The pipeline does not depend on arrival order (account state is
// computed from event times), so this costs nothing but is worth knowing.
//
// # Delivery
//
// Delivery is at least once: a call interrupted by a timeout or cancellation may have been
// stored, and a record sent again is a duplicate the pipeline recognises by its id.
package producer
