package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
)

const (
	// InvokePath is the emulator's invocation endpoint; the emulator serves one function,
	// always named "function" here.
	InvokePath = "/2015-03-31/functions/function/invocations"

	invokeGrace   = 10 * time.Second // beyond the function's timeout, before giving up on the emulator
	reportWait    = 2 * time.Second  // for the REPORT line after the response
	maxBodyBytes  = 16 << 20         // larger than any Lambda response
	timeoutType   = "Sandbox.Timedout"
	errorBodyKeys = 3 // errorMessage, errorType, stackTrace
)

// ErrStopped is returned (wrapped) by Invoke once Stop has been called.
var ErrStopped = errors.New("runtime stopped")

// FunctionError is a function error: the function returned an error, panicked, crashed or
// timed out. The emulator answers these with the error JSON in the response body.
type FunctionError struct {
	Function   string          // the function's name
	Type       string          // errorType: "errorString", "Runtime.ExitError", "Sandbox.Timedout", …
	Message    string          // errorMessage
	StackTrace json.RawMessage // stackTrace as the runtime reported it (a panic), or nil
	Status     int             // the emulator's HTTP status: 200, or 502 when the runtime crashed
	Payload    []byte          // the response body as the emulator sent it
}

// Error returns "function NAME: TYPE: MESSAGE".
func (e *FunctionError) Error() string {
	return fmt.Sprintf("function %s: %s: %s", e.Function, e.Type, e.Message)
}

// Func returns the runtime as a localinvoke.Func, for a localinvoke.Server to dispatch to. A
// function error reaches the server's caller as X-Amz-Function-Error: Unhandled.
func (r *Runtime) Func() localinvoke.Func { return r.Invoke }

// Invoke runs the function on payload and returns its response, or a *FunctionError (wrapped)
// for a function error. Invocations of one Runtime run one at a time, since the emulator serves
// one at a time; a caller whose ctx ends while it waits or while its invocation runs gets
// ctx's error at once, but the next invocation still waits until the emulator has answered this
// one (within the function's timeout). Invoke waits (bounded) for the emulator's REPORT line of
// the invocation, so LastReport describes it when Invoke returns. The invocation's request id is
// localinvoke.RequestIDFrom(ctx) when set, and its log is copied to localinvoke.LogTailFrom(ctx)
// when set.
func (r *Runtime) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case <-r.stopCtx.Done():
		return nil, fmt.Errorf("invoke %s: %w", r.name, ErrStopped)
	default:
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: waiting for the invocation before: %w", r.name, context.Cause(ctx))
	case <-r.stopCtx.Done():
		return nil, fmt.Errorf("invoke %s: %w", r.name, ErrStopped)
	}
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	id, tail := localinvoke.RequestIDFrom(ctx), localinvoke.LogTailFrom(ctx)
	if id == "" {
		id = requestID()
	}
	go func() {
		defer func() { <-r.sem }()
		out, err := r.roundTrip(payload, id, tail)
		done <- result{out, err}
	}()
	select {
	case res := <-done:
		return res.out, res.err
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: %w (the emulator finishes the invocation)", r.name, context.Cause(ctx))
	}
}

// roundTrip sends one invocation, with request id id, to the emulator and reads its answer. When
// tail is not nil, what the emulator and the function write from the request until the
// invocation's REPORT line (the emulator's own log lines left out) is copied there: the
// invocation's log, framed by the emulator's START, END and REPORT lines, as Lambda keeps it.
func (r *Runtime) roundTrip(payload []byte, id string, tail *localinvoke.LogTail) ([]byte, error) {
	select {
	case <-r.exited:
		return nil, fmt.Errorf("invoke %s: %s has exited (%v)\n--- last output ---\n%s", r.name, EmulatorName, r.exitErr, r.Output())
	default:
	}
	ctx, cancel := context.WithTimeout(r.stopCtx, r.timeout+invokeGrace)
	defer cancel()
	if tail != nil {
		tail.MarkFramed()
		r.logs.setCapture(tail)
		defer r.logs.setCapture(nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Endpoint()+InvokePath, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", r.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amzn-RequestId", id)
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, r.transportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, r.transportError(err)
	}
	if resp.StatusCode == http.StatusOK {
		// The emulator writes the REPORT line before it answers; wait until it has been read.
		r.logs.awaitReport(id, reportWait)
	}
	return classify(r.name, resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body)
}

// transportError describes a failed request, with the emulator's output if it has died.
func (r *Runtime) transportError(err error) error {
	if r.stopCtx.Err() != nil {
		return fmt.Errorf("invoke %s: %w: %v", r.name, ErrStopped, err)
	}
	select {
	case <-r.exited:
		return fmt.Errorf("invoke %s: %s exited (%v): %w\n--- last output ---\n%s", r.name, EmulatorName, r.exitErr, err, r.Output())
	case <-time.After(100 * time.Millisecond):
		return fmt.Errorf("invoke %s: %w", r.name, err)
	}
}

var timedOut = regexp.MustCompile(`^Task timed out after [0-9.]+ seconds$`)

// classify turns the emulator's answer into the function's response or error.
func classify(name string, status int, functionErrorHeader string, body []byte) ([]byte, error) {
	switch {
	case status == http.StatusOK && functionErrorHeader == "" && timedOut.Match(bytes.TrimSpace(body)):
		return nil, &FunctionError{Function: name, Type: timeoutType, Message: string(bytes.TrimSpace(body)), Status: status, Payload: body}
	case status == http.StatusOK || status == http.StatusBadGateway:
		fe, isError := parseFunctionError(body)
		if functionErrorHeader == "" && !isError {
			if status == http.StatusOK {
				return body, nil
			}
			break
		}
		if fe == nil {
			fe = &FunctionError{Type: functionErrorHeader, Message: string(body)}
		}
		fe.Function, fe.Status, fe.Payload = name, status, body
		return nil, fe
	}
	return nil, fmt.Errorf("invoke %s: %s answered %d %s: %s", name, EmulatorName, status, http.StatusText(status), truncate(body, 1024))
}

// parseFunctionError reads the error JSON a runtime reports: an object with string fields
// errorMessage and errorType and, optionally, stackTrace, and nothing else.
func parseFunctionError(body []byte) (*FunctionError, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || len(m) > errorBodyKeys {
		return nil, false
	}
	var fe FunctionError
	for k, v := range m {
		var err error
		switch k {
		case "errorMessage":
			err = json.Unmarshal(v, &fe.Message)
		case "errorType":
			err = json.Unmarshal(v, &fe.Type)
		case "stackTrace":
			fe.StackTrace = v
		default:
			return nil, false
		}
		if err != nil {
			return nil, false
		}
	}
	if _, ok := m["errorMessage"]; !ok {
		return nil, false
	}
	if _, ok := m["errorType"]; !ok {
		return nil, false
	}
	return &fe, true
}

// requestID returns a random UUID (version 4), the form of Lambda's request ids.
func requestID() string { return uuid.NewString() }

func truncate(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
