// Package reqcount counts AWS SDK requests by operation with a middleware, so that figures such
// as "DynamoDB requests per 1,000 events" are counted, not estimated.
package reqcount

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/smithy-go/middleware"
)

// Counter counts requests per operation ("TransactWriteItems", "Invoke", …), retries included.
type Counter struct {
	mu     sync.Mutex
	counts map[string]int
}

// APIOption returns the middleware to add to a client's APIOptions.
func (c *Counter) APIOption() func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("reqcount", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.add(middleware.GetOperationName(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}

func (c *Counter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[op]++
}

// Counts returns a copy of the counts so far.
func (c *Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Total returns the number of requests so far.
func (c *Counter) Total() int {
	n := 0
	for _, v := range c.Counts() {
		n += v
	}
	return n
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = nil
}
