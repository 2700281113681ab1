package templatecheck_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/templatecheck"
)

// buildTags are the tags SAM builds with in this project (GOFLAGS=-tags=lambda.norpc).
const buildTags = "lambda.norpc"

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// moduleRoot returns the directory of go.mod, where template.yaml lives.
func moduleRoot(t *testing.T) string {
	t.Helper()
	rootOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			rootErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			rootErr = errors.New("not inside a Go module")
			return
		}
		rootDir = filepath.Dir(gomod)
	})
	if rootErr != nil {
		t.Fatal(rootErr)
	}
	return rootDir
}

func loadTemplate(t *testing.T) templatecheck.Template {
	t.Helper()
	tpl, err := templatecheck.Load(filepath.Join(moduleRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.Functions()) == 0 {
		t.Fatal("template.yaml declares no AWS::Serverless::Function")
	}
	return tpl
}

// goarch maps the function's Architectures to GOARCH.
func goarch(t *testing.T, tpl templatecheck.Template, id string) string {
	t.Helper()
	v, _ := tpl.FunctionProperty(id, "Architectures")
	archs, _ := v.([]any)
	if len(archs) != 1 {
		t.Fatalf("%s: Architectures = %v, want exactly one", id, v)
	}
	switch archs[0] {
	case "arm64":
		return "arm64"
	case "x86_64":
		return "amd64"
	}
	t.Fatalf("%s: unknown architecture %v", id, archs[0])
	return ""
}

// requireCodeDir fails the test with a clear message when a function's CodeUri has no code yet.
func requireCodeDir(t *testing.T, root string, f templatecheck.Function) {
	t.Helper()
	if f.CodeUri == "" {
		t.Fatalf("%s has no CodeUri", f.LogicalID)
	}
	fi, err := os.Stat(filepath.Join(root, f.CodeUri))
	if err != nil || !fi.IsDir() {
		t.Fatalf("%s: CodeUri %q is not a directory in the repository: its main package (main.go calling lambda.Start) must live there, see docs/design.md", f.LogicalID, f.CodeUri)
	}
}

func goEnv(arch string) []string {
	return []string{"GOOS=linux", "GOARCH=" + arch, "CGO_ENABLED=0"}
}

func run(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

func TestFunctionsBuildIntoBootstrap(t *testing.T) {
	root := moduleRoot(t)
	tpl := loadTemplate(t)
	// Sequential on purpose: the first build fills the build cache for the shared packages.
	for _, f := range tpl.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			requireCodeDir(t, root, f)
			arch := goarch(t, tpl, f.LogicalID)
			env := goEnv(arch)
			name, err := run(root, env, "go", "list", "-tags", buildTags, "-f", "{{.Name}}", "./"+f.CodeUri)
			if err != nil {
				t.Fatalf("%s: go list ./%s: %v\n%s", f.LogicalID, f.CodeUri, err, name)
			}
			if name != "main" {
				t.Fatalf("%s: package in %s is %q, want main", f.LogicalID, f.CodeUri, name)
			}
			bin := filepath.Join(t.TempDir(), "bootstrap")
			if out, err := run(root, env, "go", "build", "-tags", buildTags, "-o", bin, "./"+f.CodeUri); err != nil {
				t.Fatalf("%s: GOOS=linux GOARCH=%s CGO_ENABLED=0 go build -tags %s ./%s: %v\n%s", f.LogicalID, arch, buildTags, f.CodeUri, err, out)
			}
			ef, err := elf.Open(bin)
			if err != nil {
				t.Fatalf("%s: bootstrap is not an ELF binary: %v", f.LogicalID, err)
			}
			defer ef.Close()
			wantMachine := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[arch]
			if ef.Machine != wantMachine {
				t.Errorf("%s: bootstrap is built for %v, want %v", f.LogicalID, ef.Machine, wantMachine)
			}
			for _, p := range ef.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s: bootstrap is dynamically linked; provided.al2023 wants a static binary", f.LogicalID)
				}
			}
		})
	}
}

// reservedEnv reports whether Lambda or the SDK owns a variable, so that our code may read it
// without the template declaring it, and a declaration needs no reader in our code
// (AWS_ENDPOINT_URL is declared for local runs and read by aws-sdk-go-v2).
func reservedEnv(name string) bool {
	return strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "_") || slices.Contains(lambdaReserved, name)
}

// lambdaReserved are the keys Lambda sets itself and refuses in a function's configuration.
var lambdaReserved = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
	// Set by Lambda from LoggingConfig; declaring it would fight ApplicationLogLevel.
	"AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_LOG_FORMAT",
}

