package devstack

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

// Resources is what the local stack creates, read from template.yaml.
type Resources struct {
	Streams     []Stream
	Tables      []*dynamodb.CreateTableInput
	Queues      []string // logical ids of queues; their messages are kept by the local stack
	Functions   []Function
	APIs        []API
	Unsupported []string // "LogicalId (Type)": resources the local stack does not emulate
}

// API is a REST API of the template (AWS::Serverless::Api) with its routes.
type API struct {
	LogicalID  string
	Stage      string
	Authorizer string // logical id of the TOKEN authorizer function, or ""
	Routes     []Route
}

// Route sends one method and path template (e.g. /accounts/{id}) to a function.
type Route struct {
	Method   string
	Path     string
	Function string // logical id
}

// Stream is a Kinesis stream of the template.
type Stream struct {
	LogicalID string
	Name      string
	Shards    int32
}

// Function is a Lambda function of the template, with its environment resolved.
type Function struct {
	LogicalID string
	Name      string
	CodeURI   string
	Env       map[string]string
	Timeout   time.Duration
	MemoryMB  int
	Kinesis   []KinesisEvent // its Kinesis event sources
}

// KinesisEvent is a Kinesis event source of a function: the event source mapping's settings.
type KinesisEvent struct {
	Name                       string
	Stream                     string // the stream's name
	StreamARN                  string
	BatchSize                  int32
	MaximumBatchingWindow      time.Duration
	StartingPosition           string
	ParallelizationFactor      int
	ReportBatchItemFailures    bool
	BisectBatchOnFunctionError bool
	MaximumRetryAttempts       int
	MaximumRecordAge           time.Duration // -1 for no limit
	OnFailure                  string        // the destination's ARN, or ""
}

// Load reads the template at path and resolves its resources.
func Load(path string, overrides map[string]string) (Resources, error) {
	tpl, err := templatecheck.Load(path)
	if err != nil {
		return Resources{}, err
	}
	return ReadResources(tpl, overrides)
}

// Function returns the function with a logical id.
func (r Resources) Function(id string) (Function, bool) {
	for _, f := range r.Functions {
		if f.LogicalID == id {
			return f, true
		}
	}
	return Function{}, false
}

// ReadResources resolves the template into the resources the local stack creates. Parameter
// overrides replace defaults. A template error names the resource and the property at fault.
func ReadResources(tpl templatecheck.Template, overrides map[string]string) (Resources, error) {
	r, err := newResolver(tpl, overrides)
	if err != nil {
		return Resources{}, err
	}
	ids := make([]string, 0, len(tpl.Resources))
	for id := range tpl.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var res Resources
	defer func() { attachRoutes(tpl, r, &res) }()
	for _, id := range ids {
		raw := tpl.Resources[id]
		propsAny, err := r.value(raw.Properties)
		if err != nil {
			return Resources{}, fmt.Errorf("template resource %s: Properties.%w", id, err)
		}
		props, _ := propsAny.(map[string]any)
		switch raw.Type {
		case "AWS::Kinesis::Stream":
			shards, err := integer(props, "ShardCount", 1)
			if err != nil {
				return Resources{}, fmt.Errorf("template resource %s: %w", id, err)
			}
			res.Streams = append(res.Streams, Stream{LogicalID: id, Name: r.names[id], Shards: int32(shards)})
		case "AWS::DynamoDB::Table":
			in, err := tableInput(r.names[id], props)
			if err != nil {
				return Resources{}, fmt.Errorf("template resource %s: %w", id, err)
			}
			res.Tables = append(res.Tables, in)
		case "AWS::SQS::Queue":
			res.Queues = append(res.Queues, id)
		case "AWS::Serverless::Function":
			f, err := function(tpl, r, id, props)
			if err != nil {
				return Resources{}, fmt.Errorf("template resource %s: %w", id, err)
			}
			res.Functions = append(res.Functions, f)
		case "AWS::Serverless::Api":
			api := API{LogicalID: id, Stage: fmt.Sprint(props["StageName"])}
			if def, ok := templatecheck.Lookup(props, "Auth", "DefaultAuthorizer"); ok {
				arn, _ := templatecheck.Lookup(props, "Auth", "Authorizers", fmt.Sprint(def), "FunctionArn")
				for fid, a := range r.arns {
					if a == fmt.Sprint(arn) {
						api.Authorizer = fid
					}
				}
				if api.Authorizer == "" {
					return Resources{}, fmt.Errorf("template resource %s: Properties.Auth.Authorizers.%v.FunctionArn: not a function of this template", id, def)
				}
			}
			res.APIs = append(res.APIs, api)
		default:
			res.Unsupported = append(res.Unsupported, fmt.Sprintf("%s (%s)", id, raw.Type))
		}
	}
	return res, nil
}

