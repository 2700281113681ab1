// Package emutest gives tests one shared pair of emulators (kinesalite and
// DynamoDB Local) per test binary, and helpers to create uniquely named
// streams and tables in them.
//
// A package that uses it calls Main from TestMain, so the emulators are stopped
// when its tests end:
//
//	func TestMain(m *testing.M) { emutest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		stack := emutest.Start(t)
//		table := stack.CreateTable(t, myTableInput)
//		...
//	}
//
// If the emulators are not installed, Start fails the test with the install
// hint. Setting GEP_SKIP_EMULATORS=1 makes Start skip the test instead,
// without starting anything.
package emutest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

// EnvSkip names the environment variable that, set to "1", makes Start skip.
const EnvSkip = "GEP_SKIP_EMULATORS"

// startTimeout bounds starting both emulators.
const startTimeout = 60 * time.Second

// Stack is the pair of running emulators shared by the tests of one binary.
type Stack struct {
	// KinesisEndpoint is kinesalite's base URL, http://127.0.0.1:PORT.
	KinesisEndpoint string
	// DynamoDBEndpoint is DynamoDB Local's base URL, http://127.0.0.1:PORT.
	DynamoDBEndpoint string
	// Kinesis is a client for KinesisEndpoint (see emulators.AWSConfig).
	Kinesis *kinesis.Client
	// DynamoDB is a client for DynamoDBEndpoint (see emulators.AWSConfig).
	DynamoDB *dynamodb.Client

	kinesisProc, dynamoProc *emulators.Process
}

var (
	mainCalled atomic.Bool
	once       sync.Once
	shared     *Stack
	sharedErr  error
)

// Main runs the tests of m and then stops the shared emulators, if any were
// started. Call it from TestMain; the test binary exits with m.Run's code
// after Main returns, or with 1 if the emulators could not be stopped.
func Main(m *testing.M) {
	mainCalled.Store(true)
	code := m.Run()
	if shared == nil {
		return
	}
	if err := shared.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "emutest: %v\n", err)
		if code == 0 {
			os.Exit(1)
		}
	}
}

// Start returns the shared emulators, starting them on the first call. It
// fails tb if they cannot be started (for example when they are not
// installed), and skips tb if GEP_SKIP_EMULATORS=1. The test binary's
// TestMain must call Main, which stops them.
func Start(tb testing.TB) *Stack {
	tb.Helper()
	if os.Getenv(EnvSkip) == "1" {
		tb.Skipf("%s=1: skipping a test that needs the local emulators", EnvSkip)
	}
	if !mainCalled.Load() {
		tb.Fatal("emutest: Start needs TestMain to call emutest.Main(m), which stops the shared emulators")
	}
	once.Do(func() { shared, sharedErr = startStack() })
	if sharedErr != nil {
		tb.Fatalf("emutest: %v", sharedErr)
	}
	return shared
}

// startStack starts both emulators concurrently; if either fails, the other
// is stopped.
func startStack() (*Stack, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	var (
		wg               sync.WaitGroup
		kinProc, ddbProc *emulators.Process
		kinErr, ddbErr   error
	)
	wg.Go(func() { kinProc, kinErr = emulators.StartKinesis(ctx, emulators.Options{}) })
	wg.Go(func() { ddbProc, ddbErr = emulators.StartDynamoDB(ctx, emulators.Options{}) })
	wg.Wait()
	if err := errors.Join(kinErr, ddbErr); err != nil {
		for _, p := range []*emulators.Process{kinProc, ddbProc} {
			if p != nil {
				err = errors.Join(err, p.Stop())
			}
		}
		return nil, err
	}
	return &Stack{
		KinesisEndpoint:  kinProc.Endpoint(),
		DynamoDBEndpoint: ddbProc.Endpoint(),
		Kinesis:          emulators.KinesisClient(kinProc.Endpoint()),
		DynamoDB:         emulators.DynamoDBClient(ddbProc.Endpoint()),
		kinesisProc:      kinProc,
		dynamoProc:       ddbProc,
	}, nil
}

// stop stops both emulators.
func (s *Stack) stop() error {
	return errors.Join(s.kinesisProc.Stop(), s.dynamoProc.Stop())
}
