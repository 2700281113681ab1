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
//   - A RejectError's Fields are sorted by JSON path and each names its rule, so the reason is
//     stable and readable by people.
//   - Records are at most MaxRecordBytes; the envelope's subject is the account id, which is also
//     the Kinesis partition key, so an account's events stay in order on one shard.
//   - The prototype's shape (see prototype.go) is recognised and mapped onto the envelope, with
//     reasons that name its own fields.
//
// It imports no AWS package: everything here is pure and unit-tested without emulators. The JSON
// Schemas generated from these types are in package schemas, for producers in other languages.
package event
