package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/go-event-processor/go-event-processor/event"
)

// Kinesis limits of PutRecords (a stream's default ones).
const (
	MaxRecordsPerCall     = 500     // records in one call
	MaxBytesPerCall       = 5 << 20 // data and partition keys of one call
	MaxRecordBytes        = 1 << 20 // data and partition key of one record
	MaxPartitionKeyLength = 256     // Unicode characters of a partition key
)

// KinesisAPI is the part of the Kinesis client a Producer uses; *kinesis.Client implements it.
type KinesisAPI interface {
	PutRecords(ctx context.Context, params *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

var _ KinesisAPI = (*kinesis.Client)(nil)

// Record is one record already encoded: its bytes and its partition key (for the pipeline, the
// account id). Producer.SendRaw sends records as they are, without looking inside them.
type Record struct {
	Data         []byte
	PartitionKey string
}

// Producer puts records on one Kinesis stream. It is safe for concurrent use; each Send is
// independent of the others.
type Producer struct {
	client KinesisAPI
	stream string
	arn    bool // stream is an ARN, not a name
	cfg    config
}

// New returns a Producer that puts records on stream (a name, or an ARN starting with "arn:")
// through client. It fails on a nil client, an empty stream or an option out of range.
func New(client KinesisAPI, stream string, opts ...Option) (*Producer, error) {
	if client == nil {
		return nil, errors.New("producer: nil Kinesis client")
	}
	if stream == "" {
		return nil, errors.New("producer: empty stream name")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Producer{client: client, stream: stream, arn: strings.HasPrefix(stream, "arn:"), cfg: cfg}, nil
}

// Send encodes events as JSON and puts them on the stream, partition key = subject (the account
// id). An event the pipeline would reject — it fails (*event.Event).Validate, its type does not
// match its data, or it encodes to more than event.MaxRecordBytes — is not sent: its Failure
// carries the *event.RejectError naming the field. The other events are sent as SendRaw sends
// records. The error is Result.Err(): nil exactly when every event was stored.
func (p *Producer) Send(ctx context.Context, events ...*event.Event) (Result, error) {
	start := time.Now()
	items := make([]*item, 0, len(events))
	var refused []Failure
	for i, e := range events {
		raw, err := encode(e)
		if err != nil {
			f := Failure{Index: i, Code: event.CodeInvalid, Message: err.Error(), Err: err}
			var r *event.RejectError
			if errors.As(err, &r) {
				f.Code = r.Code
			}
			if e != nil {
				f.PartitionKey = e.Subject
			}
			refused = append(refused, f)
			continue
		}
		items = append(items, &item{index: i, data: raw, key: e.Subject})
	}
	items, refused = checkLimits(items, refused)
	return p.send(ctx, start, len(events), items, refused)
}

// encode marshals e and checks it as the router will: by decoding the bytes.
func encode(e *event.Event) ([]byte, error) {
	if e == nil {
		return nil, &event.RejectError{Code: event.CodeInvalid, Detail: "the event is nil"}
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	if _, err := event.Decode(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// SendRaw puts records on the stream as they are, without looking inside them: batched within
// the PutRecords limits, retrying what the stream refuses, in order per partition key (see the
// package doc). A record over MaxRecordBytes or with a partition key Kinesis would refuse is
// reported in the Result and not sent. The error is Result.Err(): nil exactly when every record
// was stored. The records' Data must not change until SendRaw returns.
func (p *Producer) SendRaw(ctx context.Context, records ...Record) (Result, error) {
	start := time.Now()
	items := make([]*item, 0, len(records))
	for i, r := range records {
		items = append(items, &item{index: i, data: r.Data, key: r.PartitionKey})
	}
	items, refused := checkLimits(items, nil)
	return p.send(ctx, start, len(records), items, refused)
}

// checkLimits moves the items Kinesis would refuse from items to refused.
func checkLimits(items []*item, refused []Failure) ([]*item, []Failure) {
	kept := items[:0]
	for _, it := range items {
		var err error
		code := CodeTooLarge
		switch n := utf8.RuneCountInString(it.key); {
		case n == 0:
			code, err = CodeBadPartitionKey, fmt.Errorf("%w: the partition key is empty", ErrBadPartitionKey)
		case n > MaxPartitionKeyLength:
			code, err = CodeBadPartitionKey, fmt.Errorf("%w: the partition key has %d characters; the limit is %d", ErrBadPartitionKey, n, MaxPartitionKeyLength)
		case it.size() > MaxRecordBytes:
			err = fmt.Errorf("%w: %d bytes (data %d + partition key %d); the limit is %d", ErrTooLarge, it.size(), len(it.data), len(it.key), MaxRecordBytes)
		}
		if err != nil {
			refused = append(refused, Failure{Index: it.index, PartitionKey: it.key, Code: code, Message: err.Error(), Err: err})
			continue
		}
		kept = append(kept, it)
	}
	return kept, refused
}
