package templatecheck_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

var (
	transformOnce sync.Once
	transformed   map[string]any
	transformErr  error
)

// transformedTemplate is template.yaml as the SAM translator turns it into plain CloudFormation,
// with every parameter at its default: what `sam deploy` creates on AWS. One python3 call for
// every test of the package.
func transformedTemplate(t *testing.T) map[string]any {
	t.Helper()
	root := moduleRoot(t)
	transformOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		transformed, transformErr = templatecheck.SAMTransform(ctx, filepath.Join(root, "template.yaml"), nil, "us-east-1")
	})
	if errors.Is(transformErr, templatecheck.ErrNoSAMTranslator) {
		t.Skipf("skipped: %v (install with `pip install aws-sam-translator` or `pip install cfn-lint`)", transformErr)
	}
	if transformErr != nil {
		t.Fatal(transformErr)
	}
	return transformed
}

// cfnResource is one resource of the transformed template.
type cfnResource struct {
	Type       string
	Condition  string
	Properties map[string]any
}

func cfnResources(t *testing.T, tpl map[string]any) map[string]cfnResource {
	t.Helper()
	raw, ok := tpl["Resources"].(map[string]any)
	if !ok || len(raw) == 0 {
		t.Fatal("the transformed template has no Resources")
	}
	out := map[string]cfnResource{}
	for id, v := range raw {
		m, _ := v.(map[string]any)
		typ, _ := m["Type"].(string)
		cond, _ := m["Condition"].(string)
		props, _ := m["Properties"].(map[string]any)
		out[id] = cfnResource{Type: typ, Condition: cond, Properties: props}
	}
	return out
}

// localstackService is the LocalStack service that creates a CloudFormation resource type: the
// same mapping as LocalStack's CloudFormation engine
// (localstack-core/localstack/services/cloudformation/resource_provider.py get_service_name,
// v4.14.0): special cases, else the type's second part in lower case (AWS::ApiGateway::RestApi
// → apigateway, AWS::IAM::Role → iam, AWS::Lambda::Permission → lambda).
func localstackService(resourceType string) (string, bool) {
	parts := strings.Split(resourceType, "::")
	if len(parts) != 3 || parts[0] != "AWS" {
		return "", false
	}
	switch {
	case strings.Contains(resourceType, "Cognito::IdentityPool"):
		return "cognito-identity", true
	case parts[1] == "Cognito":
		return "cognito-idp", true
	case parts[1] == "Elasticsearch":
		return "es", true
	case parts[1] == "OpenSearchService":
		return "opensearch", true
	case parts[1] == "KinesisFirehose":
		return "firehose", true
	case parts[1] == "ResourceGroups":
		return "resource-groups", true
	case parts[1] == "CertificateManager":
		return "acm", true
	case parts[1] == "ElasticLoadBalancing":
		return "elb", true
	case parts[1] == "ElasticLoadBalancingV2":
		return "elbv2", true
	case parts[1] == "ApplicationAutoScaling":
		return "application-autoscaling", true
	case parts[1] == "MSK":
		return "kafka", true
	case parts[1] == "Timestream":
		return "timestream-write", true
	}
	return strings.ToLower(parts[1]), true
}

