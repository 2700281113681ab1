package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

func repoTemplate(t *testing.T) (root string, tpl templatecheck.Template) {
	t.Helper()
	root, err := emulators.ToolsDir()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err = templatecheck.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return root, tpl
}

// fakeDeployment is what a deploy of template.yaml as stack "gep" answers: every resource named
// <stack>-<LogicalId>-<suffix>, as CloudFormation (and LocalStack) name them.
func fakeDeployment(tpl templatecheck.Template) deployedStack {
	d := deployedStack{Name: "gep", ID: "arn:aws:cloudformation:eu-west-1:111122223333:stack/gep/1b2c", Status: "CREATE_COMPLETE",
		Parameters: map[string]string{"LogLevel": "DEBUG"}, Resources: map[string]stackResource{}}
	for id, r := range tpl.Resources {
		typ := r.Type
		if typ == templatecheck.FunctionType {
			typ = "AWS::Lambda::Function"
		}
		phys := "gep-" + id + "-X1Y2Z3"
		if typ == "AWS::SQS::Queue" {
			phys = "https://sqs.eu-west-1.amazonaws.com/111122223333/" + phys
		}
		d.Resources[id] = stackResource{Type: typ, PhysicalID: phys, Status: "CREATE_COMPLETE"}
	}
	return d
}

// checkEnvJSON checks env against the template as sam local invoke reads it: an entry for every
// function, each declared variable (but AWS_* ones SAM CLI sets) filled, nothing undeclared.
// Every Ref to a resource must be its physical id in stack.
func checkEnvJSON(t *testing.T, tpl templatecheck.Template, stack deployedStack, env map[string]map[string]string, wantEndpoint string) {
	t.Helper()
	for _, f := range tpl.Functions() {
		vars, ok := env[f.LogicalID]
		if !ok {
			t.Errorf("no entry for %s", f.LogicalID)
			continue
		}
		declared := tpl.EnvVars(f.LogicalID)
		for name := range vars {
			if _, ok := declared[name]; !ok {
				t.Errorf("%s.%s is not declared in template.yaml: sam local would ignore it", f.LogicalID, name)
			}
		}
		for name, v := range declared {
			got, ok := vars[name]
			if name == envEndpointVar {
				if got != wantEndpoint || ok != (wantEndpoint != "") {
					t.Errorf("%s.%s = %q (set %v), want %q", f.LogicalID, name, got, ok, wantEndpoint)
				}
				continue
			}
			ref, isRef := v.(map[string]any)["Ref"].(string)
			if !isRef {
				continue
			}
			want := stack.Resources[ref].PhysicalID
			if got != want || want == "" {
				t.Errorf("%s.%s = %q, want the physical id of %s, %q", f.LogicalID, name, got, ref, want)
			}
		}
	}
	if len(env) != len(tpl.Functions()) {
		t.Errorf("env.json has %d entries, template.yaml %d functions", len(env), len(tpl.Functions()))
	}
}

func TestEnvJSONMapsPhysicalNames(t *testing.T) {
	_, tpl := repoTemplate(t)
	stack := fakeDeployment(tpl)
	for _, endpoint := range []string{localstackContainerEndpoint, "http://host.docker.internal:4566", ""} {
		env, err := envJSON(tpl, stack, endpoint)
		if err != nil {
			t.Fatal(err)
		}
		checkEnvJSON(t, tpl, stack, env, endpoint)
	}
	env, _ := envJSON(tpl, stack, "")
	if got := env["RouterFunction"]["TRANSACTION_FUNCTION"]; got != "gep-TransactionFunction-X1Y2Z3" {
		t.Errorf("RouterFunction.TRANSACTION_FUNCTION = %q, want the deployed function's name", got)
	}
}

