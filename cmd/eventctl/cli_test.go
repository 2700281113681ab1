package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
)

// buildCLI builds eventctl for a test that runs it as a user would and needs no emulator.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "eventctl")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build eventctl: %v\n%s", err, out)
	}
	return bin
}

// result is what a run of eventctl did.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs eventctl with args in dir (a temporary directory outside the repository when ""), with
// the environment cleaned of what points at a stack or a repository (AWS_*, GEP_DATA_DIR,
// GEP_TOOLS_DIR), the user cache in a temporary directory, plus env.
func cli(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "XDG_CACHE_HOME="+t.TempDir()) // no test reads or writes the user's cache
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("eventctl %s: %v", strings.Join(args, " "), err)
	}
	return result{code, stdout.String(), stderr.String()}
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), k == envDataDir, k == "XDG_CACHE_HOME", k == "GEP_TOOLS_DIR":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// TestExitCodes: unknown subcommands, bad arguments and negative counts fail with status 1 and
// say why; a group command without a subcommand prints its help. eventctl runs outside the
// repository: what needs a clone says so.
func TestExitCodes(t *testing.T) {
	bin := buildCLI(t)
	empty := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		want string // in stderr (stdout when the code is 0)
	}{
		{[]string{"query", "evnts", "acc-1"}, 1, `unknown command "evnts" for "eventctl query"`},
		{[]string{"local", "dwn"}, 1, `unknown command "dwn" for "eventctl local" (did you mean down?)`},
		{[]string{"frobnicate"}, 1, `unknown command "frobnicate"`},
		{[]string{"send", "--generate", "-5"}, 1, "--generate -5: want 0 or more"},
		{[]string{"send", "--rate", "-1", "--generate", "3"}, 1, "--rate -1: want 0 or more"},
		{[]string{"demo", "--events", "-1"}, 1, "--events -1: want 0 or more"},
		{[]string{"bench", "--events", "-1"}, 1, "--events -1: want 1 or more"},
		{[]string{"local", "up", "--kinesis-port", "-2"}, 1, "--kinesis-port -2"},
		{[]string{"local", "up", "extra"}, 1, `unknown command "extra"`},
		{[]string{"send", "--generate", "x"}, 1, `invalid argument "x"`},
		{[]string{"local"}, 0, "eventctl local up -d"},
		{[]string{"invoke", "RouterFunction", "-e", "kinesis.json"}, 1, "eventctl invoke needs a clone of the repository"},
		{[]string{"env-json", "--stack", "s"}, 1, "eventctl env-json needs a clone of the repository"},
		{[]string{"local", "status", "--data-dir", empty}, 1, ""},
		{[]string{"local", "env", "--data-dir", empty}, 1, "no local stack is running in " + empty},
		{[]string{"local", "down", "--data-dir", empty}, 0, "no local stack is running in " + empty},
	} {
		r := cli(t, bin, "", nil, tt.args...)
		out := r.stderr
		if tt.code == 0 {
			out = r.stdout
		}
		if r.code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("eventctl %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), r.code, tt.code, tt.want, r.stdout, r.stderr)
		}
	}
	if r := cli(t, bin, "", nil, "local", "env", "--data-dir", empty); r.stdout != "" {
		t.Errorf("local env without a stack printed %q on stdout: eval would run it", r.stdout)
	}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// fakeKinesis answers PutRecords as Kinesis does, keeping the records, and anything else with
// 400; it counts every request.
type fakeKinesis struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	records  [][]byte
}

