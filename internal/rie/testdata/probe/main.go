// Command probe is a Lambda function for the rie package's tests: it echoes, fails, panics,
// sleeps or reports its environment, as the payload asks.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// request says what one invocation does.
type request struct {
	Echo    string   `json:"echo,omitempty"`
	Fail    string   `json:"fail,omitempty"`
	Panic   string   `json:"panic,omitempty"`
	Exit    int      `json:"exit,omitempty"`
	SleepMS int      `json:"sleepMs,omitempty"`
	Env     []string `json:"env,omitempty"`
	Log     string   `json:"log,omitempty"`
}

// response is what it returns.
type response struct {
	Echo string             `json:"echo,omitempty"`
	Env  map[string]*string `json:"env,omitempty"`
}

func handle(_ context.Context, req request) (response, error) {
	if req.Log != "" {
		fmt.Fprintln(os.Stderr, req.Log)
	}
	// It sleeps whatever its deadline, so that a long sleep is a timeout.
	time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
	switch {
	case req.Fail != "":
		return response{}, errors.New(req.Fail)
	case req.Panic != "":
		panic(req.Panic)
	case req.Exit != 0:
		os.Exit(req.Exit)
	}
	out := response{Echo: req.Echo}
	if len(req.Env) > 0 {
		out.Env = map[string]*string{}
		for _, k := range req.Env {
			if v, ok := os.LookupEnv(k); ok {
				out.Env[k] = &v
			} else {
				out.Env[k] = nil
			}
		}
	}
	return out, nil
}

func main() { lambda.Start(handle) }
