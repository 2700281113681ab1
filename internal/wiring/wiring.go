// Package wiring builds a type function from its environment, so that each functions/<type>/main.go
// is one line of configuration.
package wiring

import (
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/awsenv"
	"github.com/go-event-processor/go-event-processor/internal/logging"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// StartTypeFunction reads TABLE_NAME, builds the DynamoDB client once, and starts the Lambda
// handler of type t. A configuration error is logged and ends the process before any invoke.
func StartTypeFunction(t event.Type) {
	log := logging.New(os.Stderr)
	s, err := TableStore()
	if err != nil {
		Exit(log, err)
	}
	lambda.Start(typefn.New(t, s, log).Handle)
}

// TableStore is the events table named by TABLE_NAME, through a DynamoDB client configured from
// the environment (AWS_ENDPOINT_URL_DYNAMODB included).
func TableStore() (*store.Store, error) {
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		return nil, errors.New("TABLE_NAME is not set: it names the events table")
	}
	cfg, err := awsenv.Config()
	if err != nil {
		return nil, err
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = awsenv.DynamoDBEndpoint() })
	return store.New(client, table), nil
}

// Exit logs why a function cannot start and ends its process, before any invocation.
func Exit(log *slog.Logger, err error) {
	log.Error("cannot start", "error", err.Error())
	os.Exit(1)
}
