package devstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/inproc"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// State is what a running `local up` tells other commands: where its endpoints and logs are, and
// which processes it started.
type State struct {
	PID              int               `json:"pid"`
	KinesisEndpoint  string            `json:"kinesisEndpoint"`
	DynamoDBEndpoint string            `json:"dynamodbEndpoint"`
	LambdaEndpoint   string            `json:"lambdaEndpoint"`
	APIEndpoints     map[string]string `json:"apiEndpoints"`
	LogDir           string            `json:"logDir"`
	Env              map[string]string `json:"env"`

	Started   time.Time     `json:"started,omitzero"`
	Runtime   string        `json:"runtime,omitempty"`
	Template  string        `json:"template,omitempty"`  // where the template came from
	Streams   []string      `json:"streams,omitempty"`   // physical names
	Tables    []string      `json:"tables,omitempty"`    // physical names
	Processes []ProcessInfo `json:"processes,omitempty"` // what the stack started, each the leader of its process group
	Output    string        `json:"output,omitempty"`    // the file a detached stack writes its output to
}

// ProcessInfo is a process a stack started: an emulator or a function's runtime.
type ProcessInfo struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
}

// statePath is where a stack keeping its data in dir records itself.
func statePath(dir string) string { return filepath.Join(dir, "state.json") }

// State is what this process records about the running stack s.
func (s *Stack) State() State {
	st := State{PID: os.Getpid(), KinesisEndpoint: s.KinesisEndpoint, DynamoDBEndpoint: s.DynamoDBEndpoint,
		LambdaEndpoint: s.LambdaEndpoint, APIEndpoints: s.APIEndpoints, LogDir: s.LogDir, Env: s.Env(),
		Started: time.Now().UTC().Truncate(time.Second), Runtime: s.opts.Runtime, Template: s.template, Processes: s.Processes()}
	for _, k := range s.Resources.Streams {
		st.Streams = append(st.Streams, k.Name)
	}
	for _, t := range s.Resources.Tables {
		st.Tables = append(st.Tables, aws.ToString(t.TableName))
	}
	return st
}

// Processes lists the processes the stack started: the emulators and the functions' runtimes.
func (s *Stack) Processes() []ProcessInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ProcessInfo
	for _, p := range s.emulators {
		out = append(out, ProcessInfo{Name: p.Name(), PID: p.PID()})
	}
	ids := make([]string, 0, len(s.runtimes))
	for id := range s.runtimes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if p, ok := s.runtimes[id].(interface{ PID() int }); ok {
			out = append(out, ProcessInfo{Name: id, PID: p.PID()})
		}
	}
	return out
}

// WriteState records a running stack for other commands.
func WriteState(dir string, s *Stack) error { return WriteStateFile(dir, s.State()) }

// WriteStateFile records st as the state of the stack keeping its data in dir. The file is
// replaced at once (written aside, then renamed), so that a reader never sees half of it.
func WriteStateFile(dir string, st State) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".state-*.json")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), statePath(dir))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// RemoveState forgets the running stack.
func RemoveState(dir string) { _ = os.Remove(statePath(dir)) }

// RemoveStateOf forgets the stack of pid, unless the state file names another one by now.
func RemoveStateOf(dir string, pid int) {
	if st, err := ReadState(dir); err == nil && st.PID == pid {
		RemoveState(dir)
	}
}

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

// ReadState reads what a stack keeping its data in dir recorded, or an error when none runs there
// (see Check for whether the one recorded still runs).
func ReadState(dir string) (State, error) {
	var st State
	b, err := os.ReadFile(statePath(dir))
	if err != nil {
		return st, fmt.Errorf("no local stack recorded in %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("the state file %s: %w", statePath(dir), err)
	}
	return st, nil
}

// StatePath is the state file of the stack keeping its data in dir.
func StatePath(dir string) string { return statePath(dir) }

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
	return parseAPIKeys(path, b)
}

func parseAPIKeys(name string, b []byte) (map[string]string, error) {
	var keys map[string]string
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("API keys in %s: want {\"<key>\": \"<tenant>\"}: %w", name, err)
	}
	return keys, nil
}