// requiredServices lists the LocalStack services a `samlocal deploy` of the transformed template
// and its functions at run time use, each with why.
func requiredServices(t *testing.T, tpl map[string]any) map[string]string {
	t.Helper()
	need := map[string]string{
		// samlocal deploy: a change set, its artifacts bucket (resolve_s3 creates the
		// aws-sam-cli-managed-default stack and its bucket), the caller's identity.
		"cloudformation": "samlocal deploy creates and executes a change set",
		"s3":             "samlocal deploy uploads the built code (resolve_s3 bucket)",
		"sts":            "samlocal deploy and SAM CLI ask for the caller identity",
	}
	for id, r := range cfnResources(t, tpl) {
		svc, ok := localstackService(r.Type)
		if !ok {
			t.Errorf("%s: resource type %q is not AWS::<Service>::<Type>: no LocalStack service is known for it", id, r.Type)
			continue
		}
		if _, seen := need[svc]; !seen {
			need[svc] = fmt.Sprintf("%s is a %s", id, r.Type)
		}
		switch r.Type {
		case "AWS::Lambda::Function":
			// LocalStack's Lambda writes each invocation's output to CloudWatch Logs
			// (services/lambda_/invocation/logs.py); without logs the functions' logs are lost.
			if _, seen := need["logs"]; !seen {
				need["logs"] = id + " logs to CloudWatch Logs"
			}
		case "AWS::DynamoDB::Table":
			// SSEEnabled without a key: LocalStack's DynamoDB creates the AWS managed key
			// through KMS (services/dynamodb/provider.py get_sse_kms_managed_key).
			if sse, _ := templatecheck.Lookup(r.Properties, "SSESpecification", "SSEEnabled"); sse == true {
				need["kms"] = id + " is encrypted with a KMS key (SSESpecification)"
			}
		case "AWS::Kinesis::Stream":
			if typ, _ := templatecheck.Lookup(r.Properties, "StreamEncryption", "EncryptionType"); typ == "KMS" {
				need["kms"] = id + " is encrypted with a KMS key (StreamEncryption)"
			}
		}
	}
	return need
}

// localstackCompose returns the SERVICES of docker-compose.yml's localstack/localstack service.
func localstackCompose(t *testing.T) (image string, env map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string
			Environment any
		}
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, s := range doc.Services {
		if strings.HasPrefix(s.Image, "localstack/localstack") {
			return s.Image, composeEnv(s.Environment)
		}
	}
	t.Fatal("docker-compose.yml has no localstack/localstack service")
	return "", nil
}

// TestComposeServicesCoverTransformedTemplate: LocalStack loads only the services in SERVICES
// (STRICT_SERVICE_LOADING defaults to true in 3.x and 4.x); a resource of any other service
// fails the stack with "Service '…' is not enabled".
func TestComposeServicesCoverTransformedTemplate(t *testing.T) {
	tpl := transformedTemplate(t)
	image, env := localstackCompose(t)
	if v := strings.ToLower(env["STRICT_SERVICE_LOADING"]); v == "0" || v == "false" {
		t.Logf("%s: STRICT_SERVICE_LOADING=%s: every service loads; SERVICES is still checked", image, v)
	}
	listed := map[string]bool{}
	for _, s := range strings.Split(env["SERVICES"], ",") {
		// "name" or "name:port"
		name, _, _ := strings.Cut(strings.TrimSpace(s), ":")
		if name != "" {
			listed[name] = true
		}
	}
	need := requiredServices(t, tpl)
	names := make([]string, 0, len(need))
	for n := range need {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !listed[n] {
			t.Errorf("docker-compose.yml: SERVICES=%q lacks %s (%s)", env["SERVICES"], n, need[n])
		}
	}
	t.Logf("services the transformed template needs: %s", strings.Join(names, ","))
}

// apiMethods are the OpenAPI operations of a path item.
var apiMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"}