func TestEnvVarsMatchCode(t *testing.T) {
	root := moduleRoot(t)
	tpl := loadTemplate(t)
	for _, f := range tpl.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			requireCodeDir(t, root, f)
			pkgs, err := templatecheck.ModulePackages(root, "./"+f.CodeUri, goEnv(goarch(t, tpl, f.LogicalID)), buildTags)
			if err != nil {
				t.Fatalf("%s: %v", f.LogicalID, err)
			}
			reads, err := templatecheck.EnvReads(pkgs)
			if err != nil {
				t.Fatalf("%s: environment reads that cannot be checked:\n%v", f.LogicalID, err)
			}
			declared := tpl.EnvVars(f.LogicalID)
			read := map[string]bool{}
			for _, r := range reads {
				read[r.Name] = true
				if reservedEnv(r.Name) {
					continue
				}
				if _, ok := declared[r.Name]; !ok {
					t.Errorf("%s: code reads %s (%s) but template.yaml does not declare it in Environment.Variables", f.LogicalID, r.Name, r.Pos)
				}
			}
			for name := range declared {
				if !reservedEnv(name) && !read[name] {
					t.Errorf("%s: template.yaml declares %s but no code of ./%s reads it (stale variable)", f.LogicalID, name, f.CodeUri)
				}
			}
		})
	}
}

// designRow is one row of the Names table in docs/design.md.
type designRow struct {
	codeURI string
	env     []string
}

func readDesignNames(t *testing.T) map[string]designRow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\|\\s*(\\w+Function)\\s*\\|\\s*(functions/\\w+)\\s*\\|([^|]*)\\|")
	out := map[string]designRow{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var env []string
		for _, v := range strings.Split(m[3], ",") {
			if v = strings.TrimSpace(v); v != "" {
				env = append(env, v)
			}
		}
		slices.Sort(env)
		out[m[1]] = designRow{codeURI: m[2], env: env}
	}
	if len(out) == 0 {
		t.Fatal("docs/design.md: no rows found in the Names table (| Logical Function | functions/x | VARS |)")
	}
	return out
}

func TestTemplateMatchesDesign(t *testing.T) {
	tpl := loadTemplate(t)
	design := readDesignNames(t)
	fns := map[string]templatecheck.Function{}
	for _, f := range tpl.Functions() {
		fns[f.LogicalID] = f
		if _, ok := design[f.LogicalID]; !ok {
			t.Errorf("template function %s is not in the Names table of docs/design.md", f.LogicalID)
		}
	}
	for id, want := range design {
		f, ok := fns[id]
		if !ok {
			t.Errorf("docs/design.md names %s, template.yaml does not declare it", id)
			continue
		}
		if f.CodeUri != want.codeURI {
			t.Errorf("%s: CodeUri = %q, docs/design.md says %q", id, f.CodeUri, want.codeURI)
		}
		var got []string
		for name := range tpl.EnvVars(id) {
			if !reservedEnv(name) {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want.env) {
			t.Errorf("%s: declared variables %v, docs/design.md says %v", id, got, want.env)
		}
	}
}

func TestGlobalsAndBuildMetadata(t *testing.T) {
	tpl := loadTemplate(t)
	want := map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Tracing": "Active"}
	for k, v := range want {
		if got, _ := templatecheck.Lookup(tpl.Globals, "Function", k); got != v {
			t.Errorf("Globals.Function.%s = %v, want %v", k, got, v)
		}
	}
	if got, _ := templatecheck.Lookup(tpl.Globals, "Function", "LoggingConfig", "LogFormat"); got != "JSON" {
		t.Errorf("Globals.Function.LoggingConfig.LogFormat = %v, want JSON", got)
	}
	if _, ok := templatecheck.Lookup(tpl.Globals, "Function", "Architectures"); !ok {
		t.Error("Globals.Function.Architectures is missing")
	}
	for _, f := range tpl.Functions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			for k, v := range map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap"} {
				if got, _ := tpl.FunctionProperty(f.LogicalID, k); got != v {
					t.Errorf("%s: %s = %v, want %v", f.LogicalID, k, got, v)
				}
			}
			goarch(t, tpl, f.LogicalID)
			if bm := f.Resource.Metadata["BuildMethod"]; bm != "go1.x" && bm != "makefile" {
				t.Errorf("%s: Metadata.BuildMethod = %v, want go1.x (or makefile)", f.LogicalID, bm)
			}
			for name := range tpl.EnvVars(f.LogicalID) {
				if slices.Contains(lambdaReserved, name) {
					t.Errorf("%s: declares %s, which Lambda sets itself (reserved, or derived from LoggingConfig)", f.LogicalID, name)
				}
			}
			if _, ok := f.Resource.Properties["Role"]; ok {
				t.Errorf("%s: has a Role: SAM then ignores Policies and adds no event-source permissions", f.LogicalID)
			}
		})
	}
}
