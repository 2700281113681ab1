// Package localinvoke serves the Lambda Invoke API (POST /2015-03-31/functions/{name}/invocations)
// on loopback, dispatching by function name to handlers in this process. The router's Lambda
// client reaches it through AWS_ENDPOINT_URL_LAMBDA, exactly as it reaches AWS.
package localinvoke

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Func handles one invocation's payload and returns the response payload. An error is a
// function error: the API answers 200 with X-Amz-Function-Error: Unhandled, as Lambda does.
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

// Server dispatches invocations to registered functions.
type Server struct {
	mux       *http.ServeMux
	mu        sync.RWMutex
	funcs     map[string]Func
	calls     atomic.Int64
	durations map[string][]time.Duration // per function, in the order invocations ended
}

// New returns a server with no functions.
func New() *Server {
	s := &Server{funcs: map[string]Func{}, mux: http.NewServeMux(), durations: map[string][]time.Duration{}}
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

// Invocations returns how many invocations the server has answered.
func (s *Server) Invocations() int64 { return s.calls.Load() }

// ServeHTTP serves the Invoke API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// invoke implements a RequestResponse invocation.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	s.mu.RLock()
	f, ok := s.funcs[name]
	s.mu.RUnlock()
	if !ok {
		apiError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	if t := r.Header.Get("X-Amz-Invocation-Type"); t != "" && t != "RequestResponse" {
		apiError(w, http.StatusBadRequest, "InvalidParameterValueException", "only RequestResponse invocations are served locally, got "+t)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 6<<20+1))
	if err != nil {
		apiError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	if len(payload) > 6<<20 {
		apiError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "request payload exceeds 6 MB")
		return
	}
	s.calls.Add(1)
	start := time.Now()
	out, err := f(r.Context(), payload)
	s.mu.Lock()
	s.durations[name] = append(s.durations[name], time.Since(start))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": err.Error(), "errorType": fmt.Sprintf("%T", err)})
		return
	}
	_, _ = w.Write(out)
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}
