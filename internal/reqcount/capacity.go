package reqcount

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Capacity sums the capacity units DynamoDB reports as consumed, per operation. Its middleware
// asks for them (ReturnConsumedCapacity TOTAL) on every request that can return them, so the cost
// model works from units DynamoDB counted rather than from item sizes estimated here.
type Capacity struct {
	mu    sync.Mutex
	units map[string]float64
}

// APIOption returns the middleware to add to a DynamoDB client's APIOptions.
func (c *Capacity) APIOption() func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("capacity", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			total := types.ReturnConsumedCapacityTotal
			switch p := in.Parameters.(type) {
			case *dynamodb.TransactWriteItemsInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.BatchGetItemInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.BatchWriteItemInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.QueryInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.GetItemInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.PutItemInput:
				p.ReturnConsumedCapacity = total
			case *dynamodb.UpdateItemInput:
				p.ReturnConsumedCapacity = total
			}
			out, md, err := next.HandleInitialize(ctx, in)
			var used []types.ConsumedCapacity
			switch r := out.Result.(type) {
			case *dynamodb.TransactWriteItemsOutput:
				used = r.ConsumedCapacity
			case *dynamodb.BatchGetItemOutput:
				used = r.ConsumedCapacity
			case *dynamodb.BatchWriteItemOutput:
				used = r.ConsumedCapacity
			case *dynamodb.QueryOutput:
				used = one(r.ConsumedCapacity)
			case *dynamodb.GetItemOutput:
				used = one(r.ConsumedCapacity)
			case *dynamodb.PutItemOutput:
				used = one(r.ConsumedCapacity)
			case *dynamodb.UpdateItemOutput:
				used = one(r.ConsumedCapacity)
			}
			c.add(middleware.GetOperationName(ctx), used)
			return out, md, err
		}), middleware.After)
	}
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

func (c *Capacity) add(op string, used []types.ConsumedCapacity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.units == nil {
		c.units = map[string]float64{}
	}
	for _, u := range used {
		if u.CapacityUnits != nil {
			c.units[op] += *u.CapacityUnits
		}
	}
}

// Units returns the capacity units consumed so far, by operation.
func (c *Capacity) Units() map[string]float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]float64, len(c.units))
	for k, v := range c.units {
		out[k] = v
	}
	return out
}

// Reset forgets the units so far.
func (c *Capacity) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.units = nil
}