// function reads a function's code, environment (Globals merged) and Kinesis events.
func function(tpl templatecheck.Template, r *resolver, id string, props map[string]any) (Function, error) {
	f := Function{LogicalID: id, Name: r.names[id], Env: map[string]string{}, Timeout: 3 * time.Second, MemoryMB: 128}
	global := func(name string) (any, error) {
		v, ok := tpl.FunctionProperty(id, name)
		if !ok {
			return nil, nil
		}
		return r.value(v)
	}
	uri, _ := props["CodeUri"].(string)
	if uri == "" {
		return f, fmt.Errorf("Properties.CodeUri: must name the function's directory")
	}
	f.CodeURI = uri
	if v, err := global("Timeout"); err != nil {
		return f, fmt.Errorf("Timeout: %w", err)
	} else if v != nil {
		n, err := strconv.Atoi(fmt.Sprint(v))
		if err != nil {
			return f, fmt.Errorf("Timeout: %v is not a number of seconds", v)
		}
		f.Timeout = time.Duration(n) * time.Second
	}
	if v, err := global("MemorySize"); err != nil {
		return f, fmt.Errorf("MemorySize: %w", err)
	} else if v != nil {
		f.MemoryMB, _ = strconv.Atoi(fmt.Sprint(v))
	}
	envAny, err := r.value(tpl.EnvVars(id))
	if err != nil {
		return f, fmt.Errorf("Environment.Variables.%w", err)
	}
	env, _ := envAny.(map[string]any)
	for k, v := range env {
		f.Env[k] = fmt.Sprint(v)
	}
	events, _ := props["Events"].(map[string]any)
	names := make([]string, 0, len(events))
	for name := range events {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ev, _ := events[name].(map[string]any)
		if ev["Type"] != "Kinesis" {
			continue
		}
		k, err := kinesisEvent(r, name, ev)
		if err != nil {
			return f, fmt.Errorf("Properties.Events.%s.%w", name, err)
		}
		f.Kinesis = append(f.Kinesis, k)
	}
	return f, nil
}

func kinesisEvent(r *resolver, name string, ev map[string]any) (KinesisEvent, error) {
	p, _ := ev["Properties"].(map[string]any)
	k := KinesisEvent{Name: name, StartingPosition: "LATEST", ParallelizationFactor: 1, MaximumRetryAttempts: -1, MaximumRecordAge: -1}
	arn := fmt.Sprint(p["Stream"])
	for id, a := range r.arns {
		if a == arn {
			k.Stream, k.StreamARN = r.names[id], a
		}
	}
	if k.Stream == "" {
		return k, fmt.Errorf("Properties.Stream: %s is not a stream of this template", arn)
	}
	var err error
	num := func(key string, def int) int {
		if err != nil {
			return def
		}
		var n int
		n, err = integer(p, key, def)
		return n
	}
	k.BatchSize = int32(num("BatchSize", 100))
	k.MaximumBatchingWindow = time.Duration(num("MaximumBatchingWindowInSeconds", 0)) * time.Second
	k.ParallelizationFactor = num("ParallelizationFactor", 1)
	k.MaximumRetryAttempts = num("MaximumRetryAttempts", -1)
	if age := num("MaximumRecordAgeInSeconds", -1); age >= 0 {
		k.MaximumRecordAge = time.Duration(age) * time.Second
	}
	if err != nil {
		return k, fmt.Errorf("Properties.%w", err)
	}
	if s, ok := p["StartingPosition"].(string); ok {
		k.StartingPosition = s
	}
	for _, t := range templatecheck.Strings(p["FunctionResponseTypes"]) {
		k.ReportBatchItemFailures = k.ReportBatchItemFailures || t == "ReportBatchItemFailures"
	}
	k.BisectBatchOnFunctionError, _ = p["BisectBatchOnFunctionError"].(bool)
	if s, ok := p["BisectBatchOnFunctionError"].(string); ok {
		k.BisectBatchOnFunctionError = s == "true"
	}
	if d, ok := templatecheck.Lookup(p, "DestinationConfig", "OnFailure", "Destination"); ok {
		k.OnFailure = fmt.Sprint(d)
	}
	return k, nil
}

