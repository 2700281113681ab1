package devstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/inproc"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// State is what a running `local up` tells other commands: where its endpoints and logs are.
type State struct {
	PID              int               `json:"pid"`
	KinesisEndpoint  string            `json:"kinesisEndpoint"`
	DynamoDBEndpoint string            `json:"dynamodbEndpoint"`
	LambdaEndpoint   string            `json:"lambdaEndpoint"`
	APIEndpoints     map[string]string `json:"apiEndpoints"`
	LogDir           string            `json:"logDir"`
	Env              map[string]string `json:"env"`
}

// statePath is where a stack keeping its data in dir records itself.
func statePath(dir string) string { return filepath.Join(dir, "state.json") }

// WriteState records a running stack for other commands.
func WriteState(dir string, s *Stack) error {
	b, _ := json.MarshalIndent(State{PID: os.Getpid(), KinesisEndpoint: s.KinesisEndpoint, DynamoDBEndpoint: s.DynamoDBEndpoint,
		LambdaEndpoint: s.LambdaEndpoint, APIEndpoints: s.APIEndpoints, LogDir: s.LogDir, Env: s.Env()}, "", "  ")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(statePath(dir), b, 0o644)
}

// RemoveState forgets the running stack.
func RemoveState(dir string) { _ = os.Remove(statePath(dir)) }

// CheckEventFits reports whether payload decodes, with no unknown field, into the input type of
// f: a Kinesis event for the router, a typefn.Batch of the function's type otherwise.
func CheckEventFits(f Function, payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if t, ok := inproc.TypeOfCode(f.CodeURI); ok {
		var b typefn.Batch
		if err := dec.Decode(&b); err != nil {
			return fmt.Errorf("not a batch of %s records ({\"records\": [{\"event\": …}]}): %w", t, err)
		}
		if len(b.Records) == 0 {
			return errors.New(`the batch has no records: want {"records": [{"event": …}]}`)
		}
		for i, r := range b.Records {
			if e, err := event.Decode(r.Event); err == nil && e.Type != t {
				return fmt.Errorf("record %d is a %s event; %s takes %s events", i, e.Type, f.LogicalID, t)
			}
		}
		return nil
	}
	switch f.CodeURI {
	case inproc.QueryCode:
		var r events.APIGatewayProxyRequest
		if err := dec.Decode(&r); err != nil || r.HTTPMethod == "" {
			return fmt.Errorf("not an API Gateway proxy request ({\"httpMethod\": \"GET\", \"path\": …}): %v", err)
		}
		return nil
	case inproc.AuthorizerCode:
		var r events.APIGatewayCustomAuthorizerRequest
		if err := dec.Decode(&r); err != nil || r.AuthorizationToken == "" {
			return fmt.Errorf("not a TOKEN authorizer request ({\"type\": \"TOKEN\", \"authorizationToken\": …}): %v", err)
		}
		return nil
	}
	var k events.KinesisEvent
	if err := dec.Decode(&k); err != nil {
		return fmt.Errorf("not a Kinesis event ({\"Records\": [{\"kinesis\": …}]}): %w", err)
	}
	if len(k.Records) == 0 {
		return errors.New(`the Kinesis event has no records: want {"Records": [{"kinesis": {"data": …}}]}`)
	}
	return nil
}

// ReadState reads what a stack keeping its data in dir recorded, or an error when none runs there.
func ReadState(dir string) (State, error) {
	var st State
	b, err := os.ReadFile(statePath(dir))
	if err != nil {
		return st, fmt.Errorf("no local stack recorded in %s: %w", dir, err)
	}
	return st, json.Unmarshal(b, &st)
}

// ClearData removes what a stack keeps in its data directory — the emulators' data and the state
// file — and nothing else there, so that a mistaken directory loses no one else's files.
func ClearData(dir string) error {
	for _, name := range []string{kinesisDataDir, dynamoDBDataDir, filepath.Base(statePath(dir))} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("clear the local stack's data in %s: %w", dir, err)
		}
	}
	return nil
}

// The emulators' subdirectories of a data directory.
const (
	kinesisDataDir  = "kinesis"
	dynamoDBDataDir = "dynamodb"
)

// DefaultDataDir is where `local up` keeps its data unless told otherwise.
func DefaultDataDir(root string) string { return filepath.Join(root, ".cache", "devstack", "data") }

// ReadAPIKeys reads a JSON object of API key → tenant.
func ReadAPIKeys(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("API keys: %w", err)
	}
	var keys map[string]string
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("API keys in %s: want {\"<key>\": \"<tenant>\"}: %w", path, err)
	}
	return keys, nil
}
