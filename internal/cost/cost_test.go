package cost_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/cost"
)

// unitPrices makes every unit cost one dollar, so that a line's dollars are its quantity and the
// hand computations below are counts of units.
var unitPrices = cost.Prices{LambdaGBSecond: 1, LambdaRequest: 1, DynamoDBWRU: 1, DynamoDBRRU: 1, KinesisShardHour: 1, KinesisPUTUnit: 1}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestBilledMs(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{
		{0, 0},
		{time.Nanosecond, 1},
		{999 * time.Microsecond, 1},
		{time.Millisecond, 1},
		{1000100 * time.Nanosecond, 2}, // 1.0001 ms is billed as 2 ms
		{2500 * time.Microsecond, 3},
		{250 * time.Millisecond, 250},
	} {
		if got := cost.BilledMs(tc.d); got != tc.want {
			t.Errorf("BilledMs(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestDynamoDBUnits(t *testing.T) {
	for _, tc := range []struct {
		name      string
		u         cost.DynamoDBUsage
		table     float64
		indexWRUs float64
	}{
		{"standard write under 1 KB", cost.DynamoDBUsage{Access: cost.StandardWrite, Items: 100, AvgItemBytes: 500}, 100, 0},
		{"standard write of exactly 1 KB", cost.DynamoDBUsage{Access: cost.StandardWrite, Items: 10, AvgItemBytes: 1024}, 10, 0},
		{"standard write one byte over 1 KB", cost.DynamoDBUsage{Access: cost.StandardWrite, Items: 10, AvgItemBytes: 1025}, 20, 0},
		{"transactional write: 2 per KB", cost.DynamoDBUsage{Access: cost.TransactionalWrite, Items: 100, AvgItemBytes: 700}, 200, 0},
		{"transactional write of 2.5 KB: 3 KB × 2", cost.DynamoDBUsage{Access: cost.TransactionalWrite, Items: 5, AvgItemBytes: 2500}, 30, 0},
		{"transactional write to 2 GSIs", cost.DynamoDBUsage{Access: cost.TransactionalWrite, Items: 100, AvgItemBytes: 700, IndexWrites: 2}, 200, 200},
		{"1.5 KB item to 2 GSIs: 2 WRU each", cost.DynamoDBUsage{Access: cost.TransactionalWrite, Items: 100, AvgItemBytes: 1500, IndexWrites: 2}, 400, 400},
		{"update to 1 GSI", cost.DynamoDBUsage{Access: cost.StandardWrite, Items: 7, AvgItemBytes: 300, IndexWrites: 1}, 7, 7},
		{"strongly consistent read under 4 KB", cost.DynamoDBUsage{Access: cost.StronglyConsistentRead, Items: 100, AvgItemBytes: 300}, 100, 0},
		{"strongly consistent read one byte over 4 KB", cost.DynamoDBUsage{Access: cost.StronglyConsistentRead, Items: 10, AvgItemBytes: 4097}, 20, 0},
		{"missing keys still cost a unit", cost.DynamoDBUsage{Access: cost.StronglyConsistentRead, Items: 10}, 10, 0},
		{"eventually consistent read: half", cost.DynamoDBUsage{Access: cost.EventuallyConsistentRead, Items: 10, AvgItemBytes: 300}, 5, 0},
		{"transactional read: 2 per 4 KB", cost.DynamoDBUsage{Access: cost.TransactionalRead, Items: 3, AvgItemBytes: 5000}, 12, 0},
		{"reads never write indexes", cost.DynamoDBUsage{Access: cost.StronglyConsistentRead, Items: 3, AvgItemBytes: 100, IndexWrites: 2}, 3, 0},
		// 4 queries of 10 items of 600 B: 6,000 B per query → 8 KB → 2 RRU × 0.5 = 1 each.
		{"query sums a request's items", cost.DynamoDBUsage{Access: cost.EventuallyConsistentRead, Requests: 4, Items: 40, AvgItemBytes: 600, SumPerRequest: true}, 4, 0},
		// Rounded per item, the same 40 items would be 40 × 0.5 = 20.
		{"same items rounded one by one", cost.DynamoDBUsage{Access: cost.EventuallyConsistentRead, Requests: 4, Items: 40, AvgItemBytes: 600}, 20, 0},
		{"empty queries cost the minimum", cost.DynamoDBUsage{Access: cost.EventuallyConsistentRead, Requests: 3, SumPerRequest: true}, 1.5, 0},
		{"no requests, no units", cost.DynamoDBUsage{Access: cost.EventuallyConsistentRead, SumPerRequest: true}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.u.TableUnits(); !near(got, tc.table) {
				t.Errorf("TableUnits = %v, want %v", got, tc.table)
			}
			if got := tc.u.IndexUnits(); !near(got, tc.indexWRUs) {
				t.Errorf("IndexUnits = %v, want %v", got, tc.indexWRUs)
			}
		})
	}
}

func TestLambdaGBSeconds(t *testing.T) {
	for _, tc := range []struct {
		u    cost.LambdaUsage
		want float64
	}{
		{cost.LambdaUsage{Invocations: 1000, AvgBilledMs: 1000, MemoryMB: 1024}, 1000},
		{cost.LambdaUsage{Invocations: 3, AvgBilledMs: 250.5, MemoryMB: 512}, 3 * 0.2505 * 0.5},
		{cost.LambdaUsage{Invocations: 1_000_000, AvgBilledMs: 10, MemoryMB: 128}, 1250},
	} {
		if got := tc.u.GBSeconds(); !near(got, tc.want) {
			t.Errorf("%+v: GBSeconds = %v, want %v", tc.u, got, tc.want)
		}
	}
}

// run is a small run of our design: 2,000 events from 2,500 records (invalid and duplicated ones
// included), so every quantity is multiplied by 500 to make it per million events.
func run() cost.Run {
	return cost.Run{
		Events:         2000,
		Records:        2500,
		AvgRecordBytes: 600,
		Lambda: []cost.LambdaUsage{
			{Function: "router", Invocations: 3, AvgBilledMs: 250.5, MemoryMB: 512},
			{Function: "transaction", Invocations: 8, AvgBilledMs: 40, MemoryMB: 256},
		},
		DynamoDB: []cost.DynamoDBUsage{
			{Operation: "TransactWriteItems", Access: cost.TransactionalWrite, Requests: 20, Items: 2000, AvgItemBytes: 700, IndexWrites: 2},
			{Operation: "BatchGetItem", Access: cost.StronglyConsistentRead, Requests: 3, Items: 300, AvgItemBytes: 200},
		},
		Kinesis: cost.KinesisUsage{Shards: 1, SustainedEventsPerSecond: 100},
	}
}

func TestEstimateLines(t *testing.T) {
	b, err := cost.Estimate(run(), unitPrices)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		service, itemPrefix string
		quantity            float64
	}{
		{cost.ServiceLambda, "router requests", 3 * 500},
		{cost.ServiceLambda, "router duration", 3 * 0.2505 * 0.5 * 500}, // 187.875 GB-s
		{cost.ServiceLambda, "transaction requests", 8 * 500},
		{cost.ServiceLambda, "transaction duration", 8 * 0.040 * 0.25 * 500}, // 40 GB-s
		{cost.ServiceDynamoDB, "TransactWriteItems (transactional write)", 2000 * 2 * 500},
		{cost.ServiceDynamoDB, "TransactWriteItems: writes to 2 GSIs", 2000 * 2 * 500},
		{cost.ServiceDynamoDB, "BatchGetItem (strongly consistent read)", 300 * 500},
		{cost.ServiceKinesis, "PUT payload units", 2500 * 500},
		{cost.ServiceKinesis, "shard-hours", 1e6 / 100.0 / 3600}, // 2.78 h: one shard for 10,000 s
	}
	if len(b.Lines) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(b.Lines), len(want), b.Lines)
	}
	for i, w := range want {
		l := b.Lines[i]
		if l.Service != w.service || !strings.HasPrefix(l.Item, w.itemPrefix) || !near(l.Quantity, w.quantity) || !near(l.USD, w.quantity) {
			t.Errorf("line %d = %+v, want %s %q… quantity %v", i, l, w.service, w.itemPrefix, w.quantity)
		}
	}
	for _, tc := range []struct {
		service string
		want    float64
	}{
		{cost.ServiceLambda, 1500 + 187.875 + 4000 + 40},
		{cost.ServiceDynamoDB, 2_000_000 + 2_000_000 + 150_000},
		{cost.ServiceKinesis, 1_250_000 + 1e6/100.0/3600},
	} {
		if got := b.Service(tc.service); !near(got, tc.want) {
			t.Errorf("Service(%s) = %v, want %v", tc.service, got, tc.want)
		}
	}
	if !near(b.USD, 5727.875+4_150_000+1_250_000+1e6/100.0/3600) {
		t.Errorf("USD = %v", b.USD)
	}
}

