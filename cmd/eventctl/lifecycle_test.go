package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

// outsideTools is a tools directory that is not a clone of the repository but holds the
// repository's emulators (linked), so that eventctl run from it works as one installed with
// go install would: the built-in template, api keys and samples.
func outsideTools(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	for _, p := range []string{"node_modules/kinesalite/cli.js", ".cache/dynamodb-local/DynamoDBLocal.jar"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Skipf("the emulators are not installed in the repository (make tools): %v", err)
		}
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"node_modules", ".cache/dynamodb-local"} {
		if err := os.Symlink(filepath.Join(root, p), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// parseExports reads `export K=V` lines; any other line but a comment fails the test.
func parseExports(t *testing.T, out string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		kv, ok := strings.CutPrefix(line, "export ")
		k, v, ok2 := strings.Cut(kv, "=")
		if !ok || !ok2 {
			t.Fatalf("not an export line: %q in\n%s", line, out)
		}
		env[k] = strings.Trim(v, "'")
	}
	return env
}

// TestLocalLifecycle: `local up -d` returns once the stack is ready and prints its exports;
// `local status` says it runs (0); `local env` prints only the exports; send and logs reach it;
// `local down` stops it and everything it started; `local status` then says it does not run (1).
// eventctl runs outside the repository, as when installed with go install.
func TestLocalLifecycle(t *testing.T) {
	bin := buildEventctl(t)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	env := []string{emulators.EnvToolsDir + "=" + outsideTools(t)}
	t.Cleanup(func() { // a failed test leaves nothing running
		if st, err := devstack.ReadState(data); err == nil {
			_ = devstack.Terminate(data, st, 10*time.Second, 5*time.Second, nil)
		}
	})

	up := cli(t, bin, work, env, "local", "up", "-d", "--data-dir", data)
	if up.code != 0 {
		t.Fatalf("local up -d: exit %d\n%s\n%s", up.code, up.stdout, up.stderr)
	}
	st, err := devstack.ReadState(data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(up.stdout, "pid "+strconv.Itoa(st.PID)) {
		t.Errorf("local up -d does not print the pid %d:\n%s", st.PID, up.stdout)
	}
	if !strings.Contains(st.Template, devstack.BuiltIn) {
		t.Errorf("outside the repository the stack runs %s, want the built-in template", st.Template)
	}
	printed := parseExports(t, up.stdout)
	if printed["AWS_DEFAULT_REGION"] != "us-east-1" {
		t.Errorf("local up -d exports %v, want AWS_DEFAULT_REGION=us-east-1", printed)
	}

	status := cli(t, bin, work, env, "local", "status", "--data-dir", data)
	if status.code != 0 || !strings.Contains(status.stdout, "running: pid "+strconv.Itoa(st.PID)) || !strings.Contains(status.stdout, st.KinesisEndpoint) {
		t.Errorf("local status of a running stack: exit %d\n%s%s", status.code, status.stdout, status.stderr)
	}

	r := cli(t, bin, work, env, "local", "env", "--data-dir", data)
	if r.code != 0 {
		t.Fatalf("local env: exit %d\n%s", r.code, r.stderr)
	}
	exports := parseExports(t, r.stdout)
	for k, want := range map[string]string{
		"AWS_ENDPOINT_URL_KINESIS": st.KinesisEndpoint, "AWS_ENDPOINT_URL_DYNAMODB": st.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_LAMBDA": st.LambdaEndpoint, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", envDataDir: data,
	} {
		if exports[k] != want {
			t.Errorf("local env: %s=%q, want %q", k, exports[k], want)
		}
	}
	if strings.Contains(r.stdout, "#") {
		t.Errorf("local env prints more than export lines:\n%s", r.stdout)
	}

	// The exports reach the stack: send --raw of lines that are not events, which the pipeline
	// quarantines.
	var shell []string
	for k, v := range exports {
		shell = append(shell, k+"="+v)
	}
	notes := filepath.Join(work, "notes.md")
	if err := os.WriteFile(notes, []byte("# not an event\n\nnor this\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, bin, work, append(env, shell...), "send", notes); r.code != 1 || !strings.Contains(r.stderr, "notes.md:1:") {
		t.Errorf("send of Markdown: exit %d, want a refusal naming notes.md:1\n%s", r.code, r.stderr)
	}
	r = cli(t, bin, work, append(env, shell...), "send", "--raw", notes)
	if r.code != 0 || !strings.Contains(r.stdout, "sent 2 of 2") || !strings.Contains(r.stderr, "target: local stack in "+data) {
		t.Fatalf("send --raw: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	db := emulators.DynamoDBClient(st.DynamoDBEndpoint)
	quarantined := 0
	waitFor(t, 60*time.Second, func() string { return fmt.Sprintf("%d of 2 records quarantined", quarantined) },
		func() bool { quarantined = count(t, db); return quarantined >= 2 })
	// The router logs a record as quarantined once all its quarantine items are written, a moment
	// after the record's own item is there to count.
	var logs result
	waitFor(t, 30*time.Second, func() string {
		return fmt.Sprintf("logs RouterFunction: exit %d, want one naming a quarantined record\n%.2000s%s", logs.code, logs.stdout, logs.stderr)
	}, func() bool {
		logs = cli(t, bin, work, env, "logs", "RouterFunction", "--data-dir", data)
		return logs.code == 0 && strings.Contains(logs.stdout, "quarantined")
	})

	pids := []int{st.PID}
	for _, p := range st.Processes {
		pids = append(pids, p.PID)
	}
	if len(st.Processes) < 2 {
		t.Errorf("the state file records %v, want both emulators", st.Processes)
	}
	down := cli(t, bin, work, env, "local", "down", "--data-dir", data)
	if down.code != 0 || !strings.Contains(down.stdout, "stopped") {
		t.Fatalf("local down: exit %d\n%s%s", down.code, down.stdout, down.stderr)
	}
	for _, pid := range pids {
		if devstack.ProcessAlive(pid) {
			t.Errorf("pid %d of the stack still runs after local down", pid)
		}
	}
	if _, err := os.Stat(devstack.StatePath(data)); !os.IsNotExist(err) {
		t.Errorf("state file after local down: %v", err)
	}
	status = cli(t, bin, work, env, "local", "status", "--data-dir", data)
	if status.code != 1 || !strings.Contains(status.stdout, "not running") {
		t.Errorf("local status after local down: exit %d, want 1\n%s%s", status.code, status.stdout, status.stderr)
	}
	if r := cli(t, bin, work, env, "local", "down", "--data-dir", data); r.code != 0 {
		t.Errorf("a second local down: exit %d\n%s", r.code, r.stderr)
	}
}
