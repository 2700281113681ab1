// Command authorizer is the query API's TOKEN authorizer: it maps an API key to its tenant.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/go-event-processor/go-event-processor/internal/lambdahandler"
	"github.com/go-event-processor/go-event-processor/internal/logging"
	"github.com/go-event-processor/go-event-processor/internal/wiring"
)

func main() {
	log := logging.New(os.Stderr)
	s, err := wiring.TableStore()
	if err != nil {
		wiring.Exit(log, err)
	}
	lambda.Start(lambdahandler.Authorizer(s))
}
