// Command authorizer is the query API's TOKEN authorizer: it maps an API key to its tenant.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/go-event-processor/go-event-processor/handlers"
	"github.com/go-event-processor/go-event-processor/internal/logging"
	"github.com/go-event-processor/go-event-processor/store"
)

func main() {
	log := logging.New(os.Stderr)
	table := os.Getenv("TABLE_NAME")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if table == "" || err != nil {
		log.Error("cannot start: TABLE_NAME must name the events table and the AWS configuration must load", "error", err)
		os.Exit(1)
	}
	lambda.Start(handlers.Authorizer(store.New(dynamodb.NewFromConfig(cfg), table)))
}
