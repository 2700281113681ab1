package event_test

import (
	"errors"
	"fmt"

	"github.com/go-event-processor/go-event-processor/event"
)

// Decode validates a record as the router does: a valid event comes back typed, anything else as
// a *event.RejectError whose reason names the field.
func ExampleDecode() {
	raw := []byte(`{"specversion":"1.0","id":"evt-txn-0001","source":"urn:bank:authorizer","type":"transaction",
	 "time":"2026-11-10T23:00:00Z","subject":"acc-1","datacontenttype":"application/json","tenant":"examplebank",
	 "data":{"transactionId":"4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c","accountId":"acc-1","customerId":"cus-1",
	 "amount":1250,"currency":"EUR","direction":"debit","channel":"card","fraudScore":12}}`)
	e, err := event.Decode(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	t := e.Data.(*event.Transaction)
	fmt.Println(e.Tenant, e.Type, e.Subject, *t.Amount, t.Currency)

	_, err = event.Decode([]byte(`{"specversion":"1.0","id":"evt-1","source":"urn:bank:authorizer","type":"transaction",
	 "time":"2026-11-10T23:00:00Z","subject":"acc-1","datacontenttype":"application/json","tenant":"examplebank",
	 "data":{"transactionId":"4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c","accountId":"acc-1","customerId":"cus-1",
	 "amount":1250,"currency":"EURO","direction":"debit","channel":"card"}}`))
	var rej *event.RejectError
	if errors.As(err, &rej) {
		fmt.Println(rej.Code, event.IsPermanent(err))
		fmt.Println(rej)
	}
	// Output:
	// examplebank transaction acc-1 1250 EUR
	// invalid true
	// invalid: data.currency must be an ISO 4217 currency code
}
