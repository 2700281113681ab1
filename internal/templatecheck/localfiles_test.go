package templatecheck_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

// tomlSections is a deliberately tiny reader of samconfig.toml: [section] headers and
// key = value lines, comments skipped. Enough to check the file's shape.
func tomlSections(data []byte) (top map[string]string, sections map[string]map[string]string) {
	top, sections = map[string]string{}, map[string]map[string]string{}
	cur := top
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			name := strings.TrimSpace(strings.Trim(line, "[]"))
			cur = map[string]string{}
			sections[name] = cur
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok {
				cur[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	return top, sections
}

func TestSamconfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	top, sections := tomlSections(data)
	if top["version"] != "0.1" {
		t.Errorf("samconfig.toml: version = %q, want 0.1", top["version"])
	}
	if sections["default.global.parameters"]["stack_name"] == "" {
		t.Error("samconfig.toml: [default.global.parameters] has no stack_name")
	}
	deploy := sections["default.deploy.parameters"]
	if !strings.Contains(deploy["capabilities"], "CAPABILITY_IAM") {
		t.Errorf("samconfig.toml: [default.deploy.parameters] capabilities = %q, want CAPABILITY_IAM (SAM creates the roles)", deploy["capabilities"])
	}
	hasLocal := false
	for name := range sections {
		if strings.HasPrefix(name, "localstack.") {
			hasLocal = true
		}
	}
	if !hasLocal {
		t.Error("samconfig.toml: no [localstack.*] environment for samlocal")
	}
}

func TestDockerCompose(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string
			Ports       []string
			Environment any
			Volumes     []any
		}
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	found := false
	for name, s := range doc.Services {
		if !strings.HasPrefix(s.Image, "localstack/localstack") {
			continue
		}
		found = true
		_, tag, _ := strings.Cut(s.Image, ":")
		if tag == "" || tag == "latest" {
			t.Errorf("%s: image %q is not pinned to a release tag", name, s.Image)
		}
		if !slices.ContainsFunc(s.Ports, func(p string) bool { return strings.HasSuffix(p, ":4566") || p == "4566" }) {
			t.Errorf("%s: port 4566 is not published (ports %v)", name, s.Ports)
		}
		if !slices.ContainsFunc(s.Volumes, mountsDockerSocket) {
			t.Errorf("%s: /var/run/docker.sock is not mounted: LocalStack needs it to run Lambda containers", name)
		}
		services := composeEnv(s.Environment)["SERVICES"]
		for _, want := range []string{"kinesis", "dynamodb", "lambda", "sqs", "iam", "sts", "cloudformation", "s3"} {
			if !slices.Contains(strings.Split(services, ","), want) {
				t.Errorf("%s: SERVICES=%q lacks %s", name, services, want)
			}
		}
	}
	if !found {
		t.Fatal("docker-compose.yml has no localstack/localstack service")
	}
}

func mountsDockerSocket(v any) bool {
	switch x := v.(type) {
	case string:
		parts := strings.Split(x, ":")
		return len(parts) >= 2 && parts[1] == "/var/run/docker.sock"
	case map[string]any:
		return x["target"] == "/var/run/docker.sock"
	}
	return false
}

// composeEnv reads a compose environment given as a list of K=V or as a mapping.
func composeEnv(v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			k, val, _ := strings.Cut(fmt.Sprint(e), "=")
			out[k] = val
		}
	case map[string]any:
		for k, val := range x {
			out[k] = fmt.Sprint(val)
		}
	}
	return out
}

// TestEnvJSON: env.json feeds `sam local invoke --env-vars`, which only overrides variables that
// the template declares for the function (anything else is silently dropped).
func TestEnvJSON(t *testing.T) {
	tpl := loadTemplate(t)
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	for _, f := range tpl.Functions() {
		vars, ok := env[f.LogicalID]
		if !ok {
			t.Errorf("env.json has no entry for %s", f.LogicalID)
			continue
		}
		declared := tpl.EnvVars(f.LogicalID)
		for name, v := range vars {
			if _, ok := declared[name]; !ok {
				t.Errorf("env.json: %s.%s is not declared on the function in template.yaml, so sam local ignores it", f.LogicalID, name)
			}
			if v == "" {
				t.Errorf("env.json: %s.%s is empty", f.LogicalID, name)
			}
		}
		for name := range declared {
			if _, ok := vars[name]; !ok && !reservedEnv(name) {
				t.Errorf("env.json: %s lacks %s", f.LogicalID, name)
			}
		}
	}
	for id := range env {
		if r, ok := tpl.Resources[id]; !ok || r.Type != templatecheck.FunctionType {
			t.Errorf("env.json: %s is not a function of template.yaml", id)
		}
	}
}
