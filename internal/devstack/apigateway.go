package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/go-event-processor/go-event-processor/internal/store"
)

// serveAPIs serves each REST API of the template on a loopback port, as API Gateway does: the
// TOKEN authorizer first (its context reaches the function), then the route's function with a
// proxy integration request.
func (s *Stack) serveAPIs(ctx context.Context) error {
	if len(s.Resources.APIs) == 0 {
		return nil
	}
	if len(s.opts.APIKeys) > 0 {
		keys := store.New(s.DynamoDB, *s.Resources.Tables[0].TableName)
		for key, tenant := range s.opts.APIKeys {
			if err := keys.PutAPIKey(ctx, key, tenant); err != nil {
				return err
			}
		}
	}
	for _, api := range s.Resources.APIs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen for API %s: %w", api.LogicalID, err)
		}
		srv := &http.Server{Handler: s.gateway(api), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		s.onStop(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		})
		if s.APIEndpoints == nil {
			s.APIEndpoints = map[string]string{}
		}
		s.APIEndpoints[api.LogicalID] = "http://" + ln.Addr().String()
	}
	return nil
}

// gateway is one API's request handling.
func (s *Stack) gateway(api API) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, ok := match(api.Routes, r.Method, r.URL.Path)
		if !ok {
			gatewayError(w, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path)
			return
		}
		req := events.APIGatewayProxyRequest{
			Resource: route.Path, Path: r.URL.Path, HTTPMethod: r.Method, Headers: map[string]string{},
			QueryStringParameters: map[string]string{}, PathParameters: params,
			RequestContext: events.APIGatewayProxyRequestContext{Stage: api.Stage, ResourcePath: route.Path, HTTPMethod: r.Method,
				RequestID: fmt.Sprintf("local-%d", time.Now().UnixNano())},
		}
		for k := range r.Header {
			req.Headers[k] = r.Header.Get(k)
		}
		for k, v := range r.URL.Query() {
			req.QueryStringParameters[k] = v[0]
		}
		if body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20)); len(body) > 0 {
			req.Body = string(body)
		}
		if api.Authorizer != "" {
			authz, status, msg := s.authorize(r.Context(), api, route, r.Header.Get("Authorization"))
			if status != 0 {
				gatewayError(w, status, msg)
				return
			}
			req.RequestContext.Authorizer = authz
		}
		var resp events.APIGatewayProxyResponse
		if err := s.invokeJSON(r.Context(), route.Function, req, &resp); err != nil {
			gatewayError(w, http.StatusBadGateway, "Internal server error")
			s.log.Warn("API integration failed", "function", route.Function, "error", err.Error())
			return
		}
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.WriteString(w, resp.Body)
	})
}

// authorize calls the TOKEN authorizer. It returns the context for the function, or the status
// API Gateway would answer: 401 without a token or when the authorizer says Unauthorized, 403
// when its policy denies, 500 when it fails otherwise.
func (s *Stack) authorize(ctx context.Context, api API, route Route, token string) (map[string]any, int, string) {
	if token == "" {
		return nil, http.StatusUnauthorized, "Unauthorized"
	}
	f, _ := s.Function(api.Authorizer)
	req := events.APIGatewayCustomAuthorizerRequest{Type: "TOKEN", AuthorizationToken: token,
		MethodArn: fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", Region, Account, api.LogicalID, api.Stage, route.Method, route.Path)}
	var resp events.APIGatewayCustomAuthorizerResponse
	err := s.invokeJSON(ctx, f.LogicalID, req, &resp)
	var fe functionError
	switch {
	case errors.As(err, &fe) && strings.Contains(string(fe), "Unauthorized"):
		return nil, http.StatusUnauthorized, "Unauthorized"
	case err != nil:
		s.log.Warn("authorizer failed", "function", f.LogicalID, "error", err.Error())
		return nil, http.StatusInternalServerError, "AuthorizerConfigurationException"
	}
	allowed := false
	for _, st := range resp.PolicyDocument.Statement {
		if st.Effect == "Deny" {
			return nil, http.StatusForbidden, "User is not authorized to access this resource"
		}
		allowed = allowed || st.Effect == "Allow"
	}
	if !allowed {
		return nil, http.StatusForbidden, "User is not authorized to access this resource"
	}
	authz := map[string]any{"principalId": resp.PrincipalID}
	for k, v := range resp.Context {
		authz[k] = v
	}
	return authz, 0, ""
}

// functionError is the error message of a function that failed.
type functionError string

func (e functionError) Error() string { return string(e) }

// invokeJSON invokes a function through the stack's Invoke API.
func (s *Stack) invokeJSON(ctx context.Context, id string, in, out any) error {
	f, ok := s.Function(id)
	if !ok {
		return fmt.Errorf("no function %s", id)
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return err
	}
	res, err := s.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(f.Name), Payload: payload})
	if err != nil {
		return err
	}
	if res.FunctionError != nil {
		return functionError(res.Payload)
	}
	return json.Unmarshal(res.Payload, out)
}

// match finds the route of a request; path templates' {name} segments become path parameters.
func match(routes []Route, method, path string) (Route, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, r := range routes {
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		tpl := strings.Split(strings.Trim(r.Path, "/"), "/")
		if len(tpl) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, t := range tpl {
			if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
				params[strings.Trim(t, "{}")] = segs[i]
			} else if t != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return r, params, true
		}
	}
	return Route{}, nil, false
}

func gatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}
