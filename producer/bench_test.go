package producer_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/producer"
)

// BenchmarkSend measures records per second into kinesalite: b.N transaction events (about
// 400 bytes each) over 1,000 accounts, in calls of 500 records to a 4-shard stream. "events"
// goes through Send, which encodes and validates each event as the router would; "raw" sends the
// same bytes through SendRaw; each with 1 and 4 lanes.
func BenchmarkSend(b *testing.B) {
	stack := emutest.Start(b)
	for _, mode := range []string{"events", "raw"} {
		for _, conc := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/concurrency=%d", mode, conc), func(b *testing.B) {
				stream := stack.CreateStream(b, 4)
				p, err := producer.New(stack.Kinesis, stream, producer.WithConcurrency(conc))
				if err != nil {
					b.Fatal(err)
				}
				events, recs := transactions(b, b.N)
				b.ResetTimer()
				var res producer.Result
				if mode == "events" {
					res, err = p.Send(b.Context(), events...)
				} else {
					res, err = p.SendRaw(b.Context(), recs...)
				}
				b.StopTimer()
				if err != nil {
					b.Fatalf("send: %v", err)
				}
				b.ReportMetric(float64(res.Sent)/res.Elapsed.Seconds(), "records/s")
				b.ReportMetric(float64(res.Calls), "calls")
			})
		}
	}
}

// transactions returns n valid transaction events over 1,000 accounts, and their records.
func transactions(tb testing.TB, n int) ([]*event.Event, []producer.Record) {
	events := make([]*event.Event, n)
	recs := make([]producer.Record, n)
	start := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	for i := range events {
		e, err := producer.Transaction("bank-a", "urn:bank:authorizer", start.Add(time.Duration(i)*time.Millisecond), event.Transaction{
			TransactionID: uuid.NewString(), AccountID: fmt.Sprintf("acc-%04d", i%1000), CustomerID: fmt.Sprintf("cus-%04d", i%1000),
			Amount: ptr(int64(100 + i%5000)), Currency: "EUR", Direction: event.ActionDebit, Channel: event.ActionCard,
			Merchant: &event.Merchant{Name: "Corner Shop", MCC: "5411", Country: "DE"}, FraudScore: ptr(i % 100),
		})
		if err != nil {
			tb.Fatal(err)
		}
		data, err := json.Marshal(e)
		if err != nil {
			tb.Fatal(err)
		}
		events[i], recs[i] = e, producer.Record{Data: data, PartitionKey: e.Subject}
	}
	return events, recs
}
