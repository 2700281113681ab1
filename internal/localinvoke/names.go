package localinvoke

import (
	"fmt"
	"regexp"
)

// The region and account the local Lambda API answers for: the local stack's pseudo parameters
// (internal/devstack Region and Account; a test keeps them equal). A function ARN of another
// region or account names no function here.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "000000000000"
)

// LatestVersion is the only version a local function has.
const LatestVersion = "$LATEST"

// functionName is Lambda's pattern for the FunctionName of Invoke (API reference, Invoke, URI
// request parameters): a name, an ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME) or a partial
// ARN (ACCOUNT:function:NAME), each with an optional version or alias.
var functionName = regexp.MustCompile(`^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?` +
	`(?:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?` + // region
	`(?:(\d{12}):)?` + // account
	`(?:function:)?` +
	`([a-zA-Z0-9_.-]+)` + // name
	`(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?$`) // version or alias

// qualifierPattern is Lambda's pattern for the Qualifier query parameter.
var qualifierPattern = regexp.MustCompile(`^[a-zA-Z0-9$_-]{1,128}$`)

// Lambda's length limits: a name alone is at most 64 characters, the whole FunctionName of
// Invoke at most 170.
const (
	maxNameLength         = 64
	maxFunctionNameLength = 170
)

// functionRef is a FunctionName taken apart.
type functionRef struct {
	Name, Qualifier, Region, Account string
}

// parseFunctionName takes a FunctionName in any form Invoke accepts apart; an error says why it is
// not one, in Lambda's words.
func parseFunctionName(s string) (functionRef, error) {
	m := functionName.FindStringSubmatch(s)
	if m == nil || len(s) > maxFunctionNameLength || len(m[3]) > maxNameLength {
		return functionRef{}, fmt.Errorf("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: "+
			"Member must satisfy regular expression pattern: %s and have length at most %d (a name of at most %d characters, "+
			"arn:aws:lambda:REGION:ACCOUNT:function:NAME, or ACCOUNT:function:NAME, each optionally with :VERSION or :ALIAS)",
			s, functionName.String(), maxFunctionNameLength, maxNameLength)
	}
	return functionRef{Region: m[1], Account: m[2], Name: m[3], Qualifier: m[4]}, nil
}

// FunctionARN returns the ARN of a local function.
func FunctionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", DefaultRegion, DefaultAccount, name)
}
