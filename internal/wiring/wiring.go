// Package wiring builds a type function from its environment, so that each functions/<type>/main.go
// is one line of configuration.
package wiring

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/logging"
	"github.com/go-event-processor/go-event-processor/store"
	"github.com/go-event-processor/go-event-processor/typefn"
)

// StartTypeFunction reads TABLE_NAME, builds the DynamoDB client once, and starts the Lambda
// handler of type t. A configuration error is logged and ends the process before any invoke.
func StartTypeFunction(t event.Type) {
	log := logging.New(os.Stderr)
	h, err := TypeFunction(context.Background(), t)
	if err != nil {
		log.Error("cannot start", "type", string(t), "error", err.Error())
		os.Exit(1)
	}
	h.Log = log
	lambda.Start(h.Handle)
}

// TypeFunction builds type t's handler from the environment.
func TypeFunction(ctx context.Context, t event.Type) (*typefn.Handler, error) {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return nil, errors.New("TABLE_NAME is not set: it names the events table")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return typefn.New(t, store.New(dynamodb.NewFromConfig(cfg), table), nil), nil
}
