package templatecheck_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

var actionPattern = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+$`)

func TestPolicyStatementsNameOnlyTemplateResources(t *testing.T) {
	tpl := loadTemplate(t)
	for _, f := range tpl.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			stmts, err := tpl.PolicyStatements(f.LogicalID)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range stmts {
				where := fmt.Sprintf("%s statement %d (%s)", f.LogicalID, i, s.Sid)
				if s.Effect != "Allow" {
					t.Errorf("%s: Effect = %q, want Allow", where, s.Effect)
				}
				for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
					if _, ok := s.Raw[k]; ok {
						t.Errorf("%s: uses %s", where, k)
					}
				}
				if len(s.Action) == 0 || len(s.Resource) == 0 {
					t.Errorf("%s: needs at least one Action and one Resource", where)
				}
				for _, a := range s.Action {
					if !actionPattern.MatchString(a) {
						t.Errorf("%s: action %q is not one exact service:Action (no wildcards)", where, a)
					}
				}
				for _, r := range s.Resource {
					for _, str := range templatecheck.Strings(r) {
						if strings.Contains(str, "*") {
							t.Errorf("%s: resource %v contains a wildcard", where, r)
						}
					}
					refs := templatecheck.References(r)
					named := 0
					for _, ref := range refs {
						switch {
						case ref.IsPseudo():
						case isResource(tpl, ref.Name):
							named++
						default:
							t.Errorf("%s: resource %v refers to %s, which is not a resource of the template", where, r, ref)
						}
					}
					if named == 0 {
						t.Errorf("%s: resource %v names no resource of the template", where, r)
					}
				}
			}
		})
	}
}

func isResource(tpl templatecheck.Template, id string) bool {
	_, ok := tpl.Resources[id]
	return ok
}

// refTo returns the logical id that v refers to when v is exactly {"Ref": id}.
func refTo(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return ""
	}
	s, _ := m["Ref"].(string)
	return s
}

// getAttOf returns the logical id when v is exactly {"Fn::GetAtt": [id, attr]}.
func getAttOf(v any, attr string) string {
	refs := templatecheck.References(v)
	if m, ok := v.(map[string]any); !ok || len(m) != 1 || len(refs) != 1 || refs[0].Kind != "Fn::GetAtt" || refs[0].Attr != attr {
		return ""
	}
	return refs[0].Name
}

// grants reports whether a function's statements allow action on resource v (compared as declared).
func grants(t *testing.T, tpl templatecheck.Template, id, action string, resource any) bool {
	t.Helper()
	stmts, err := tpl.PolicyStatements(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if !slices.Contains(s.Action, action) {
			continue
		}
		for _, r := range s.Resource {
			if fmt.Sprint(r) == fmt.Sprint(resource) {
				return true
			}
		}
	}
	return false
}

// TestPoliciesCoverWhatEnvVarsPointAt: a function told the name of another function may invoke
// exactly it, and a function told TABLE_NAME may use that table.
func TestPoliciesCoverWhatEnvVarsPointAt(t *testing.T) {
	tpl := loadTemplate(t)
	for _, f := range tpl.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			for name, v := range tpl.EnvVars(f.LogicalID) {
				target := refTo(v)
				r, ok := tpl.Resources[target]
				if !ok {
					continue
				}
				arn := map[string]any{"Fn::GetAtt": []any{target, "Arn"}}
				switch r.Type {
				case templatecheck.FunctionType:
					if !grants(t, tpl, f.LogicalID, "lambda:InvokeFunction", arn) {
						t.Errorf("%s: %s names %s but the policy does not allow lambda:InvokeFunction on !GetAtt %s.Arn", f.LogicalID, name, target, target)
					}
				case "AWS::DynamoDB::Table":
					found := false
					stmts, _ := tpl.PolicyStatements(f.LogicalID)
					for _, s := range stmts {
						for _, a := range s.Action {
							if strings.HasPrefix(a, "dynamodb:") && grants(t, tpl, f.LogicalID, a, arn) {
								found = true
							}
						}
					}
					if !found {
						t.Errorf("%s: %s names %s but the policy allows no dynamodb action on !GetAtt %s.Arn", f.LogicalID, name, target, target)
					}
				}
			}
		})
	}
}
