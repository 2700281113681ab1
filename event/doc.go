// Package event is the pipeline's event model: the CloudEvents 1.0 envelope every record on the
// stream carries, the four payload types (Transaction, FraudAlert, AccountStatus, AccountCheck)
// with their validation rules, the original prototype's record shape, and the errors that say why
// a record can never be accepted.
//
// # Start here
//
// Decode is the one call a consumer of raw records needs: it parses one record and validates the
// envelope and its payload with the same rules the router applies, so a record Decode accepts is
// one the pipeline stores, and one it refuses the pipeline quarantines for the same reason:
//
//	e, err := event.Decode(raw)
//	var rej *event.RejectError
//	if errors.As(err, &rej) {
//		// rej.Code is one of the Code* constants; rej.Error() names every field at fault
//	}
//
// Producers build events with package producer, which fills in the envelope and runs this
// package's validation before anything is sent.
//
// # Guarantees
//
//   - Every error Decode returns is a *RejectError and is permanent (IsPermanent reports true):
//     the same bytes always give the same answer, so such a record is never worth retrying.
//   - A RejectError's Fields are sorted by JSON path, in the record's own names ("data.amount",
//     "data.blockedActions[1]", the prototype's "Event.FraudScore"), and each says what is allowed,
//     so the reason is stable and readable by people. A value quoted in a reason is cut to 64
//     bytes, and Error() to 1 KiB (it ends "… and N more" when the fields do not all fit).
//   - Records are at most MaxRecordBytes; the envelope's subject is the account id, which is also
//     the Kinesis partition key, so an account's events stay in order on one shard.
//   - The prototype's shape (see prototype.go) is recognised and mapped onto the envelope, with
//     reasons that name its own fields.
//
// # Strict JSON
//
// A record is read one way only. Decode refuses, as CodeInvalid naming the path, what readers
// of JSON disagree on and encoding/json would silently settle: a member name that appears twice
// in an object, at any depth (encoding/json keeps the last; so {"tenant":"a",…,"tenant":"b"}
// would be tenant b's); two names that encoding/json matches to one field because it ignores
// case ("tenant" and "TENANT"); invalid UTF-8 in a name or a string; and a \u escape of a lone
// surrogate (\ud800 not followed by a low surrogate, or a low one alone), which encoding/json
// replaces by U+FFFD. A record that is not JSON at all is CodeNotJSON, whatever else is wrong
// with it.
//
// # Numbers
//
// The integer fields (amount, fraudScore, score; the prototype's FraudScore) take a JSON integer
// written without fraction or exponent: 1e3, 12.5 and even 12.0 are refused, not rounded: a
// producer that writes them holds a floating-point number, not a count. -0 is 0, and then
// meets the field's rule (an amount of -0 is refused as below 1; a score of -0 is 0). No integer
// beyond ±(2^53−1) = ±9007199254740991 (MaxSafeInteger) is accepted, even where int64 could hold
// it: a producer in JavaScript, or any reader holding numbers as IEEE-754 doubles, cannot keep it
// exactly. An amount is from 1 to MaxSafeInteger minor units, a score from 0 to 100. The JSON
// Schemas say "type": "integer", which JSON Schema lets 12.0 through; the pipeline does not.
//
// It imports no AWS package: everything here is pure and unit-tested without emulators. The JSON
// Schemas generated from these types are in package schemas, for producers in other languages.
package event
