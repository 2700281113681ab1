package producer

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Defaults of a Producer's options.
const (
	// DefaultMaxAttempts is how many times a record is put before it is reported failed.
	DefaultMaxAttempts = 10
	// DefaultMaxBackoff caps the wait between two attempts. Below it, the SDK's backoff waits a
	// random time up to 2^attempt seconds (full jitter), so throttled shards get a second or
	// more to recover.
	DefaultMaxBackoff = 5 * time.Second
	// MaxConcurrency is the most lanes WithConcurrency accepts.
	MaxConcurrency = 64
)

// Option configures a Producer.
type Option func(*config) error

// config is a Producer's settings; newConfig fills in the defaults.
type config struct {
	maxAttempts int
	maxRecords  int
	concurrency int
	backoff     retry.BackoffDelayer
	progress    func(sent, total int)
}

func newConfig(opts []Option) (config, error) {
	c := config{
		maxAttempts: DefaultMaxAttempts,
		maxRecords:  MaxRecordsPerCall,
		concurrency: 1,
		backoff:     retry.NewExponentialJitterBackoff(DefaultMaxBackoff),
	}
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// WithMaxAttempts sets how many times a record is put, first attempt included, before it is
// reported failed; n ≥ 1, DefaultMaxAttempts by default.
func WithMaxAttempts(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("producer: max attempts %d, want at least 1", n)
		}
		c.maxAttempts = n
		return nil
	}
}

// WithMaxRecordsPerCall sets the most records one PutRecords call carries, 1 to
// MaxRecordsPerCall (the default). Smaller calls are for tests.
func WithMaxRecordsPerCall(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxRecordsPerCall {
			return fmt.Errorf("producer: max records per call %d, want 1 to %d", n, MaxRecordsPerCall)
		}
		c.maxRecords = n
		return nil
	}
}

// WithConcurrency splits the records of a Send into n lanes by partition key, each making its
// PutRecords calls in turn, and runs the lanes at once; 1 to MaxConcurrency, 1 by default. Calls
// in flight at once never share a partition key, so an account's records keep their order.
// It helps when each call waits on the network (against AWS); a small Send makes more, smaller
// calls, since each lane gets a share of the records.
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxConcurrency {
			return fmt.Errorf("producer: concurrency %d, want 1 to %d", n, MaxConcurrency)
		}
		c.concurrency = n
		return nil
	}
}

// WithBackoff sets the wait before attempt n+1 after attempt n failed, given the failure (an
// SDK error, or a *RecordError whose code is the one Kinesis gave). By default it is
// retry.NewExponentialJitterBackoff(DefaultMaxBackoff) from the AWS SDK. Note that the SDK's
// backoff starts at one second: given a cap below one second it always waits the cap, without
// jitter — convenient in tests.
func WithBackoff(b retry.BackoffDelayer) Option {
	return func(c *config) error {
		if b == nil {
			return fmt.Errorf("producer: nil backoff")
		}
		c.backoff = b
		return nil
	}
}

// WithProgress calls fn after each PutRecords call that stored records, with the records stored
// so far and the total given to Send or SendRaw: enough for a progress bar. Calls to fn never
// overlap, even WithConcurrency; fn should return quickly, since a lane waits for it.
func WithProgress(fn func(sent, total int)) Option {
	return func(c *config) error {
		c.progress = fn
		return nil
	}
}
