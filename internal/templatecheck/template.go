// Package templatecheck loads the SAM template (template.yaml) into plain Go values so that
// tests can check it against the code: which functions exist, where their code is, which
// environment variables and IAM statements they declare.
//
// CloudFormation short tags (!Ref, !GetAtt, !Sub, …) are rewritten into their long form while
// loading ({"Ref": x}, {"Fn::GetAtt": [resource, attribute]}, {"Fn::Sub": …}), so a loaded
// template looks like its JSON equivalent and nothing downstream needs to know about YAML tags.
package templatecheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// FunctionType is the resource type of a SAM function.
const FunctionType = "AWS::Serverless::Function"

// Template is a loaded CloudFormation/SAM template. Every value is a plain Go value as decoded
// from YAML (map[string]any, []any, string, int, float64, bool or nil), with intrinsic functions
// in long form.
type Template struct {
	// Globals is the SAM Globals section, e.g. Globals["Function"]["Runtime"].
	Globals map[string]any
	// Parameters maps a parameter name to its declaration (Type, Default, …).
	Parameters map[string]any
	// Conditions maps a condition name to its expression.
	Conditions map[string]any
	// Resources maps a logical id to its resource.
	Resources map[string]Resource
	// Outputs maps an output name to its declaration (Value, Description, …).
	Outputs map[string]any
}

// Resource is one entry of the Resources section.
type Resource struct {
	// Type is the resource type, e.g. "AWS::Serverless::Function".
	Type string
	// Properties holds the resource's properties; never nil after loading.
	Properties map[string]any
	// Metadata holds the resource's Metadata (e.g. BuildMethod); never nil after loading.
	Metadata map[string]any
	// DeletionPolicy and UpdateReplacePolicy are the resource's policies ("Retain", …); empty
	// when the template sets none, which CloudFormation takes as Delete.
	DeletionPolicy, UpdateReplacePolicy string
}

// Load reads and parses the template at path.
func Load(path string) (Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Template{}, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return Template{}, fmt.Errorf("parse %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template from YAML (or JSON) bytes.
func Parse(data []byte) (Template, error) {
	doc, err := Decode(data)
	if err != nil {
		return Template{}, err
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return Template{}, fmt.Errorf("template is a %T, want a mapping", doc)
	}
	t := Template{
		Globals:    mapOrEmpty(root["Globals"]),
		Parameters: mapOrEmpty(root["Parameters"]),
		Conditions: mapOrEmpty(root["Conditions"]),
		Outputs:    mapOrEmpty(root["Outputs"]),
		Resources:  map[string]Resource{},
	}
	resources, ok := root["Resources"].(map[string]any)
	if !ok {
		return Template{}, errors.New("template has no Resources mapping")
	}
	for id, raw := range resources {
		m, ok := raw.(map[string]any)
		if !ok {
			return Template{}, fmt.Errorf("resource %s is a %T, want a mapping", id, raw)
		}
		typ, _ := m["Type"].(string)
		if typ == "" {
			return Template{}, fmt.Errorf("resource %s has no Type", id)
		}
		deletion, _ := m["DeletionPolicy"].(string)
		replace, _ := m["UpdateReplacePolicy"].(string)
		t.Resources[id] = Resource{
			Type:                typ,
			Properties:          mapOrEmpty(m["Properties"]),
			Metadata:            mapOrEmpty(m["Metadata"]),
			DeletionPolicy:      deletion,
			UpdateReplacePolicy: replace,
		}
	}
	return t, nil
}

// Decode parses one YAML document into plain Go values, rewriting CloudFormation short tags
// into their long form. An unknown "!" tag is an error.
func Decode(data []byte) (any, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	return convert(&doc)
}

// shortTags maps a CloudFormation short tag to the key of its long form.
var shortTags = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!GetAtt":       "Fn::GetAtt",
	"!Sub":          "Fn::Sub",
	"!Join":         "Fn::Join",
	"!If":           "Fn::If",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!FindInMap":    "Fn::FindInMap",
	"!Equals":       "Fn::Equals",
	"!Not":          "Fn::Not",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Base64":       "Fn::Base64",
	"!Cidr":         "Fn::Cidr",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
	"!Transform":    "Fn::Transform",
}

func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(n.Content[0])
	}
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return convertTagged(n)
	}
	return convertPlain(n)
}

