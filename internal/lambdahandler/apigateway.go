package lambdahandler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/go-event-processor/go-event-processor/internal/queryapi"
	"github.com/go-event-processor/go-event-processor/internal/store"
)

// TenantContextKey is the authorizer context key that carries the caller's tenant.
const TenantContextKey = "tenant"

// Query returns the query API's Lambda handler behind API Gateway (REST, proxy integration).
// The tenant is read from the authorizer's context, never from the request itself.
func Query(api *queryapi.API) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		tenant, _ := req.RequestContext.Authorizer[TenantContextKey].(string)
		in := req.Body
		if req.IsBase64Encoded {
			if b, err := base64.StdEncoding.DecodeString(req.Body); err == nil {
				in = string(b)
			}
		}
		resp := api.Handle(ctx, queryapi.Request{Method: req.HTTPMethod, Path: req.Path, Params: req.QueryStringParameters, Body: in, Tenant: tenant})
		body, err := json.Marshal(resp.Body)
		if err != nil {
			return events.APIGatewayProxyResponse{StatusCode: http.StatusInternalServerError, Body: `{"error":{"code":"internal","message":"the answer could not be encoded"}}`}, nil
		}
		return events.APIGatewayProxyResponse{StatusCode: resp.Status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}, nil
	}
}

// ErrUnauthorized is what a TOKEN authorizer returns to make API Gateway answer 401.
var ErrUnauthorized = errors.New("Unauthorized")

// KeyLookup finds the tenant of an API key; *store.Store implements it.
type KeyLookup interface {
	TenantOfKey(ctx context.Context, apiKey string) (string, error)
}

// Authorizer returns a TOKEN authorizer: "Authorization: Bearer <key>" is looked up, and a
// known key is allowed with its tenant in the context; anything else is 401.
func Authorizer(keys KeyLookup) func(context.Context, events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	return func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		key, ok := strings.CutPrefix(req.AuthorizationToken, "Bearer ")
		if !ok || key == "" {
			return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
		}
		tenant, err := keys.TenantOfKey(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
		}
		if err != nil {
			return events.APIGatewayCustomAuthorizerResponse{}, err // API Gateway answers 500; the key is not logged
		}
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID: "tenant:" + tenant,
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{apiWildcard(req.MethodArn)},
			}}},
			Context: map[string]any{TenantContextKey: tenant},
		}, nil
	}
}

// apiWildcard widens a method ARN (arn:…:api/stage/GET/events/x) to the whole stage, so API
// Gateway's cached policy serves the key's other requests too.
func apiWildcard(methodArn string) string {
	parts := strings.SplitN(methodArn, "/", 3)
	if len(parts) < 2 {
		return methodArn
	}
	return parts[0] + "/" + parts[1] + "/*"
}
