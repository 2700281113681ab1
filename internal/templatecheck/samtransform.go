package templatecheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// ErrNoSAMTranslator reports that python3 or its aws-sam-translator package (the SAM
// translator, which cfn-lint depends on) is not installed, so SAMTransform cannot run.
var ErrNoSAMTranslator = errors.New("the SAM translator is not available (python3 with the aws-sam-translator package, which cfn-lint installs)")

// samTransformScript runs samtranslator.translator.transform.transform on the template read
// from stdin as JSON ({"template": …, "parameters": {…}, "region": …}) and writes the plain
// CloudFormation template to stdout as JSON. It exits 3 when samtranslator cannot be imported.
//
// As `sam package` does before CloudFormation transforms a template, local code paths become S3
// URIs (the translator accepts nothing else). The managed policy loader is a stand-in that
// needs no AWS credentials: samtranslator calls only its load() method, for the ARNs of managed
// policies named by name in Policies; SAM's own policies (AWSLambdaBasicExecutionRole, …) are
// added as ARNs without it.
const samTransformScript = `
import json, sys
try:
    from samtranslator.translator.transform import transform
except Exception as e:
    print("cannot import samtranslator: %s" % e, file=sys.stderr)
    sys.exit(3)

class NoAWSPolicyLoader:
    def load(self):
        return {}

doc = json.load(sys.stdin)
tpl = doc["template"]

def to_s3(props, key):
    v = props.get(key)
    if isinstance(v, str) and not v.startswith("s3://"):
        props[key] = "s3://templatecheck-artifacts/" + (v.strip("./") or "code")

g = (tpl.get("Globals") or {}).get("Function") or {}
to_s3(g, "CodeUri")
for r in (tpl.get("Resources") or {}).values():
    if not isinstance(r, dict):
        continue
    t = r.get("Type")
    props = r.setdefault("Properties", {})
    if t == "AWS::Serverless::Function":
        if not any(k in props or k in g for k in ("CodeUri", "InlineCode", "ImageUri")):
            props["CodeUri"] = "code"
        to_s3(props, "CodeUri")
    elif t == "AWS::Serverless::LayerVersion":
        to_s3(props, "ContentUri")
    elif t in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::Serverless::StateMachine"):
        to_s3(props, "DefinitionUri")
out = transform(tpl, doc.get("parameters") or {}, NoAWSPolicyLoader())
json.dump(out, sys.stdout)
`

// SAMTransform transforms a SAM template into the plain CloudFormation template that
// CloudFormation (or LocalStack's) creates, with the SAM translator on this machine (python3
// and aws-sam-translator), in one python3 process. parameters override the template's
// defaults; region is the region the translator builds ARNs and partitions for (us-east-1 when
// empty). It returns ErrNoSAMTranslator (wrapped) when python3 or samtranslator is missing, and
// the translator's message when it refuses the template.
func SAMTransform(ctx context.Context, templatePath string, parameters map[string]string, region string) (map[string]any, error) {
	data, err := os.ReadFile(templatePath)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	doc, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", templatePath, err)
	}
	if region == "" {
		region = "us-east-1"
	}
	if parameters == nil {
		parameters = map[string]string{}
	}
	in, err := json.Marshal(map[string]any{"template": doc, "parameters": parameters})
	if err != nil {
		return nil, fmt.Errorf("encode %s as JSON: %w", templatePath, err)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSAMTranslator, err)
	}
	cmd := exec.CommandContext(ctx, python, "-c", samTransformScript)
	// boto3 (which the translator asks for the partition) reads the region from the environment.
	cmd.Env = append(os.Environ(), "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 {
			return nil, fmt.Errorf("%w: %s", ErrNoSAMTranslator, strings.TrimSpace(stderr.String()))
		}
		return nil, fmt.Errorf("SAM translator on %s: %v\n%s", templatePath, err, lastLines(stderr.String(), 20))
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("SAM translator output: %w", err)
	}
	return out, nil
}

// lastLines returns the last n lines of s (a Python traceback ends with the message).
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
