package templatecheck

import (
	"fmt"
	"sort"
	"strings"
)

// Reference is one name that an intrinsic function refers to.
type Reference struct {
	// Kind is "Ref", "Fn::GetAtt", "Fn::Sub" (a ${Name} or ${Name.Attr} inside a Sub string)
	// or "Condition" (the condition of a Fn::If, or a Condition inside a condition expression).
	Kind string
	// Name is the logical id, parameter, pseudo parameter (AWS::Region) or condition name.
	Name string
	// Attr is the attribute for Fn::GetAtt and ${Name.Attr}, "" otherwise.
	Attr string
}

// String formats r as it would be written in a template.
func (r Reference) String() string {
	switch {
	case r.Kind == "Fn::Sub" && r.Attr != "":
		return fmt.Sprintf("${%s.%s}", r.Name, r.Attr)
	case r.Kind == "Fn::Sub":
		return fmt.Sprintf("${%s}", r.Name)
	case r.Attr != "":
		return fmt.Sprintf("%s %s.%s", r.Kind, r.Name, r.Attr)
	}
	return fmt.Sprintf("%s %s", r.Kind, r.Name)
}

// IsPseudo reports whether r names a pseudo parameter such as AWS::Region or AWS::NoValue.
func (r Reference) IsPseudo() bool { return strings.HasPrefix(r.Name, "AWS::") }

// References returns every reference made by the intrinsic functions inside v, in a stable
// order. Variables that a Fn::Sub defines in its own variable map are not references.
func References(v any) []Reference {
	var out []Reference
	collectRefs(v, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func collectRefs(v any, out *[]Reference) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			collectRefs(e, out)
		}
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if collectIntrinsic(k, arg, out) {
					return
				}
			}
		}
		for _, e := range x {
			collectRefs(e, out)
		}
	}
}

// collectIntrinsic records the references of the intrinsic {key: arg} and reports whether key
// was an intrinsic handled here.
func collectIntrinsic(key string, arg any, out *[]Reference) bool {
	switch key {
	case "Ref":
		if s, ok := arg.(string); ok {
			*out = append(*out, Reference{Kind: "Ref", Name: s})
			return true
		}
		collectRefs(arg, out)
		return true
	case "Condition":
		if s, ok := arg.(string); ok {
			*out = append(*out, Reference{Kind: "Condition", Name: s})
			return true
		}
		return false
	case "Fn::GetAtt":
		parts, ok := arg.([]any)
		if !ok || len(parts) != 2 {
			collectRefs(arg, out)
			return true
		}
		id, _ := parts[0].(string)
		attr, isStr := parts[1].(string)
		if !isStr {
			collectRefs(parts[1], out)
		}
		*out = append(*out, Reference{Kind: "Fn::GetAtt", Name: id, Attr: attr})
		return true
	case "Fn::Sub":
		switch a := arg.(type) {
		case string:
			subRefs(a, nil, out)
		case []any:
			local := map[string]any{}
			if len(a) > 1 {
				local, _ = a[1].(map[string]any)
				collectRefs(a[1], out)
			}
			if len(a) > 0 {
				if s, ok := a[0].(string); ok {
					subRefs(s, local, out)
				}
			}
		}
		return true
	case "Fn::If":
		if a, ok := arg.([]any); ok && len(a) > 0 {
			if name, ok := a[0].(string); ok {
				*out = append(*out, Reference{Kind: "Condition", Name: name})
			}
			collectRefs(a[1:], out)
			return true
		}
	}
	return false
}

// subRefs records the ${Name} and ${Name.Attr} variables of a Fn::Sub string, skipping ${!Literal}
// escapes and the names defined in local.
func subRefs(s string, local map[string]any, out *[]Reference) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return
		}
		s = s[i+2:]
		j := strings.Index(s, "}")
		if j < 0 {
			return
		}
		name := strings.TrimSpace(s[:j])
		s = s[j+1:]
		if name == "" || strings.HasPrefix(name, "!") {
			continue
		}
		if _, ok := local[name]; ok {
			continue
		}
		id, attr, _ := strings.Cut(name, ".")
		if strings.HasPrefix(name, "AWS::") {
			id, attr = name, ""
		}
		*out = append(*out, Reference{Kind: "Fn::Sub", Name: id, Attr: attr})
	}
}

// Strings returns every string literal inside v (map values, list entries and intrinsic
// arguments, not map keys), e.g. to look for "*" in a policy Resource.
func Strings(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, k := range keys(x) {
				walk(x[k])
			}
		}
	}
	walk(v)
	return out
}
