// Package store is the DynamoDB implementation of the pipeline's ports: idempotent event writes
// with account effects (typefn.Store), quarantine (routing.Quarantine), and the reads clients use.
// The table layout is documented in docs/design.md; Schema returns it for local stacks and tests.
package store