// TestEstimateUSEast1 checks the list prices with one million events of our design, so the run's
// quantities are already per million.
func TestEstimateUSEast1(t *testing.T) {
	r := cost.Run{
		Events:         1_000_000,
		Records:        1_000_000,
		AvgRecordBytes: 600,
		Lambda:         []cost.LambdaUsage{{Function: "router", Invocations: 1000, AvgBilledMs: 300, MemoryMB: 512}},
		DynamoDB: []cost.DynamoDBUsage{
			{Operation: "TransactWriteItems", Access: cost.TransactionalWrite, Requests: 10_000, Items: 1_000_000, AvgItemBytes: 600, IndexWrites: 2},
		},
		Kinesis: cost.KinesisUsage{Shards: 1, SustainedEventsPerSecond: 1000},
	}
	b, err := cost.Estimate(r, cost.USEast1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		service string
		want    float64
	}{
		// 1,000 requests × $0.20/M + 150 GB-s (1,000 × 0.3 s × 0.5 GB) × $0.0000133334.
		{cost.ServiceLambda, 0.0002 + 150*0.0000133334},
		// 2 M WRU on the table and 2 M on the two indexes, × $0.625/M.
		{cost.ServiceDynamoDB, 2.5},
		// 1 M PUT units × $0.014/M + 1/3.6 shard-hours (1 M events at 1,000/s) × $0.015.
		{cost.ServiceKinesis, 0.014 + 0.015/3.6},
	} {
		if got := b.Service(tc.service); !near(got, tc.want) {
			t.Errorf("Service(%s) = %.10f, want %.10f", tc.service, got, tc.want)
		}
	}
	if want := 0.0002 + 0.00200001 + 2.5 + 0.014 + 0.015/3.6; !near(b.USD, want) {
		t.Errorf("USD = %.10f, want %.10f", b.USD, want)
	}
	if len(b.Notes) != 0 {
		t.Errorf("notes = %q, want none (1,000 records/s fit one shard)", b.Notes)
	}
}

