package producer

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/go-event-processor/go-event-processor/event"
)

// EventOption changes an event a constructor builds, before it is validated.
type EventOption func(*event.Event)

// WithID sets the event's id instead of a generated UUID. Give the id an event already has only to
// send that event again: the pipeline keeps the first event with an id, counts the same content
// again as a duplicate and quarantines different content as a conflict.
func WithID(id string) EventOption {
	return func(e *event.Event) { e.ID = id }
}

// Transaction builds a transaction event of tenant from source at time at, and validates it.
// The error is an *event.RejectError naming every field at fault.
func Transaction(tenant, source string, at time.Time, t event.Transaction, opts ...EventOption) (*event.Event, error) {
	return Envelope(tenant, source, at, &t, opts...)
}

// FraudAlert builds a fraud_alert event of tenant from source at time at, and validates it.
// The error is an *event.RejectError naming every field at fault.
func FraudAlert(tenant, source string, at time.Time, a event.FraudAlert, opts ...EventOption) (*event.Event, error) {
	return Envelope(tenant, source, at, &a, opts...)
}

// AccountStatus builds an account_status event of tenant from source at time at, and validates
// it. The error is an *event.RejectError naming every field at fault.
func AccountStatus(tenant, source string, at time.Time, s event.AccountStatus, opts ...EventOption) (*event.Event, error) {
	return Envelope(tenant, source, at, &s, opts...)
}

// AccountCheck builds an account_check event of tenant from source at time at, and validates it.
// The error is an *event.RejectError naming every field at fault.
func AccountCheck(tenant, source string, at time.Time, c event.AccountCheck, opts ...EventOption) (*event.Event, error) {
	return Envelope(tenant, source, at, &c, opts...)
}

// Envelope builds the event carrying data, one of *event.Transaction, *event.FraudAlert,
// *event.AccountStatus and *event.AccountCheck: specversion 1.0, a generated UUID as id (unless
// WithID sets one), the type of data, at in UTC as time, data's account id as subject,
// datacontenttype application/json, and tenant. It then applies opts and validates the event
// with the pipeline's own rules; the error is an *event.RejectError naming every field at fault.
func Envelope(tenant, source string, at time.Time, data event.Payload, opts ...EventOption) (*event.Event, error) {
	typ, err := typeOf(data)
	if err != nil {
		return nil, err
	}
	e := &event.Event{
		SpecVersion:     event.SpecVersion,
		Source:          source,
		Type:            typ,
		Time:            at.UTC(),
		Subject:         data.Account(),
		DataContentType: event.ContentTypeJSON,
		Tenant:          tenant,
		Data:            data,
	}
	for _, opt := range opts {
		opt(e)
	}
	if e.ID == "" {
		id, err := uuid.NewRandom()
		if err != nil {
			return nil, fmt.Errorf("generate an event id: %w", err)
		}
		e.ID = id.String()
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// typeOf returns the event type of a payload, and refuses a nil or foreign one.
func typeOf(data event.Payload) (event.Type, error) {
	missing := &event.RejectError{Code: event.CodeInvalid, Fields: []event.FieldError{{Field: "data", Problem: "is required"}}}
	switch p := data.(type) {
	case nil:
		return "", missing
	case *event.Transaction:
		if p == nil {
			return "", missing
		}
		return event.TypeTransaction, nil
	case *event.FraudAlert:
		if p == nil {
			return "", missing
		}
		return event.TypeFraudAlert, nil
	case *event.AccountStatus:
		if p == nil {
			return "", missing
		}
		return event.TypeAccountStatus, nil
	case *event.AccountCheck:
		if p == nil {
			return "", missing
		}
		return event.TypeAccountCheck, nil
	}
	return "", &event.RejectError{Code: event.CodeUnknownType, Detail: fmt.Sprintf("%T is not one of the pipeline's payload types", data)}
}