func TestEnvJSONResolvesIntrinsicsAndNamesWhatItCannot(t *testing.T) {
	_, tpl := repoTemplate(t)
	stack := fakeDeployment(tpl)
	r := stackResolver{stack: stack, partition: "aws", region: "eu-west-1", account: "111122223333"}
	cases := map[string]struct {
		in   any
		want string
	}{
		"plain":     {"x", "x"},
		"number":    {3, "3"},
		"parameter": {map[string]any{"Ref": "LogLevel"}, "DEBUG"},
		"pseudo":    {map[string]any{"Ref": "AWS::Region"}, "eu-west-1"},
		"function arn": {map[string]any{"Fn::GetAtt": []any{"TransactionFunction", "Arn"}},
			"arn:aws:lambda:eu-west-1:111122223333:function:gep-TransactionFunction-X1Y2Z3"},
		"queue arn": {map[string]any{"Fn::GetAtt": []any{"RouterFailureQueue", "Arn"}},
			"arn:aws:sqs:eu-west-1:111122223333:gep-RouterFailureQueue-X1Y2Z3"},
		"sub": {map[string]any{"Fn::Sub": "${EventsTable.Arn}/index/GSI1 in ${AWS::Region}"},
			"arn:aws:dynamodb:eu-west-1:111122223333:table/gep-EventsTable-X1Y2Z3/index/GSI1 in eu-west-1"},
		"sub with variables": {map[string]any{"Fn::Sub": []any{"${T}!", map[string]any{"T": map[string]any{"Ref": "EventsTable"}}}},
			"gep-EventsTable-X1Y2Z3!"},
	}
	for name, c := range cases {
		got, err := r.value(c.in)
		if err != nil || got != c.want {
			t.Errorf("%s: value(%v) = %q, %v; want %q", name, c.in, got, err, c.want)
		}
	}
	for _, bad := range []any{
		map[string]any{"Ref": "NoSuchThing"},
		map[string]any{"Fn::GetAtt": []any{"EventStream", "StreamArnWithoutThis"}},
		map[string]any{"Fn::If": []any{"HasEndpointUrl", "a", "b"}},
	} {
		if got, err := r.value(bad); err == nil {
			t.Errorf("value(%v) = %q, want an error", bad, got)
		}
	}

	// A stack without one of the template's functions is not this template's stack.
	delete(stack.Resources, "QueryFunction")
	if _, err := envJSON(tpl, stack, ""); err == nil || !strings.Contains(err.Error(), "QueryFunction") {
		t.Errorf("envJSON without QueryFunction in the stack: %v, want an error naming it", err)
	}
}

// TestEnvJSONAgainstMoto deploys template.yaml, transformed by the SAM translator, into moto's
// CloudFormation (python3 -m moto.server on loopback) and runs `eventctl env-json` against it:
// the names in env.json must be the ones the stack's outputs report. moto cannot create the
// REST API from SAM's OpenAPI body, so the API Gateway resources (and what refers to them) are
// left out; env-json reads only the functions and what their variables name.
func TestEnvJSONAgainstMoto(t *testing.T) {
	repo, tpl := repoTemplate(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cfnTemplate, err := templatecheck.SAMTransform(ctx, filepath.Join(repo, "template.yaml"), nil, "us-east-1")
	if errors.Is(err, templatecheck.ErrNoSAMTranslator) {
		t.Skipf("skipped: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	withoutAPIGateway(cfnTemplate)
	body, err := json.Marshal(cfnTemplate)
	if err != nil {
		t.Fatal(err)
	}

	endpoint := startMoto(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	client, _, err := cloudFormationClient(ctx, endpoint, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	const stackName = "gep-envjson"
	if _, err := client.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(stackName), TemplateBody: aws.String(string(body)),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}}); err != nil {
		t.Fatalf("moto CreateStack: %v", err)
	}
	var outputs map[string]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := client.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackName)})
		if err != nil {
			t.Fatal(err)
		}
		s := out.Stacks[0]
		if s.StackStatus == cfntypes.StackStatusCreateComplete {
			outputs = map[string]string{}
			for _, o := range s.Outputs {
				outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
			}
			break
		}
		if !strings.HasSuffix(string(s.StackStatus), "_IN_PROGRESS") || time.Now().After(deadline) {
			t.Fatalf("moto stack %s: %s %s", stackName, s.StackStatus, aws.ToString(s.StackStatusReason))
		}
		time.Sleep(200 * time.Millisecond)
	}

	file := filepath.Join(t.TempDir(), "env.json")
	cmd := root()
	var stderr bytes.Buffer
	cmd.SetOut(io.Discard)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"env-json", "--stack", stackName, "--endpoint", endpoint, "--region", "us-east-1", "-o", file})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("eventctl env-json: %v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("env.json: %v\n%s", err, data)
	}
	deployed, err := describeDeployedStack(ctx, client, stackName)
	if err != nil {
		t.Fatal(err)
	}
	checkEnvJSON(t, tpl, deployed, env, localstackContainerEndpoint)

	// The same names as the stack's own outputs (the table's name, the functions' ARNs).
	table := outputs["EventsTableName"]
	if table == "" || table == "EventsTable" || !strings.Contains(table, "EventsTable") {
		t.Fatalf("moto output EventsTableName = %q: want a deployed name", table)
	}
	for id, vars := range env {
		if vars["TABLE_NAME"] != table {
			t.Errorf("%s.TABLE_NAME = %q, the stack's EventsTableName is %q", id, vars["TABLE_NAME"], table)
		}
	}
	for variable, output := range map[string]string{
		"TRANSACTION_FUNCTION": "TransactionFunctionArn", "FRAUD_ALERT_FUNCTION": "FraudAlertFunctionArn",
		"ACCOUNT_STATUS_FUNCTION": "AccountStatusFunctionArn", "ACCOUNT_CHECK_FUNCTION": "AccountCheckFunctionArn",
	} {
		a := outputs[output]
		if got := env["RouterFunction"][variable]; a == "" || got != a[strings.LastIndex(a, ":")+1:] {
			t.Errorf("RouterFunction.%s = %q, the stack's %s is %q", variable, got, output, a)
		}
	}
	if !strings.Contains(stderr.String(), "wrote "+file) {
		t.Errorf("env-json said %q, want where it wrote", stderr.String())
	}

	// A stack that does not exist is an error that names it.
	cmd = root()
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetArgs([]string{"env-json", "--stack", "no-such-stack", "--endpoint", endpoint, "-o", file})
	if err := cmd.ExecuteContext(ctx); err == nil || !strings.Contains(err.Error(), "no-such-stack") {
		t.Errorf("env-json --stack no-such-stack: %v, want an error naming the stack", err)
	}
}