// convertPlain converts an untagged (or standard-tagged) node.
func convertPlain(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if _, dup := out[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			cv, err := convert(v)
			if err != nil {
				return nil, err
			}
			out[k.Value] = cv
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node kind %d", n.Line, n.Kind)
}

// convertTagged converts a node carrying a CloudFormation short tag into its long form.
func convertTagged(n *yaml.Node) (any, error) {
	key, ok := shortTags[n.Tag]
	if !ok {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	var arg any
	if n.Kind == yaml.ScalarNode {
		// Arguments of scalar short forms are strings: "!Ref ShardCount", "!GetAZs ''".
		arg = n.Value
	} else {
		plain := *n
		plain.Tag = ""
		v, err := convertPlain(&plain)
		if err != nil {
			return nil, err
		}
		arg = v
	}
	if key == "Fn::GetAtt" {
		if s, ok := arg.(string); ok {
			// "Resource.Attribute"; attribute names may themselves contain dots
			// (Endpoint.Address), so only the first dot separates.
			id, attr, found := strings.Cut(s, ".")
			if !found || id == "" || attr == "" {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			arg = []any{id, attr}
		}
	}
	return map[string]any{key: arg}, nil
}

func mapOrEmpty(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// Lookup follows a path of mapping keys from v and reports the value found there.
func Lookup(v any, path ...string) (any, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

// Function is one AWS::Serverless::Function of a template.
type Function struct {
	// LogicalID is the resource's logical id, e.g. "RouterFunction".
	LogicalID string
	// CodeUri is the function's CodeUri (a directory relative to the template), "" if it has none
	// or it is not a plain string.
	CodeUri string
	// Resource is the function resource as declared (without Globals merged in).
	Resource Resource
}

// Functions returns the template's AWS::Serverless::Function resources sorted by logical id.
func (t Template) Functions() []Function {
	var out []Function
	for id, r := range t.Resources {
		if r.Type != FunctionType {
			continue
		}
		v, _ := t.FunctionProperty(id, "CodeUri")
		codeURI, _ := v.(string)
		out = append(out, Function{LogicalID: id, CodeUri: strings.TrimSuffix(codeURI, "/"), Resource: r})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// FunctionsByCodeUri maps each function's CodeUri (e.g. "functions/router") to its logical id
// (e.g. "RouterFunction"). Functions without a plain string CodeUri are left out.
func FunctionsByCodeUri(t Template) map[string]string {
	out := map[string]string{}
	for _, f := range t.Functions() {
		if f.CodeUri != "" {
			out[f.CodeUri] = f.LogicalID
		}
	}
	return out
}

// FunctionProperty returns a function property as SAM would see it after merging Globals:
// the function's own value if it has one, otherwise Globals.Function's.
func (t Template) FunctionProperty(logicalID, name string) (any, bool) {
	if r, ok := t.Resources[logicalID]; ok {
		if v, ok := r.Properties[name]; ok {
			return v, true
		}
	}
	return Lookup(t.Globals, "Function", name)
}

// EnvVars returns the environment variables a function declares, Globals.Function's merged
// with the function's own (the function wins), as SAM merges them. Values are as declared
// (strings or intrinsics). A variable whose value is a Fn::If that may yield AWS::NoValue is
// still listed: it is declared, and `sam local invoke --env-vars` can set it.
func (t Template) EnvVars(logicalID string) map[string]any {
	out := map[string]any{}
	if g, ok := Lookup(t.Globals, "Function", "Environment", "Variables"); ok {
		for k, v := range mapOrEmpty(g) {
			out[k] = v
		}
	}
	if r, ok := t.Resources[logicalID]; ok {
		if own, ok := Lookup(r.Properties, "Environment", "Variables"); ok {
			for k, v := range mapOrEmpty(own) {
				out[k] = v
			}
		}
	}
	return out
}

// Statement is one IAM policy statement with Action and Resource normalised to lists.
type Statement struct {
	// Sid is the statement id, "" if none.
	Sid string
	// Effect is "Allow" or "Deny".
	Effect string
	// Action lists the actions, e.g. "dynamodb:PutItem". Non-string entries are kept as
	// fmt.Sprint of the value so that checks see them.
	Action []string
	// Resource lists the resources: strings or intrinsics in long form.
	Resource []any
	// Raw is the statement as declared (NotAction, Condition, … live here).
	Raw map[string]any
}

// PolicyStatements returns the inline statements of a function's Policies. Any other kind of
// entry (a managed policy name or ARN, a SAM policy template such as DynamoDBCrudPolicy) is an
// error: those grant more than the code calls or cannot be checked here.
func (t Template) PolicyStatements(logicalID string) ([]Statement, error) {
	r, ok := t.Resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("no resource %s", logicalID)
	}
	raw, ok := r.Properties["Policies"]
	if !ok {
		return nil, nil
	}
	entries, ok := raw.([]any)
	if !ok {
		entries = []any{raw}
	}
	var out []Statement
	for i, e := range entries {
		doc, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s Policies[%d] = %v is a managed policy, want an inline statement", logicalID, i, e)
		}
		stmts, ok := doc["Statement"]
		if !ok {
			return nil, fmt.Errorf("%s Policies[%d] is a SAM policy template or unknown (%v), want an inline statement", logicalID, i, keys(doc))
		}
		list, ok := stmts.([]any)
		if !ok {
			list = []any{stmts}
		}
		for j, s := range list {
			sm, ok := s.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s Policies[%d].Statement[%d] is a %T, want a mapping", logicalID, i, j, s)
			}
			out = append(out, newStatement(sm))
		}
	}
	return out, nil
}

func newStatement(m map[string]any) Statement {
	s := Statement{Raw: m}
	s.Sid, _ = m["Sid"].(string)
	s.Effect, _ = m["Effect"].(string)
	for _, a := range asList(m["Action"]) {
		if str, ok := a.(string); ok {
			s.Action = append(s.Action, str)
		} else {
			s.Action = append(s.Action, fmt.Sprint(a))
		}
	}
	s.Resource = asList(m["Resource"])
	return s
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