func TestEstimateShardRate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		k          cost.KinesisUsage
		shardHours float64 // per million events
		note       string
	}{
		{"sustained rate", cost.KinesisUsage{Shards: 2, SustainedEventsPerSecond: 500}, 2 * 2000 / 3600.0, ""},
		// 800 events/s × 1.25 records per event is 1,000 records/s: exactly one shard.
		{"sustained rate wins over the run's", cost.KinesisUsage{Shards: 1, SustainedEventsPerSecond: 800, RunDuration: time.Hour}, 1e6 / 800 / 3600.0, ""},
		{"one shard over capacity", cost.KinesisUsage{Shards: 1, SustainedEventsPerSecond: 1000}, 1000 / 3600.0, "1250 records/s is more than 1 shard takes"},
		// 2,000 events in 20 s is 100 events/s.
		{"run's own rate", cost.KinesisUsage{Shards: 1, RunDuration: 20 * time.Second}, 10_000 / 3600.0, ""},
		{"no rate", cost.KinesisUsage{Shards: 1}, 0, "shard-hours not counted"},
		// 2,000 events/s with 1.25 records per event is 2,500 records/s.
		{"over capacity", cost.KinesisUsage{Shards: 2, SustainedEventsPerSecond: 2000}, 2 * 500 / 3600.0, "2500 records/s is more than 2 shards take"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run()
			r.Kinesis = tc.k
			b, err := cost.Estimate(r, unitPrices)
			if err != nil {
				t.Fatal(err)
			}
			var got float64
			for _, l := range b.Lines {
				if l.Unit == "shard-hours" {
					got = l.Quantity
				}
			}
			if !near(got, tc.shardHours) {
				t.Errorf("shard-hours = %v, want %v", got, tc.shardHours)
			}
			notes := strings.Join(b.Notes, "\n")
			if tc.note == "" && notes != "" || !strings.Contains(notes, tc.note) {
				t.Errorf("notes = %q, want %q", notes, tc.note)
			}
		})
	}
}

