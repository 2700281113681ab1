package templatecheck_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

func TestDecodeRewritesShortTags(t *testing.T) {
	tests := []struct {
		yaml string
		want any
	}{
		{`!Ref Table`, map[string]any{"Ref": "Table"}},
		{`!GetAtt Table.Arn`, map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}}},
		{`!GetAtt Db.Endpoint.Address`, map[string]any{"Fn::GetAtt": []any{"Db", "Endpoint.Address"}}},
		{`!GetAtt [Table, Arn]`, map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}}},
		{`!Sub "${Table.Arn}/index/GSI1"`, map[string]any{"Fn::Sub": "${Table.Arn}/index/GSI1"}},
		{`!Sub ["${A}-x", {A: !Ref P}]`, map[string]any{"Fn::Sub": []any{"${A}-x", map[string]any{"A": map[string]any{"Ref": "P"}}}}},
		{`!Join [":", [a, !Ref B]]`, map[string]any{"Fn::Join": []any{":", []any{"a", map[string]any{"Ref": "B"}}}}},
		{`!If [C, 1, !Ref AWS::NoValue]`, map[string]any{"Fn::If": []any{"C", 1, map[string]any{"Ref": "AWS::NoValue"}}}},
		{`!Select [0, !GetAZs ""]`, map[string]any{"Fn::Select": []any{0, map[string]any{"Fn::GetAZs": ""}}}},
		{`!Split [",", "a,b"]`, map[string]any{"Fn::Split": []any{",", "a,b"}}},
		{`!ImportValue shared-vpc`, map[string]any{"Fn::ImportValue": "shared-vpc"}},
		{`!FindInMap [M, K, V]`, map[string]any{"Fn::FindInMap": []any{"M", "K", "V"}}},
		{`!Equals [!Ref P, ""]`, map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "P"}, ""}}},
		{`!Not [!Condition C]`, map[string]any{"Fn::Not": []any{map[string]any{"Condition": "C"}}}},
		{`!And [!Condition A, !Condition B]`, map[string]any{"Fn::And": []any{map[string]any{"Condition": "A"}, map[string]any{"Condition": "B"}}}},
		{`!Or [!Condition A, !Condition B]`, map[string]any{"Fn::Or": []any{map[string]any{"Condition": "A"}, map[string]any{"Condition": "B"}}}},
		{`!Base64 hello`, map[string]any{"Fn::Base64": "hello"}},
		{`!Cidr ["10.0.0.0/16", 4, 8]`, map[string]any{"Fn::Cidr": []any{"10.0.0.0/16", 4, 8}}},
		{"a: !Ref X\nb: [1, true, null, 2.5]", map[string]any{"a": map[string]any{"Ref": "X"}, "b": []any{1, true, nil, 2.5}}},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			got, err := templatecheck.Decode([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeRejectsUnknownTagsAndBadGetAtt(t *testing.T) {
	for _, in := range []string{`!Reff X`, `!GetAtt NoDot`, "a: 1\na: 2"} {
		if _, err := templatecheck.Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q): no error", in)
		}
	}
}

const miniTemplate = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Level: {Type: String, Default: INFO}
Conditions:
  Debug: !Equals [!Ref Level, DEBUG]
Globals:
  Function:
    CodeUri: functions/default
    Environment:
      Variables:
        SHARED: x
        OVERRIDDEN: global
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  A:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: go1.x}
    Properties:
      CodeUri: functions/a/
      Environment:
        Variables:
          OVERRIDDEN: !Ref Table
          ONLY_A: !If [Debug, "1", !Ref AWS::NoValue]
      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:GetItem
              Resource: !Sub "arn:${AWS::Partition}:x:${Table.Arn}/${!Literal}/${Local}"
  B:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - AmazonDynamoDBFullAccess
`

func TestTemplateAccessors(t *testing.T) {
	tpl, err := templatecheck.Parse([]byte(miniTemplate))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	fns := tpl.Functions()
	if len(fns) != 2 || fns[0].LogicalID != "A" || fns[0].CodeUri != "functions/a" || fns[1].CodeUri != "functions/default" {
		t.Fatalf("Functions = %+v", fns)
	}
	if got := templatecheck.FunctionsByCodeUri(tpl); !reflect.DeepEqual(got, map[string]string{"functions/a": "A", "functions/default": "B"}) {
		t.Errorf("FunctionsByCodeUri = %v", got)
	}
	env := tpl.EnvVars("A")
	if env["SHARED"] != "x" || !reflect.DeepEqual(env["OVERRIDDEN"], map[string]any{"Ref": "Table"}) || env["ONLY_A"] == nil {
		t.Errorf("EnvVars(A) = %v", env)
	}
	stmts, err := tpl.PolicyStatements("A")
	if err != nil || len(stmts) != 1 || !reflect.DeepEqual(stmts[0].Action, []string{"dynamodb:GetItem"}) || len(stmts[0].Resource) != 1 {
		t.Fatalf("PolicyStatements(A) = %+v, %v", stmts, err)
	}
	var names []string
	for _, r := range templatecheck.References(stmts[0].Resource) {
		names = append(names, r.String())
	}
	if want := "${AWS::Partition} ${Local} ${Table.Arn}"; strings.Join(names, " ") != want {
		t.Errorf("References = %v, want %s", names, want)
	}
	if _, err := tpl.PolicyStatements("B"); err == nil || !strings.Contains(err.Error(), "managed policy") {
		t.Errorf("PolicyStatements(B) error = %v, want a managed-policy error", err)
	}
	refs := templatecheck.References(tpl.EnvVars("A")["ONLY_A"])
	if len(refs) != 2 || refs[0].Kind != "Condition" || refs[0].Name != "Debug" || !refs[1].IsPseudo() {
		t.Errorf("References(Fn::If) = %+v", refs)
	}
}