// TestQueryAPIRequiresAuthorizer: with every parameter at its default (a `sam deploy` to AWS),
// every method of every REST API is behind the Lambda TOKEN authorizer of AuthorizerFunction,
// the header is Authorization, and nothing (a Condition, a method without security, an
// AWS::ApiGateway::Method of its own) lets a request past it.
func TestQueryAPIRequiresAuthorizer(t *testing.T) {
	src := loadTemplate(t)
	tpl := transformedTemplate(t)
	res := cfnResources(t, tpl)

	// Every Api event of the source template, as "METHOD path".
	wantRoutes := map[string]bool{}
	for _, f := range src.Functions() {
		events, _ := f.Resource.Properties["Events"].(map[string]any)
		for name, ev := range events {
			m, _ := ev.(map[string]any)
			if m["Type"] != "Api" {
				continue
			}
			p, _ := m["Properties"].(map[string]any)
			if auth, ok := p["Auth"]; ok {
				t.Errorf("%s event %s overrides Auth (%v): every route uses the API's DefaultAuthorizer", f.LogicalID, name, auth)
			}
			wantRoutes[strings.ToUpper(fmt.Sprint(p["Method"]))+" "+fmt.Sprint(p["Path"])] = true
		}
	}
	if len(wantRoutes) == 0 {
		t.Fatal("template.yaml has no Api events: nothing to check")
	}

	gotRoutes := map[string]bool{}
	apis := 0
	for id, r := range res {
		switch {
		case r.Type == "AWS::ApiGateway::Method":
			if r.Properties["AuthorizationType"] != "CUSTOM" {
				t.Errorf("%s: an AWS::ApiGateway::Method with AuthorizationType %v", id, r.Properties["AuthorizationType"])
			}
		case r.Type == "AWS::ApiGateway::RestApi":
			apis++
			checkRestAPIBody(t, id, r, gotRoutes)
		}
		if strings.HasPrefix(r.Type, "AWS::ApiGateway::") && r.Condition != "" {
			t.Errorf("%s (%s) has Condition %s: the API must not depend on a parameter", id, r.Type, r.Condition)
		}
	}
	if apis == 0 {
		t.Fatal("the transformed template has no AWS::ApiGateway::RestApi")
	}
	for route := range wantRoutes {
		if !gotRoutes[route] {
			t.Errorf("route %s of template.yaml is not in any REST API body", route)
		}
	}
	for route := range gotRoutes {
		if !wantRoutes[route] {
			t.Errorf("REST API route %s is not an Api event of template.yaml", route)
		}
	}

	// API Gateway may invoke the authorizer (SAM adds the permission).
	found := false
	for _, r := range res {
		if r.Type == "AWS::Lambda::Permission" && r.Properties["Principal"] == "apigateway.amazonaws.com" &&
			slices.ContainsFunc(templatecheck.References(r.Properties["FunctionName"]), func(ref templatecheck.Reference) bool { return ref.Name == "AuthorizerFunction" }) {
			found = true
		}
	}
	if !found {
		t.Error("no AWS::Lambda::Permission lets API Gateway invoke AuthorizerFunction")
	}
}

// checkRestAPIBody checks the OpenAPI body SAM generates for an AWS::Serverless::Api and adds
// its routes to routes.
func checkRestAPIBody(t *testing.T, id string, r cfnResource, routes map[string]bool) {
	t.Helper()
	body, ok := r.Properties["Body"].(map[string]any)
	if !ok {
		t.Errorf("%s has no inline Body (OpenAPI): cannot check its authorizer", id)
		return
	}
	defs, _ := body["securityDefinitions"].(map[string]any)
	paths, _ := body["paths"].(map[string]any)
	if len(paths) == 0 {
		t.Errorf("%s: the body has no paths", id)
	}
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			if !slices.Contains(apiMethods, method) {
				continue
			}
			route := strings.ToUpper(method) + " " + path
			routes[route] = true
			o, _ := op.(map[string]any)
			security, _ := o["security"].([]any)
			if len(security) == 0 {
				t.Errorf("%s %s: no security: the method is open", id, route)
				continue
			}
			for _, s := range security {
				req, _ := s.(map[string]any)
				if len(req) != 1 {
					t.Errorf("%s %s: security requirement %v, want exactly the Lambda authorizer", id, route, s)
					continue
				}
				for name := range req {
					checkTokenAuthorizer(t, id, route, name, defs[name])
				}
			}
		}
	}
}

func checkTokenAuthorizer(t *testing.T, id, route, name string, def any) {
	t.Helper()
	d, ok := def.(map[string]any)
	if !ok {
		t.Errorf("%s %s: security names %s, which securityDefinitions does not define", id, route, name)
		return
	}
	if d["x-amazon-apigateway-authtype"] != "custom" {
		t.Errorf("%s %s: authorizer %s has authtype %v, want custom (Lambda)", id, route, name, d["x-amazon-apigateway-authtype"])
	}
	if d["type"] != "apiKey" || d["in"] != "header" || d["name"] != "Authorization" {
		t.Errorf("%s %s: authorizer %s reads %v %v %v, want the Authorization header", id, route, name, d["type"], d["in"], d["name"])
	}
	a, _ := d["x-amazon-apigateway-authorizer"].(map[string]any)
	if a["type"] != "token" {
		t.Errorf("%s %s: authorizer %s is of type %v, want token", id, route, name, a["type"])
	}
	if !slices.ContainsFunc(templatecheck.References(a["authorizerUri"]), func(ref templatecheck.Reference) bool {
		return ref.Name == "AuthorizerFunction" && ref.Attr == "Arn"
	}) {
		t.Errorf("%s %s: authorizer %s does not invoke AuthorizerFunction (authorizerUri %v)", id, route, name, a["authorizerUri"])
	}
}

