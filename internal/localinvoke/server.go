// Package localinvoke serves the Lambda Invoke API (POST /2015-03-31/functions/{FunctionName}/invocations)
// on loopback, dispatching to functions registered by name: handlers in this process, or each
// function's bootstrap under the Lambda runtime interface emulator (internal/rie). The router's
// Lambda client, the AWS CLI and the SDKs reach it through AWS_ENDPOINT_URL_LAMBDA (or
// --endpoint-url), exactly as they reach AWS.
//
// What it takes, as Lambda does:
//
//   - FunctionName as a name, a function ARN (arn:aws:lambda:us-east-1:000000000000:function:NAME)
//     or a partial ARN (000000000000:function:NAME), each with an optional :$LATEST, version or
//     alias suffix, or a Qualifier query parameter (which must then agree). The local stack has one
//     version of each function: any qualifier runs it, and X-Amz-Executed-Version says $LATEST.
//     An unknown function, or an ARN of another region or account, is 404
//     ResourceNotFoundException.
//   - X-Amz-Invocation-Type RequestResponse (the default: 200 with the function's response, or its
//     error with X-Amz-Function-Error: Unhandled), Event (202 and an empty body at once; the event
//     waits in a bounded queue, see DefaultAsyncQueueEvents, and a function error is logged) and
//     DryRun (204: the function exists; nothing runs).
//   - X-Amz-Log-Type Tail, for RequestResponse: X-Amz-Log-Result holds the base64 of the last 4 KB
//     of the invocation's log (see LogTail).
//   - Payloads of at most 6 MB (RequestResponse) or 1 MB (Event), which must be JSON.
//
// Errors have Lambda's shape: the status, X-Amzn-ErrorType, and {"Type": "User", "message": …}.
package localinvoke

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Func handles one invocation's payload and returns the response payload. An error is a
// function error: the API answers 200 with X-Amz-Function-Error: Unhandled, as Lambda does.
// ctx carries the invocation's request id (RequestIDFrom) and, when the caller asked for the log
// tail, where to copy the function's log (LogTailFrom).
type Func func(ctx context.Context, payload []byte) ([]byte, error)

// JSON adapts a typed handler func(ctx, In) (Out, error) to a Func.
func JSON[In, Out any](h func(context.Context, In) (Out, error)) Func {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		var in In
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, fmt.Errorf("decode payload: %w", err)
		}
		out, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

// Invocation types and log types of the Invoke API.
const (
	InvocationRequestResponse = "RequestResponse"
	InvocationEvent           = "Event"
	InvocationDryRun          = "DryRun"
	LogTypeNone               = "None"
	LogTypeTail               = "Tail"
)

// Payload limits of Lambda's Invoke.
const (
	MaxSyncPayloadBytes  = 6 << 20 // RequestResponse
	MaxAsyncPayloadBytes = 1 << 20 // Event
)

// Server dispatches invocations to registered functions.
type Server struct {
	mux       *http.ServeMux
	mu        sync.RWMutex
	funcs     map[string]Func
	calls     atomic.Int64
	durations map[string][]time.Duration // per function, in the order invocations ended
	async     *asyncQueue
	log       *slog.Logger
}

// New returns a server with no functions.
func New(opts ...Option) *Server {
	s := &Server{funcs: map[string]Func{}, mux: http.NewServeMux(), durations: map[string][]time.Duration{},
		async: newAsyncQueue(DefaultAsyncQueueEvents, DefaultAsyncQueueBytes, DefaultAsyncWorkers), log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.invoke)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "UnknownOperationException", "not served locally: "+r.Method+" "+r.URL.Path)
	})
	return s
}

// Register adds a function under name. It panics on an empty or duplicate name: that is a wiring
// mistake, found at start-up.
func (s *Server) Register(name string, f Func) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "" || f == nil {
		panic("localinvoke: Register needs a name and a function")
	}
	if _, dup := s.funcs[name]; dup {
		panic("localinvoke: function " + name + " registered twice")
	}
	s.funcs[name] = f
}

// Durations returns how long each invocation of every function took, by function name.
func (s *Server) Durations() map[string][]time.Duration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string][]time.Duration, len(s.durations))
	for k, v := range s.durations {
		out[k] = append([]time.Duration(nil), v...)
	}
	return out
}

// Invocations returns how many invocations the server has run (asynchronous ones once they ran).
func (s *Server) Invocations() int64 { return s.calls.Load() }

