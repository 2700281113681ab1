// Package inproc builds, in this process, the handler each function's main.go starts: the local
// stack's fast runtime. It is kept apart from package wiring so that the functions' bootstraps do
// not carry every other function's code.
package inproc

import (
	"fmt"
	"log/slog"
	"path"

	"github.com/go-event-processor/go-event-processor/event"
	"github.com/go-event-processor/go-event-processor/internal/invoke"
	"github.com/go-event-processor/go-event-processor/internal/lambdahandler"
	"github.com/go-event-processor/go-event-processor/internal/localinvoke"
	"github.com/go-event-processor/go-event-processor/internal/queryapi"
	"github.com/go-event-processor/go-event-processor/internal/routing"
	"github.com/go-event-processor/go-event-processor/internal/store"
	"github.com/go-event-processor/go-event-processor/internal/typefn"
)

// Code directories of the functions that are not type functions.
const (
	RouterCode     = "functions/router"
	QueryCode      = "functions/query"
	AuthorizerCode = "functions/authorizer"
)

// typeOfCode maps each type function's code directory to the type it persists.
var typeOfCode = map[string]event.Type{
	"functions/transaction":   event.TypeTransaction,
	"functions/fraudalert":    event.TypeFraudAlert,
	"functions/accountstatus": event.TypeAccountStatus,
	"functions/accountcheck":  event.TypeAccountCheck,
}

// TypeOfCode returns the event type a type function's code directory persists.
func TypeOfCode(codeURI string) (event.Type, bool) {
	t, ok := typeOfCode[path.Clean(codeURI)]
	return t, ok
}

// RouterFunctionsEnv names the router's environment variable that holds each type's function.
var RouterFunctionsEnv = map[event.Type]string{
	event.TypeTransaction:   "TRANSACTION_FUNCTION",
	event.TypeFraudAlert:    "FRAUD_ALERT_FUNCTION",
	event.TypeAccountStatus: "ACCOUNT_STATUS_FUNCTION",
	event.TypeAccountCheck:  "ACCOUNT_CHECK_FUNCTION",
}

// Handler builds in this process the handler that a function's main.go starts, from the
// function's code directory and environment: the local stack's fast runtime. What the handler
// logs with an invocation's context goes to log and to the invocation's log tail, for an Invoke
// with LogType=Tail.
func Handler(codeURI string, env map[string]string, db store.API, lambdaClient invoke.API, log *slog.Logger) (localinvoke.Func, error) {
	log = withTail(log)
	table := env["TABLE_NAME"]
	if table == "" {
		return nil, fmt.Errorf("%s: TABLE_NAME is not set: it names the events table", codeURI)
	}
	if t, ok := TypeOfCode(codeURI); ok {
		h := typefn.New(t, store.New(db, table), log)
		return localinvoke.JSON(h.Handle), nil
	}
	switch path.Clean(codeURI) {
	case QueryCode:
		return localinvoke.JSON(lambdahandler.Query(&queryapi.API{Reader: store.New(db, table), Log: log})), nil
	case AuthorizerCode:
		return localinvoke.JSON(lambdahandler.Authorizer(store.New(db, table))), nil
	case RouterCode:
	default:
		return nil, fmt.Errorf("%s: not a function of this project (want %s, %s, %s or a type function)", codeURI, RouterCode, QueryCode, AuthorizerCode)
	}
	functions := map[event.Type]string{}
	for t, name := range RouterFunctionsEnv {
		if functions[t] = env[name]; functions[t] == "" {
			return nil, fmt.Errorf("%s: %s is not set: it names the %s function", codeURI, name, t)
		}
	}
	events := store.New(db, table)
	r := &routing.Router{Invoker: &invoke.Lambda{Client: lambdaClient, Functions: functions}, Quarantine: events, Feed: events, Log: log}
	return localinvoke.JSON(lambdahandler.Kinesis(r)), nil
}