// TestQueryApiUrlOutput: the URL is built from the partition's domain (AWS::URLSuffix), not a
// hard-coded amazonaws.com (China regions are amazonaws.com.cn).
func TestQueryApiUrlOutput(t *testing.T) {
	tpl := loadTemplate(t)
	out, ok := tpl.Outputs["QueryApiUrl"].(map[string]any)
	if !ok {
		t.Fatal("template.yaml has no QueryApiUrl output")
	}
	s := fmt.Sprint(out["Value"])
	if strings.Contains(s, "amazonaws.com") {
		t.Errorf("QueryApiUrl = %s hard-codes amazonaws.com: use ${AWS::URLSuffix}", s)
	}
	if !slices.ContainsFunc(templatecheck.References(out["Value"]), func(r templatecheck.Reference) bool { return r.Name == "AWS::URLSuffix" }) {
		t.Errorf("QueryApiUrl = %s does not use AWS::URLSuffix", s)
	}
}

// TestSamconfigForLocalStack: what `sam local invoke` and `sam build` read from samconfig.toml.
func TestSamconfigForLocalStack(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	_, sections := tomlSections(data)
	for name, kv := range sections {
		// SAM's build cache keys a function by its CodeUri folder (functions/<name>/) only, so
		// a change in a shared package reuses a stale bootstrap (aws/aws-sam-cli#4662).
		if strings.HasSuffix(name, ".build.parameters") && kv["cached"] == "true" {
			t.Errorf("samconfig.toml [%s]: cached = true reuses bootstraps built before a change to internal/…", name)
		}
	}
	for _, env := range []string{"default", "localstack"} {
		name := env + ".local_invoke.parameters"
		kv, ok := sections[name]
		if !ok {
			if env == "default" {
				t.Errorf("samconfig.toml has no [%s]", name)
			}
			continue
		}
		if kv["region"] == "" && sections[env+".global.parameters"]["region"] == "" {
			t.Errorf("samconfig.toml [%s]: no region: the functions get AWS_REGION from it", name)
		}
	}
}

// TestLocalInvokeReachesLocalStack: `sam local invoke --config-env localstack` starts the
// function containers on samconfig's docker_network, where LocalStack answers under its compose
// service name; env.json's AWS_ENDPOINT_URL must name that service (host.docker.internal does not
// resolve in containers on Linux, and 4566 is published on the host's loopback only).
func TestLocalInvokeReachesLocalStack(t *testing.T) {
	root := moduleRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image    string
			Networks []string
		}
		Networks map[string]struct{ Name string }
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	service, networks := "", map[string]bool{}
	for name, s := range doc.Services {
		if strings.HasPrefix(s.Image, "localstack/localstack") {
			service = name
			for _, n := range s.Networks {
				real := n
				if d, ok := doc.Networks[n]; ok && d.Name != "" {
					real = d.Name
				}
				networks[real] = true
			}
		}
	}
	if service == "" {
		t.Fatal("docker-compose.yml has no localstack/localstack service")
	}

	cfg, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	_, sections := tomlSections(cfg)
	for _, name := range []string{"localstack.local_invoke.parameters", "localstack.local_start_api.parameters"} {
		if n := sections[name]["docker_network"]; !networks[n] {
			t.Errorf("samconfig.toml [%s] docker_network = %q; LocalStack (%s) is on %v", name, n, service, networks)
		}
	}

	raw, err := os.ReadFile(filepath.Join(root, "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	want := "http://" + service + ":4566"
	for id, vars := range env {
		if v, ok := vars["AWS_ENDPOINT_URL"]; ok && v != want {
			t.Errorf("env.json: %s.AWS_ENDPOINT_URL = %q, want %q (the compose service on the network)", id, v, want)
		}
	}
}