// withoutAPIGateway removes the AWS::ApiGateway::* resources of a CloudFormation template, and
// every resource and output that refers to one, in place.
func withoutAPIGateway(tpl map[string]any) {
	resources, _ := tpl["Resources"].(map[string]any)
	drop := map[string]bool{}
	for id, r := range resources {
		if typ, _ := r.(map[string]any)["Type"].(string); strings.HasPrefix(typ, "AWS::ApiGateway::") {
			drop[id] = true
		}
	}
	refersToDropped := func(v any) bool {
		for _, ref := range templatecheck.References(v) {
			if drop[ref.Name] {
				return true
			}
		}
		if m, ok := v.(map[string]any); ok {
			deps, _ := m["DependsOn"].([]any)
			for _, d := range deps {
				if drop[fmt.Sprint(d)] {
					return true
				}
			}
			if s, ok := m["DependsOn"].(string); ok && drop[s] {
				return true
			}
		}
		return false
	}
	for id, r := range resources {
		if drop[id] || refersToDropped(r) {
			delete(resources, id)
			continue
		}
		// moto reads code from S3; an inline ZipFile needs no bucket.
		if m := r.(map[string]any); m["Type"] == "AWS::Lambda::Function" {
			m["Properties"].(map[string]any)["Code"] = map[string]any{"ZipFile": "bootstrap"}
		}
	}
	outputs, _ := tpl["Outputs"].(map[string]any)
	for name, o := range outputs {
		if refersToDropped(o) {
			delete(outputs, name)
		}
	}
}

var motoListening = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// startMoto starts moto's server on a free loopback port and returns its URL; it is stopped
// (by its pid) when the test ends. The test is skipped when python3 has no moto.
func startMoto(t *testing.T) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("skipped: no python3 for moto's server")
	}
	if out, err := exec.Command(python, "-c", "import moto.server").CombinedOutput(); err != nil {
		t.Skipf("skipped: python3 cannot import moto.server (pip install 'moto[server]'): %s", strings.TrimSpace(string(out)))
	}
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); pw.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("moto server (pid %d) did not stop", cmd.Process.Pid)
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			// Keep reading after the address, so that moto never blocks on a full pipe.
			if m := motoListening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("moto server exited before listening")
		}
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("moto server did not listen within 30 s")
	}
	return ""
}
