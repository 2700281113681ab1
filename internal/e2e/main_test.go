// Package e2e tests the pipeline end to end on the real AWS APIs: kinesalite for the stream,
// DynamoDB Local for the table, and the Lambda Invoke API served on loopback.
package e2e_test

import (
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/emulators/emutest"
)

func TestMain(m *testing.M) { emutest.Main(m) }
