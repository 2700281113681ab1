package devstack

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

// Region and Account are the pseudo parameters of the local stack.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// noValue stands for AWS::NoValue: the property it is the value of is removed.
type noValue struct{}

// resolver evaluates CloudFormation intrinsic functions against the local stack's names.
type resolver struct {
	tpl        templatecheck.Template
	params     map[string]string // parameter values: overrides, else defaults
	names      map[string]string // logical id → physical name (what Ref returns)
	arns       map[string]string // logical id → ARN (GetAtt X.Arn)
	conditions map[string]bool
}

func newResolver(tpl templatecheck.Template, overrides map[string]string) (*resolver, error) {
	r := &resolver{tpl: tpl, params: map[string]string{}, names: map[string]string{}, arns: map[string]string{}, conditions: map[string]bool{}}
	for name, p := range tpl.Parameters {
		if v, ok := overrides[name]; ok {
			r.params[name] = v
			continue
		}
		def, _ := templatecheck.Lookup(p, "Default")
		if def == nil {
			return nil, fmt.Errorf("template parameter %s has no Default: give it a value", name)
		}
		r.params[name] = fmt.Sprint(def)
	}
	for name := range overrides {
		if _, ok := tpl.Parameters[name]; !ok {
			return nil, fmt.Errorf("parameter override %s: the template declares no such parameter", name)
		}
	}
	for id, res := range tpl.Resources {
		r.names[id], r.arns[id] = physical(id, res.Type)
	}
	ids := make([]string, 0, len(tpl.Conditions))
	for id := range tpl.Conditions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		v, err := r.value(tpl.Conditions[id])
		if err != nil {
			return nil, fmt.Errorf("condition %s: %w", id, err)
		}
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("condition %s: is %v, not true or false", id, v)
		}
		r.conditions[id] = b
	}
	return r, nil
}

// physical returns what Ref and GetAtt .Arn give for a resource of the local stack: resources
// are named by their logical id, as `sam local` does.
func physical(id, typ string) (name, arn string) {
	switch typ {
	case "AWS::Kinesis::Stream":
		return id, fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", Region, Account, id)
	case "AWS::DynamoDB::Table":
		return id, fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", Region, Account, id)
	case "AWS::SQS::Queue":
		return fmt.Sprintf("http://localhost/%s/%s", Account, id), fmt.Sprintf("arn:aws:sqs:%s:%s:%s", Region, Account, id)
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		return id, fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, Account, id)
	}
	return id, fmt.Sprintf("arn:aws:local:%s:%s:%s", Region, Account, id)
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// value resolves every intrinsic function in v.
func (r *resolver) value(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return r.intrinsic(k, arg)
				}
			}
		}
		out := map[string]any{}
		for k, x := range v {
			y, err := r.value(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, skip := y.(noValue); !skip {
				out[k] = y
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, x := range v {
			y, err := r.value(x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, skip := y.(noValue); !skip {
				out = append(out, y)
			}
		}
		return out, nil
	}
	return v, nil
}

func (r *resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		return r.ref(fmt.Sprint(arg))
	case "Condition":
		b, ok := r.conditions[fmt.Sprint(arg)]
		if !ok {
			return nil, fmt.Errorf("unknown condition %v", arg)
		}
		return b, nil
	case "Fn::GetAtt":
		parts := templatecheck.Strings(arg)
		if len(parts) == 1 {
			parts = strings.SplitN(parts[0], ".", 2)
		}
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt %v: want [LogicalId, Attribute]", arg)
		}
		return r.getAtt(parts[0], parts[1])
	case "Fn::Sub":
		s, vars := "", map[string]any{}
		switch a := arg.(type) {
		case string:
			s = a
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("Fn::Sub: want a string or [string, map]")
			}
			s, _ = a[0].(string)
			vars, _ = a[1].(map[string]any)
		}
		var err error
		out := subVar.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			if v, ok := vars[name]; ok {
				x, e := r.value(v)
				err = e
				return fmt.Sprint(x)
			}
			var x any
			var e error
			if id, attr, ok := strings.Cut(name, "."); ok {
				x, e = r.getAtt(id, attr)
			} else {
				x, e = r.ref(name)
			}
			if e != nil {
				err = e
			}
			return fmt.Sprint(x)
		})
		return out, err
	case "Fn::If":
		a, _ := arg.([]any)
		if len(a) != 3 {
			return nil, fmt.Errorf("Fn::If: want [condition, then, else]")
		}
		b, ok := r.conditions[fmt.Sprint(a[0])]
		if !ok {
			return nil, fmt.Errorf("Fn::If: unknown condition %v", a[0])
		}
		if b {
			return r.value(a[1])
		}
		return r.value(a[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		a, _ := arg.([]any)
		vals := make([]any, len(a))
		for i, x := range a {
			y, err := r.value(x)
			if err != nil {
				return nil, err
			}
			vals[i] = y
		}
		switch fn {
		case "Fn::Equals":
			if len(vals) != 2 {
				return nil, fmt.Errorf("Fn::Equals: want two values")
			}
			return fmt.Sprint(vals[0]) == fmt.Sprint(vals[1]), nil
		case "Fn::Not":
			b, ok := first(vals).(bool)
			if !ok {
				return nil, fmt.Errorf("Fn::Not: want one condition")
			}
			return !b, nil
		case "Fn::And", "Fn::Or":
			and := fn == "Fn::And"
			for _, x := range vals {
				if b, _ := x.(bool); b != and {
					return !and, nil
				}
			}
			return and, nil
		}
	case "Fn::Join":
		a, _ := arg.([]any)
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Join: want [delimiter, list]")
		}
		list, err := r.value(a[1])
		if err != nil {
			return nil, err
		}
		return strings.Join(templatecheck.Strings(list), fmt.Sprint(a[0])), nil
	}
	return nil, fmt.Errorf("%s is not supported by the local stack", fn)
}

func first(v []any) any {
	if len(v) == 0 {
		return nil
	}
	return v[0]
}

func (r *resolver) ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return Region, nil
	case "AWS::AccountId":
		return Account, nil
	case "AWS::StackName":
		return "local", nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::NoValue":
		return noValue{}, nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	if v, ok := r.names[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

func (r *resolver) getAtt(id, attr string) (any, error) {
	if _, ok := r.tpl.Resources[id]; !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no such resource", id, attr)
	}
	switch attr {
	case "Arn", "StreamArn":
		return r.arns[id], nil
	case "QueueUrl":
		return r.names[id], nil
	case "QueueName", "StreamName":
		return id, nil
	}
	return nil, fmt.Errorf("Fn::GetAtt %s.%s: attribute not emulated", id, attr)
}