func TestEstimatePUTUnits(t *testing.T) {
	for _, tc := range []struct {
		bytes float64
		units float64 // per record
	}{
		// AWS's examples: 5 KB is 1 unit, 45 KB 2, "1 MB" (1,000 KB) 40; a full MiB is 41.
		{600, 1}, {5 * 1024, 1}, {25 * 1024, 1}, {25*1024 + 1, 2}, {45 * 1024, 2}, {1000 * 1024, 40}, {1 << 20, 41},
	} {
		r := cost.Run{Events: 1_000_000, Records: 1_000_000, AvgRecordBytes: tc.bytes}
		b, err := cost.Estimate(r, unitPrices)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.Service(cost.ServiceKinesis); !near(got, tc.units*1e6) {
			t.Errorf("%v-byte records: %v PUT units per million, want %v", tc.bytes, got, tc.units*1e6)
		}
	}
}

func TestEstimateMeasuredUnits(t *testing.T) {
	r := cost.Run{Events: 1000, DynamoDB: []cost.DynamoDBUsage{
		{Operation: "UpdateItem", Access: cost.StandardWrite, Items: 10, AvgItemBytes: 100, IndexWrites: 1, Units: 37},
	}}
	b, err := cost.Estimate(r, unitPrices)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Lines) != 1 || b.Lines[0].Quantity != 37_000 || b.Lines[0].Unit != "WRU" {
		t.Errorf("lines = %+v, want one line of 37,000 measured WRU", b.Lines)
	}
}