func newFakeKinesis(t *testing.T) *fakeKinesis {
	f := &fakeKinesis{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".PutRecords") {
			http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
			return
		}
		var in struct{ Records []struct{ Data string } }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type entry struct{ SequenceNumber, ShardId string }
		out := struct {
			FailedRecordCount int
			Records           []entry
		}{}
		f.mu.Lock()
		for _, rec := range in.Records {
			b, _ := base64.StdEncoding.DecodeString(rec.Data)
			f.records = append(f.records, b)
			out.Records = append(out.Records, entry{"1", "shardId-000000000000"})
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(f.Close)
	return f
}

// awsEnv points the SDK at an endpoint with dummy credentials.
func awsEnv(endpoint string) []string {
	return []string{"AWS_ENDPOINT_URL_KINESIS=" + endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local"}
}

// TestSendValidates: send checks what it reads with the pipeline's rules and refuses bad input
// with file, line and reason, sending nothing; --raw sends the same records as they are.
func TestSendValidates(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.md")
	lines := []string{"# Notes", "", "Some *Markdown*, not events.", "- a list item"}
	if err := os.WriteFile(notes, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kinesis := newFakeKinesis(t)

	r := cli(t, bin, dir, awsEnv(kinesis.URL), "send", "notes.md")
	if r.code != 1 {
		t.Fatalf("send of Markdown: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"notes.md:1: not_json", "notes.md:3: not_json", "notes.md:4: not_json", "3 of 3 records", "nothing was sent", "--raw"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("send of Markdown: stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if n := kinesis.requests.Load(); n != 0 {
		t.Errorf("send of Markdown made %d requests, want none", n)
	}

	// One bad element in an array: its line, and nothing of the good ones sent either.
	arr := `[
  {"specversion": "1.0"},
` + "  " + sampleEvent(t) + `
]`
	if err := os.WriteFile(filepath.Join(dir, "two.json"), []byte(arr), 0o644); err != nil {
		t.Fatal(err)
	}
	r = cli(t, bin, dir, awsEnv(kinesis.URL), "send", "two.json")
	if r.code != 1 || !strings.Contains(r.stderr, "two.json:2: invalid") || !strings.Contains(r.stderr, "1 of 2 records") {
		t.Errorf("send of an array with one bad event: exit %d\n%s", r.code, r.stderr)
	}
	if n := kinesis.requests.Load(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}

	r = cli(t, bin, dir, awsEnv(kinesis.URL), "send", "--raw", "notes.md")
	if r.code != 0 || !strings.Contains(r.stdout, "sent 3 of 3 records") {
		t.Fatalf("send --raw of Markdown: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "target: AWS_ENDPOINT_URL_KINESIS="+kinesis.URL) {
		t.Errorf("send --raw did not name its target first:\n%s", r.stderr)
	}
	kinesis.mu.Lock()
	defer kinesis.mu.Unlock()
	want := []string{lines[0], lines[2], lines[3]}
	if len(kinesis.records) != len(want) {
		t.Fatalf("--raw put %d records, want %d", len(kinesis.records), len(want))
	}
	for i, rec := range kinesis.records {
		if string(rec) != want[i] {
			t.Errorf("record %d is %q, want the line as it is, %q", i, rec, want[i])
		}
	}
}

// sampleEvent is a valid event on one line: the first of the transaction sample.
func sampleEvent(t *testing.T) string {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "transaction", "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Records []struct{ Event json.RawMessage }
	}
	if err := json.Unmarshal(raw, &b); err != nil || len(b.Records) == 0 {
		t.Fatalf("transaction sample: %v", err)
	}
	var c bytes.Buffer
	_ = json.Compact(&c, b.Records[0].Event)
	return c.String()
}

// TestStackChecksAtOnce: with a stale state file (its pid gone, as after kill -9), every command
// that needs the stack says at once that it is not running and how to start it, without a request
// to the endpoints the file names; exported endpoints that do not answer are named; with no stack
// and nothing exported, send refuses rather than write to AWS.
func TestStackChecksAtOnce(t *testing.T) {
	bin := buildCLI(t)
	data := t.TempDir()
	kinesis := newFakeKinesis(t)
	stale := devstack.State{PID: deadPID(t), KinesisEndpoint: kinesis.URL, DynamoDBEndpoint: kinesis.URL, LambdaEndpoint: kinesis.URL,
		APIEndpoints: map[string]string{"QueryApi": kinesis.URL}, LogDir: t.TempDir()}
	for _, args := range [][]string{
		{"send", "--generate", "3", "--data-dir", data},
		{"query", "events", "acc-1", "--key", "k", "--data-dir", data},
		{"redrive", "--data-dir", data},
		{"logs", "-f", "--data-dir", data},
		{"local", "env", "--data-dir", data},
	} {
		if err := devstack.WriteStateFile(data, stale); err != nil {
			t.Fatal(err)
		}
		r := cli(t, bin, "", nil, args...)
		for _, want := range []string{"no local stack is running in " + data, "which is gone", "eventctl local up -d --data-dir " + data} {
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("eventctl %s: exit %d, want 1 saying %q:\n%s", strings.Join(args, " "), r.code, want, r.stderr)
			}
		}
	}
	if n := kinesis.requests.Load(); n != 0 {
		t.Errorf("%d requests to the endpoints of a stale state file, want none", n)
	}

	r := cli(t, bin, "", nil, "local", "status", "--data-dir", data)
	if r.code != 1 || !strings.Contains(r.stdout, "not running") || !strings.Contains(r.stdout, "state file removed") {
		t.Errorf("local status of a stale state file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(devstack.StatePath(data)); !os.IsNotExist(err) {
		t.Errorf("local status left the stale state file: %v", err)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	r = cli(t, bin, "", awsEnv(closed.URL), "send", "--generate", "3")
	if r.code != 1 || !strings.Contains(r.stderr, "AWS_ENDPOINT_URL_KINESIS="+closed.URL+" does not answer") {
		t.Errorf("send with a dead exported endpoint: exit %d\n%s", r.code, r.stderr)
	}

	r = cli(t, bin, "", []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret"}, "send", "--generate", "3")
	if r.code != 1 || !strings.Contains(r.stderr, "no local stack is running") || !strings.Contains(r.stderr, "send writes to AWS only with --aws") {
		t.Errorf("send with no stack, no exports and AWS credentials: exit %d, want a refusal\n%s", r.code, r.stderr)
	}
	r = cli(t, bin, "", []string{"GEP_DATA_DIR=" + data}, "send", "--aws", "--generate", "3")
	if r.code != 1 || !strings.Contains(r.stderr, "--aws sends to AWS, but GEP_DATA_DIR") {
		t.Errorf("send --aws with GEP_DATA_DIR: exit %d, want a refusal\n%s", r.code, r.stderr)
	}
}
