// Package schemas holds a JSON Schema (draft 2020-12) per event type, generated from the Go types
// in package event, so producers in any language can validate an event before sending it.
//
// # Start here
//
// Most users need only the files beside this package: transaction.schema.json,
// fraud_alert.schema.json, account_status.schema.json and account_check.schema.json. Each
// describes a CloudEvents 1.0 structured JSON event with the tenant extension attribute, its type
// fixed and its data of that type's payload. In Go, Generate returns the same documents, keyed by
// FileName.
//
// # Guarantees
//
//   - The files are Generate's output byte for byte: `go run ./schemas/gen` writes them, and a
//     test fails when they are stale.
//   - A schema states the shape and the simple rules (required fields, enums, lengths); the
//     pipeline's validation (package event) has the last word on rules a schema cannot express,
//     such as a currency code being a real ISO 4217 one, or times within the accepted range.
package schemas

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"

	"github.com/go-event-processor/go-event-processor/event"
)

// payloads maps each event type to its payload's Go type.
var payloads = map[event.Type]any{
	event.TypeTransaction:   &event.Transaction{},
	event.TypeFraudAlert:    &event.FraudAlert{},
	event.TypeAccountStatus: &event.AccountStatus{},
	event.TypeAccountCheck:  &event.AccountCheck{},
}

// FileName returns the schema file of type t, e.g. "transaction.schema.json".
func FileName(t event.Type) string { return string(t) + ".schema.json" }

// Generate returns every type's schema, keyed by file name: the CloudEvents envelope with the
// type fixed and data of that type's payload.
func Generate() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, t := range event.Types {
		r := &jsonschema.Reflector{DoNotReference: true, RequiredFromJSONSchemaTags: false}
		s := r.Reflect(&event.Event{})
		s.ID = jsonschema.ID("https://github.com/go-event-processor/go-event-processor/schemas/" + FileName(t))
		s.Title = string(t) + " event"
		s.Description = fmt.Sprintf("A CloudEvents 1.0 structured JSON event of type %s, with the tenant extension attribute.", t)
		s.AdditionalProperties = nil // CloudEvents allows extension attributes; data is strict
		typ, _ := s.Properties.Get("type")
		typ.Const = string(t)
		data := r.Reflect(payloads[t])
		data.Version, data.ID = "", ""
		s.Properties.Set("data", data)
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode schema of %s: %w", t, err)
		}
		out[FileName(t)] = append(b, '\n')
	}
	return out, nil
}
