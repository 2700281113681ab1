package producer_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/producer"
)

// A card authorizer reports a transaction. The client follows the SDK's configuration
// (AWS_ENDPOINT_URL_KINESIS points it at a local stack).
func Example() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	p, err := producer.New(kinesis.NewFromConfig(cfg), "EventStream",
		producer.WithProgress(func(sent, total int) { fmt.Printf("\r%d/%d", sent, total) }))
	if err != nil {
		log.Fatal(err)
	}
	amount := int64(1250)
	e, err := producer.Transaction("examplebank", "urn:bank:authorizer", time.Now(), event.Transaction{
		TransactionID: "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c",
		AccountID:     "acc-1",
		CustomerID:    "cus-1",
		Amount:        &amount,
		Currency:      "EUR",
		Direction:     event.ActionDebit,
		Channel:       event.ActionCard,
	})
	if err != nil {
		log.Fatal(err) // an *event.RejectError naming the field, e.g. "invalid: data.currency must be an ISO 4217 currency code"
	}
	res, err := p.Send(ctx, e)
	if err != nil {
		for _, f := range res.Failed {
			log.Printf("record %d (%s): %s after %d attempts: %s", f.Index, f.PartitionKey, f.Code, f.Attempts, f.Message)
		}
		log.Fatal(err)
	}
	fmt.Printf("sent %d in %d calls\n", res.Sent, res.Calls)
}

// A constructor fills in the envelope and validates the event as the router will: an event the
// pipeline would quarantine is refused before anything is sent, with the field at fault.
func ExampleTransaction() {
	at := time.Date(2026, 11, 10, 23, 0, 0, 0, time.UTC)
	amount := int64(1250)
	txn := event.Transaction{
		TransactionID: "4b0e2c8d-5a3f-4f1e-8c2b-9d7e6f5a4b3c",
		AccountID:     "acc-1",
		CustomerID:    "cus-1",
		Amount:        &amount,
		Currency:      "EUR",
		Direction:     event.ActionDebit,
		Channel:       event.ActionCard,
	}
	e, err := producer.Transaction("examplebank", "urn:bank:authorizer", at, txn, producer.WithID("evt-txn-0001"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.ID, e.Type, e.Subject, e.Tenant, e.Time.Format(time.RFC3339))

	txn.Currency = "euro"
	_, err = producer.Transaction("examplebank", "urn:bank:authorizer", at, txn)
	fmt.Println(err)
	// Output:
	// evt-txn-0001 transaction acc-1 examplebank 2026-11-10T23:00:00Z
	// invalid: data.currency must be an ISO 4217 currency code
}
