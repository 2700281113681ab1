// Package event is the pipeline's event model: the CloudEvents 1.0 envelope every record carries,
// the four payload types with their validation rules, the original prototype's record shape, and
// the errors that say why a record can never be accepted.
//
// It imports no AWS package: everything here is pure and unit-tested without emulators.
package event