// ServeHTTP serves the Invoke API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// lookup finds the function a FunctionName (and Qualifier) names: the registered name as given,
// else the name taken out of an ARN or a qualified name, in this region and account.
func (s *Server) lookup(raw, qualifier string) (name string, f Func, status int, typ, msg string) {
	s.mu.RLock()
	f, ok := s.funcs[raw]
	s.mu.RUnlock()
	if ok && qualifier == "" {
		return raw, f, 0, "", ""
	}
	ref, err := parseFunctionName(raw)
	if err != nil {
		return "", nil, http.StatusBadRequest, "ValidationException", err.Error()
	}
	if qualifier != "" {
		if !qualifierPattern.MatchString(qualifier) {
			return "", nil, http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'qualifier' "+
				"failed to satisfy constraint: Member must satisfy regular expression pattern: %s", qualifier, qualifierPattern.String())
		}
		if ref.Qualifier != "" && ref.Qualifier != qualifier {
			return "", nil, http.StatusBadRequest, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier."
		}
		ref.Qualifier = qualifier
	}
	arn := FunctionARN(ref.Name)
	if ref.Qualifier != "" {
		arn += ":" + ref.Qualifier
	}
	if (ref.Region != "" && ref.Region != DefaultRegion) || (ref.Account != "" && ref.Account != DefaultAccount) {
		return "", nil, http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("Function not found: %s (the local stack serves region %s, account %s)",
			raw, DefaultRegion, DefaultAccount)
	}
	s.mu.RLock()
	f, ok = s.funcs[ref.Name]
	s.mu.RUnlock()
	if !ok {
		return "", nil, http.StatusNotFound, "ResourceNotFoundException", "Function not found: " + arn
	}
	return ref.Name, f, 0, "", ""
}

// invoke implements Invoke.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	w.Header().Set("X-Amzn-RequestId", id)
	name, f, status, typ, msg := s.lookup(r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if f == nil {
		apiError(w, status, typ, msg)
		return
	}
	invocation := r.Header.Get("X-Amz-Invocation-Type")
	switch invocation {
	case "":
		invocation = InvocationRequestResponse
	case InvocationRequestResponse, InvocationEvent, InvocationDryRun:
	default:
		apiError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'invocationType' "+
			"failed to satisfy constraint: Member must satisfy enum value set: [%s, %s, %s]", invocation, InvocationEvent, InvocationRequestResponse, InvocationDryRun))
		return
	}
	logType := r.Header.Get("X-Amz-Log-Type")
	if logType != "" && logType != LogTypeNone && logType != LogTypeTail {
		apiError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'logType' "+
			"failed to satisfy constraint: Member must satisfy enum value set: [%s, %s]", logType, LogTypeNone, LogTypeTail))
		return
	}
	limit := MaxSyncPayloadBytes
	if invocation == InvocationEvent {
		limit = MaxAsyncPayloadBytes
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	if len(payload) > limit {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the %s invocation type", limit, invocation))
		return
	}
	if len(payload) > 0 && !json.Valid(payload) {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: the payload is not valid JSON")
		return
	}
	switch invocation {
	case InvocationDryRun:
		w.WriteHeader(http.StatusNoContent)
		return
	case InvocationEvent:
		if !s.async.enqueue(asyncJob{name: name, id: id, payload: payload}, s.runAsync) {
			w.Header().Set("Retry-After", "1")
			apiError(w, http.StatusTooManyRequests, "TooManyRequestsException", fmt.Sprintf(
				"Rate Exceeded. The local queue of asynchronous invocations is full (%d events or %d bytes waiting); retry later",
				s.async.maxEvents, s.async.maxBytes))
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	var tail *LogTail
	if logType == LogTypeTail {
		tail = &LogTail{}
	}
	start := time.Now()
	out, err := s.call(WithInvocation(r.Context(), id, tail), name, payload)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", LatestVersion)
	if tail != nil {
		w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(framedTail(tail, id, time.Since(start))))
	}
	if err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": err.Error(), "errorType": fmt.Sprintf("%T", err)})
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

// call runs the function registered as name and records how long it took.
func (s *Server) call(ctx context.Context, name string, payload []byte) ([]byte, error) {
	s.mu.RLock()
	f := s.funcs[name]
	s.mu.RUnlock()
	s.calls.Add(1)
	start := time.Now()
	out, err := f(ctx, payload)
	s.mu.Lock()
	s.durations[name] = append(s.durations[name], time.Since(start))
	s.mu.Unlock()
	return out, err
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}
