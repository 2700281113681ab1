// Package invoke reaches the type functions through the Lambda Invoke API (RequestResponse). Its
// endpoint follows the SDK's configuration, so AWS_ENDPOINT_URL_LAMBDA points it at LocalStack,
// `sam local start-lambda` or the project's local stack.
package invoke

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// API is the part of the Lambda client the invoker calls; *lambda.Client implements it.
type API interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// Lambda invokes each event type's function by name.
type Lambda struct {
	Client    API
	Functions map[event.Type]string // function name or ARN per type
}

var _ routing.Invoker = (*Lambda)(nil)

// Invoke sends b to t's function and decodes its Response. A function error (the handler
// returned an error or crashed) and an undecodable answer are errors: the batch is retried.
func (l *Lambda) Invoke(ctx context.Context, t event.Type, b typefn.Batch) (typefn.Response, error) {
	name, ok := l.Functions[t]
	if !ok {
		return typefn.Response{}, fmt.Errorf("no function configured for type %s", t)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the payload the size the router measured
	if err := enc.Encode(b); err != nil {
		return typefn.Response{}, fmt.Errorf("encode batch for %s: %w", name, err)
	}
	payload := buf.Bytes()
	out, err := l.Client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(name),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return typefn.Response{}, fmt.Errorf("invoke %s: %w", name, err)
	}
	if out.FunctionError != nil {
		return typefn.Response{}, fmt.Errorf("invoke %s: function error %s: %s", name, aws.ToString(out.FunctionError), truncate(out.Payload, 512))
	}
	var resp typefn.Response
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		return typefn.Response{}, fmt.Errorf("invoke %s: decode response %q: %w", name, truncate(out.Payload, 128), err)
	}
	return resp, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
