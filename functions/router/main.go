// Command router is the Kinesis-triggered router: it validates each record once, quarantines
// what can never succeed, and invokes the type functions with their records.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/awsenv"
	"github.com/go-event-processor/go-event-processor/internal/invoke"
	"github.com/go-event-processor/go-event-processor/internal/lambdahandler"
	"github.com/go-event-processor/go-event-processor/internal/logging"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

func main() {
	log := logging.New(os.Stderr)
	table := os.Getenv("TABLE_NAME")
	functions := map[event.Type]string{
		event.TypeTransaction:   os.Getenv("TRANSACTION_FUNCTION"),
		event.TypeFraudAlert:    os.Getenv("FRAUD_ALERT_FUNCTION"),
		event.TypeAccountStatus: os.Getenv("ACCOUNT_STATUS_FUNCTION"),
		event.TypeAccountCheck:  os.Getenv("ACCOUNT_CHECK_FUNCTION"),
	}
	for t, name := range functions {
		if name == "" || table == "" {
			log.Error("cannot start: TABLE_NAME and the function of every type must be set", "type", string(t), "table", table)
			os.Exit(1)
		}
	}
	cfg, err := awsenv.Config()
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	lambdaClient := awslambda.NewFromConfig(cfg, func(o *awslambda.Options) { o.BaseEndpoint = awsenv.LambdaEndpoint() })
	dynamoClient := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = awsenv.DynamoDBEndpoint() })
	events := store.New(dynamoClient, table)
	r := &routing.Router{
		Invoker:    &invoke.Lambda{Client: lambdaClient, Functions: functions},
		Quarantine: events,
		Feed:       events,
		Log:        log,
	}
	lambda.Start(lambdahandler.Kinesis(r))
}