func TestEstimateErrors(t *testing.T) {
	if _, err := cost.Estimate(cost.Run{}, cost.USEast1); !errors.Is(err, cost.ErrNoEvents) {
		t.Errorf("no events: err = %v, want ErrNoEvents", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*cost.Run)
		want string
	}{
		{"negative records", func(r *cost.Run) { r.Records = -1 }, "Records"},
		{"NaN record size", func(r *cost.Run) { r.AvgRecordBytes = math.NaN() }, "AvgRecordBytes"},
		{"negative invocations", func(r *cost.Run) { r.Lambda[0].Invocations = -3 }, "router Invocations"},
		{"negative items", func(r *cost.Run) { r.DynamoDB[1].Items = -1 }, "BatchGetItem Items"},
		{"unknown access", func(r *cost.Run) { r.DynamoDB[0].Access = 99 }, "unknown Access(99)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run()
			tc.edit(&r)
			_, err := cost.Estimate(r, cost.USEast1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestPrototype(t *testing.T) {
	a := cost.DefaultPrototypeAssumptions(50)
	r := cost.Prototype(1_000_000, 600, a)
	b, err := cost.Estimate(r, cost.USEast1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		service string
		want    float64
	}{
		// 1 M requests × $0.20/M + 1 M × 10 ms × 0.125 GB = 1,250 GB-s × $0.0000133334.
		{cost.ServiceLambda, 0.20 + 1250*0.0000133334},
		// 1 M PutItem of 600 B: 1 M WRU × $0.625/M.
		{cost.ServiceDynamoDB, 0.625},
		// 1 M PUT units × $0.014/M + 1 M events at 50/s = 20,000 s = 5.56 shard-hours × $0.015.
		{cost.ServiceKinesis, 0.014 + 1e6/50/3600*0.015},
	} {
		if got := b.Service(tc.service); !near(got, tc.want) {
			t.Errorf("Service(%s) = %.10f, want %.10f", tc.service, got, tc.want)
		}
	}
	if strings.Contains(strings.Join(b.Notes, "\n"), "fall behind") {
		t.Errorf("notes = %q: 50 events/s is within 10 ms per event", b.Notes)
	}

	// 2.5 ms is billed as 3 ms; a 1.5 KB item is 2 WRU.
	a = cost.PrototypeAssumptions{Duration: 2500 * time.Microsecond, MemoryMB: 256, ItemBytes: 1500, Shards: 1, SustainedEventsPerSecond: 500}
	r = cost.Prototype(1000, 600, a)
	if got := r.Lambda[0].AvgBilledMs; got != 3 {
		t.Errorf("AvgBilledMs = %v, want 3", got)
	}
	if got := r.DynamoDB[0].TableUnits(); got != 2000 {
		t.Errorf("PutItem units = %v, want 2000", got)
	}
	b, err = cost.Estimate(r, unitPrices)
	if err != nil {
		t.Fatal(err)
	}
	if notes := strings.Join(b.Notes, "\n"); !strings.Contains(notes, "near 333 events/s") {
		t.Errorf("notes = %q, want the throughput ceiling of 3 ms per event", notes)
	}
}

func TestCompare(t *testing.T) {
	ours, err := cost.Estimate(run(), unitPrices)
	if err != nil {
		t.Fatal(err)
	}
	proto, err := cost.Estimate(cost.Prototype(2000, 600, cost.DefaultPrototypeAssumptions(100)), unitPrices)
	if err != nil {
		t.Fatal(err)
	}
	c := cost.Compare(ours, proto)
	if !near(c.Ratio, ours.USD/proto.USD) {
		t.Errorf("Ratio = %v, want %v", c.Ratio, ours.USD/proto.USD)
	}
	// Prototype Lambda per million: 1 M requests + 1 M × 0.01 s × 0.125 GB = 1,250 GB-s.
	if s := c.Services[0]; s.Service != cost.ServiceLambda || !near(s.Prototype, 1_001_250) || !near(s.Ratio, 5727.875/1_001_250) {
		t.Errorf("Lambda = %+v", s)
	}
	var buf bytes.Buffer
	if err := c.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ours/prototype", "Lambda", "DynamoDB", "Kinesis", "total", "×"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("comparison table lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestWriteTableAndJSON(t *testing.T) {
	r := run()
	r.Notes = []string{"a caller's note"}
	b, err := cost.Estimate(r, cost.USEast1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := b.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"TransactWriteItems (transactional write)", "writes to 2 GSIs", "router duration (512 MB, 250.5 ms avg)",
		"subtotal", "total", "(2000 events measured)", "0.000000625", "note: a caller's note"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	js, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"events", "lines", "services", "usdPerMillionEvents", "notes"} {
		if _, ok := back[key]; !ok {
			t.Errorf("JSON lacks %q: %s", key, js)
		}
	}
	line := back["lines"].([]any)[0].(map[string]any)
	for _, key := range []string{"service", "item", "quantityPerMillionEvents", "unit", "usdPerUnit", "usdPerMillionEvents"} {
		if _, ok := line[key]; !ok {
			t.Errorf("line JSON lacks %q: %v", key, line)
		}
	}
}

// The prototype's design at list prices, for a million 600-byte events at 50 events/s.
func ExamplePrototype() {
	b, err := cost.Estimate(cost.Prototype(1_000_000, 600, cost.DefaultPrototypeAssumptions(50)), cost.USEast1)
	if err != nil {
		panic(err)
	}
	for _, s := range b.Services {
		fmt.Printf("%s %.4f\n", s.Service, s.USD)
	}
	fmt.Printf("total %.4f $ per million events\n", b.USD)
	// Output:
	// Lambda 0.2167
	// DynamoDB 0.6250
	// Kinesis 0.0973
	// total 0.9390 $ per million events
}
