// Command query is the query API behind API Gateway: events by id, an account's events and
// state, and quarantined records, each tenant seeing only its own.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/go-event-processor/go-event-processor/internal/lambdahandler"
	"github.com/go-event-processor/go-event-processor/internal/logging"
	"github.com/go-event-processor/go-event-processor/internal/queryapi"
	"github.com/go-event-processor/go-event-processor/internal/wiring"
)

func main() {
	log := logging.New(os.Stderr)
	s, err := wiring.TableStore()
	if err != nil {
		wiring.Exit(log, err)
	}
	lambda.Start(lambdahandler.Query(&queryapi.API{Reader: s, Log: log}))
}
