package producer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
	"github.com/go-event-processor/go-event-processor/producer"
)

func TestMain(m *testing.M) { emutest.Main(m) }

// amzJSON is the content type of the Kinesis JSON 1.1 protocol, which the SDK's Kinesis client
// speaks (not CBOR); the proxy checks every request uses it.
const amzJSON = "application/x-amz-json-1.1"

// putRecordsTarget is the X-Amz-Target header of a PutRecords request.
const putRecordsTarget = "Kinesis_20131202.PutRecords"

// wireEntry is one record of a PutRecords request as JSON 1.1 carries it (Data in base64).
type wireEntry struct {
	Data            []byte  `json:"Data"`
	PartitionKey    string  `json:"PartitionKey"`
	ExplicitHashKey *string `json:"ExplicitHashKey,omitempty"`
}

// putCall is one PutRecords request the proxy received.
type putCall struct {
	Records int // records in the request
	Bytes   int // their data and partition keys
	Refused int // records the proxy refused without forwarding
}

// proxy is a reverse proxy on loopback in front of kinesalite that can refuse records of
// PutRecords calls: a refused record is taken out of the request before it is forwarded (so
// kinesalite never stores it) and put back into the response as failed with
// ProvisionedThroughputExceededException, as Kinesis does when a shard is throttled.
type proxy struct {
	t      testing.TB
	srv    *httptest.Server
	rp     *httputil.ReverseProxy
	refuse func(call int, rec wireEntry) bool // nil: refuse nothing
	hang   bool                               // hold PutRecords until the client gives up

	mu    sync.Mutex
	calls []putCall
}

type refusedKey struct{}

func newProxy(t testing.TB, target string) *proxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("parse %s: %v", target, err)
	}
	p := &proxy{t: t}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		ModifyResponse: p.splice,
	}
	p.srv = httptest.NewServer(p)
	t.Cleanup(p.srv.Close)
	return p
}

// client returns a Kinesis client that goes through the proxy.
func (p *proxy) client() *kinesis.Client { return emulators.KinesisClient(p.srv.URL) }

// Calls returns the PutRecords calls received so far.
func (p *proxy) Calls() []putCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]putCall(nil), p.calls...)
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != putRecordsTarget {
		p.rp.ServeHTTP(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != amzJSON {
		p.t.Errorf("proxy: PutRecords with Content-Type %q, want %q", ct, amzJSON)
		http.Error(w, "unexpected content type", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req map[string]json.RawMessage
	var recs []wireEntry
	if err := json.Unmarshal(body, &req); err != nil {
		p.t.Errorf("proxy: PutRecords body: %v", err)
	}
	if err := json.Unmarshal(req["Records"], &recs); err != nil {
		p.t.Errorf("proxy: PutRecords records: %v", err)
	}
	var kept []wireEntry
	var refused []int
	call := putCall{Records: len(recs)}
	p.mu.Lock()
	n := len(p.calls)
	for i, rec := range recs {
		call.Bytes += len(rec.Data) + len(rec.PartitionKey)
		if p.refuse != nil && p.refuse(n, rec) {
			refused = append(refused, i)
			continue
		}
		kept = append(kept, rec)
	}
	call.Refused = len(refused)
	p.calls = append(p.calls, call)
	p.mu.Unlock()

	if p.hang {
		<-r.Context().Done()
		return
	}
	if len(kept) == 0 { // Kinesis takes no empty call: answer for it
		out, _ := json.Marshal(map[string]any{"FailedRecordCount": len(recs), "Records": spliceRecords(nil, refused, len(recs))})
		w.Header().Set("Content-Type", amzJSON)
		_, _ = w.Write(out)
		return
	}
	req["Records"], _ = json.Marshal(kept)
	body, _ = json.Marshal(req)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Del("Content-Length")
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), refusedKey{}, refused)))
}

// splice puts the refused records back into kinesalite's answer, as failed.
func (p *proxy) splice(resp *http.Response) error {
	refused, _ := resp.Request.Context().Value(refusedKey{}).([]int)
	if len(refused) == 0 || resp.StatusCode != http.StatusOK {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var out map[string]json.RawMessage
	var recs []json.RawMessage
	var failed int
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("proxy: PutRecords answer: %w", err)
	}
	if err := json.Unmarshal(out["Records"], &recs); err != nil {
		return fmt.Errorf("proxy: PutRecords answer records: %w", err)
	}
	_ = json.Unmarshal(out["FailedRecordCount"], &failed)
	out["Records"], _ = json.Marshal(spliceRecords(recs, refused, len(recs)+len(refused)))
	out["FailedRecordCount"], _ = json.Marshal(failed + len(refused))
	body, _ = json.Marshal(out)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Header.Del("X-Amz-Crc32")
	return nil
}

// spliceRecords returns total answer entries: a throttling failure at each refused index, and
// the forwarded records' answers in order elsewhere.
func spliceRecords(forwarded []json.RawMessage, refused []int, total int) []json.RawMessage {
	out := make([]json.RawMessage, 0, total)
	throttled, _ := json.Marshal(map[string]string{
		"ErrorCode":    "ProvisionedThroughputExceededException",
		"ErrorMessage": "Rate exceeded for shard (refused by the test proxy)",
	})
	for i := 0; i < total; i++ {
		if len(refused) > 0 && refused[0] == i {
			refused = refused[1:]
			out = append(out, throttled)
			continue
		}
		out = append(out, forwarded[0])
		forwarded = forwarded[1:]
	}
	return out
}

// stored is one record read back from the stream.
type stored struct {
	Shard, Key string
	Data       []byte
}

// readAll reads every record of stream, shard by shard, in sequence order.
func readAll(tb testing.TB, c *kinesis.Client, stream string) []stored {
	tb.Helper()
	ctx := context.Background()
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		tb.Fatalf("ListShards: %v", err)
	}
	var all []stored
	for _, sh := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(stream), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			tb.Fatalf("GetShardIterator: %v", err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				tb.Fatalf("GetRecords: %v", err)
			}
			for _, r := range out.Records {
				all = append(all, stored{Shard: aws.ToString(sh.ShardId), Key: aws.ToString(r.PartitionKey), Data: r.Data})
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return all
}

// numbered returns n records over keys accounts, each data a small JSON naming its key and its
// position, so readers can check order and exactly-once.
func numbered(n, keys int) []producer.Record {
	recs := make([]producer.Record, n)
	for i := range recs {
		key := fmt.Sprintf("acc-%d", i%keys)
		recs[i] = producer.Record{Data: fmt.Appendf(nil, `{"key":%q,"seq":%d}`, key, i), PartitionKey: key}
	}
	return recs
}

// seqOf returns the position numbered put in data.
func seqOf(tb testing.TB, data []byte) int {
	var v struct{ Seq int }
	if err := json.Unmarshal(data, &v); err != nil {
		tb.Fatalf("record %q: %v", data, err)
	}
	return v.Seq
}

// checkExactlyOnce fails tb unless got holds each of want exactly once.
func checkExactlyOnce(tb testing.TB, got []stored, want []producer.Record) {
	tb.Helper()
	count := map[string]int{}
	for _, s := range got {
		count[string(s.Data)]++
	}
	for i, r := range want {
		if c := count[string(r.Data)]; c != 1 {
			tb.Errorf("record %d (%.60s) stored %d times, want once", i, r.Data, c)
		}
		delete(count, string(r.Data))
	}
	if len(count) > 0 {
		tb.Errorf("%d records stored that were not sent", len(count))
	}
}