// integer reads a whole-number property (CloudFormation passes numbers as strings too).
func integer(props map[string]any, key string, def int) (int, error) {
	v, ok := props[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil {
		return 0, fmt.Errorf("%s: %v is not a whole number", key, v)
	}
	return n, nil
}

// tableInput builds CreateTable from a table's properties: keys, attributes and indexes.
func tableInput(name string, props map[string]any) (*dynamodb.CreateTableInput, error) {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	keys := func(v any, path string) ([]types.KeySchemaElement, error) {
		var out []types.KeySchemaElement
		list, _ := v.([]any)
		for i, k := range list {
			m, _ := k.(map[string]any)
			n, _ := m["AttributeName"].(string)
			t, _ := m["KeyType"].(string)
			if n == "" || (t != "HASH" && t != "RANGE") {
				return nil, fmt.Errorf("%s[%d]: want AttributeName and KeyType HASH or RANGE", path, i)
			}
			out = append(out, types.KeySchemaElement{AttributeName: aws.String(n), KeyType: types.KeyType(t)})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: is required", path)
		}
		return out, nil
	}
	var err error
	if in.KeySchema, err = keys(props["KeySchema"], "Properties.KeySchema"); err != nil {
		return nil, err
	}
	attrs, _ := props["AttributeDefinitions"].([]any)
	for i, a := range attrs {
		m, _ := a.(map[string]any)
		n, _ := m["AttributeName"].(string)
		t, _ := m["AttributeType"].(string)
		if n == "" || t == "" {
			return nil, fmt.Errorf("Properties.AttributeDefinitions[%d]: want AttributeName and AttributeType", i)
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeType(t)})
	}
	gsis, _ := props["GlobalSecondaryIndexes"].([]any)
	for i, g := range gsis {
		m, _ := g.(map[string]any)
		path := fmt.Sprintf("Properties.GlobalSecondaryIndexes[%d]", i)
		n, _ := m["IndexName"].(string)
		if n == "" {
			return nil, fmt.Errorf("%s.IndexName: is required", path)
		}
		ks, err := keys(m["KeySchema"], path+".KeySchema")
		if err != nil {
			return nil, err
		}
		proj, _ := templatecheck.Lookup(m, "Projection", "ProjectionType")
		pt := types.ProjectionTypeAll
		if s, ok := proj.(string); ok {
			pt = types.ProjectionType(s)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(n), KeySchema: ks, Projection: &types.Projection{ProjectionType: pt}})
	}
	return in, nil
}

// attachRoutes adds each function's Api events to the routes of its API.
func attachRoutes(tpl templatecheck.Template, r *resolver, res *Resources) {
	for i := range res.APIs {
		api := &res.APIs[i]
		for _, f := range res.Functions {
			events, _ := tpl.Resources[f.LogicalID].Properties["Events"].(map[string]any)
			for _, ev := range events {
				m, _ := ev.(map[string]any)
				if m["Type"] != "Api" {
					continue
				}
				p, err := r.value(m["Properties"])
				props, _ := p.(map[string]any)
				if err != nil || fmt.Sprint(props["RestApiId"]) != r.names[api.LogicalID] {
					continue
				}
				api.Routes = append(api.Routes, Route{Method: strings.ToUpper(fmt.Sprint(props["Method"])), Path: fmt.Sprint(props["Path"]), Function: f.LogicalID})
			}
		}
		sort.Slice(api.Routes, func(a, b int) bool { return api.Routes[a].Path < api.Routes[b].Path })
	}
}
