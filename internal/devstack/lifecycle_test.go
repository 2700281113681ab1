package devstack_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
)

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// fakeLocalUp starts a process whose command line reads like `eventctl local up` (sh -c SCRIPT
// local up: sh's arguments end in "local up"), running script; the test reaps it.
func fakeLocalUp(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	// The trailing ":" keeps the shell itself running, with "local up" in its arguments: a shell may
	// otherwise exec a lone command in its place (dash does), and the pid would be another program.
	cmd := exec.Command("sh", "-c", script+"\n:", "local", "up")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	return cmd
}

// counting is an HTTP endpoint that counts the requests it answers.
func counting(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n.Add(1)
		http.Error(w, "not here", http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func writeState(t *testing.T, dir string, st devstack.State) {
	t.Helper()
	if err := devstack.WriteStateFile(dir, st); err != nil {
		t.Fatal(err)
	}
}

// TestCheckStaleState: a state file whose pid is gone (a stack killed with kill -9) is reported
// as not running at once, without one request to the endpoints it names.
func TestCheckStaleState(t *testing.T) {
	dir := t.TempDir()
	srv, requests := counting(t)
	pid := deadPID(t)
	writeState(t, dir, devstack.State{PID: pid, KinesisEndpoint: srv.URL, DynamoDBEndpoint: srv.URL, LambdaEndpoint: srv.URL})
	_, err := devstack.Check(t.Context(), dir)
	var down *devstack.NotRunningError
	if !errors.As(err, &down) || !errors.Is(err, devstack.ErrNotRunning) || !down.Stale() || down.PID != pid {
		t.Fatalf("Check = %v, want a stale NotRunningError naming pid %d", err, pid)
	}
	for _, want := range []string{"no local stack is running in " + dir, "is gone"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests to the endpoints of a dead stack, want none", n)
	}
}

func TestCheckNoState(t *testing.T) {
	dir := t.TempDir()
	_, err := devstack.Check(t.Context(), dir)
	var down *devstack.NotRunningError
	if !errors.As(err, &down) || down.Stale() {
		t.Fatalf("Check = %v, want a NotRunningError without a pid", err)
	}
}

// TestCheckPIDReused: a state file whose pid now runs another program is stale too.
func TestCheckPIDReused(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("no /proc: the program behind a pid is not known here")
	}
	dir := t.TempDir()
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	writeState(t, dir, devstack.State{PID: other.Process.Pid})
	_, err := devstack.Check(t.Context(), dir)
	var down *devstack.NotRunningError
	if !errors.As(err, &down) || !down.Stale() || !strings.Contains(err.Error(), "another program") {
		t.Fatalf("Check = %v, want a stale NotRunningError: the pid is another program", err)
	}
}

// TestCheckEndpoints: a live stack whose endpoints answer is running, with one request each; one
// whose endpoint does not answer is named.
func TestCheckEndpoints(t *testing.T) {
	dir := t.TempDir()
	up := fakeLocalUp(t, "sleep 30")
	srv, requests := counting(t)
	st := devstack.State{PID: up.Process.Pid, KinesisEndpoint: srv.URL, DynamoDBEndpoint: srv.URL, LambdaEndpoint: srv.URL,
		APIEndpoints: map[string]string{"QueryApi": srv.URL}}
	writeState(t, dir, st)
	if _, err := devstack.Check(t.Context(), dir); err != nil {
		t.Fatalf("Check of a running stack: %v", err)
	}
	if n := requests.Load(); n != 4 {
		t.Errorf("%d requests, want one to each of the 4 endpoints", n)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	st.KinesisEndpoint = closed.URL
	writeState(t, dir, st)
	_, err := devstack.Check(t.Context(), dir)
	var dead *devstack.EndpointError
	if !errors.As(err, &dead) || dead.Endpoint.Name != "Kinesis" || !strings.Contains(err.Error(), closed.URL+" does not answer") {
		t.Fatalf("Check = %v, want an EndpointError naming Kinesis at %s", err, closed.URL)
	}
}

// TestTerminate: SIGTERM ends a stack that handles it; one that ignores it is killed after the
// grace period, and so is every process group it recorded; the state file goes.
func TestTerminate(t *testing.T) {
	t.Run("sigterm", func(t *testing.T) {
		dir := t.TempDir()
		up := fakeLocalUp(t, "sleep 30")
		writeState(t, dir, devstack.State{PID: up.Process.Pid})
		if err := devstack.Terminate(dir, devstack.State{PID: up.Process.Pid}, 10*time.Second, time.Second, func(s string) { t.Log(s) }); err != nil {
			t.Fatal(err)
		}
		if devstack.ProcessAlive(up.Process.Pid) {
			t.Error("the stack still runs")
		}
		if _, err := os.Stat(devstack.StatePath(dir)); !os.IsNotExist(err) {
			t.Errorf("state file still there: %v", err)
		}
	})
	t.Run("sigkill", func(t *testing.T) {
		dir := t.TempDir()
		up := fakeLocalUp(t, `trap "" TERM; while :; do sleep 0.1; done`)
		child := exec.Command("sleep", "30")
		child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
		time.Sleep(100 * time.Millisecond) // the trap is set
		st := devstack.State{PID: up.Process.Pid, Processes: []devstack.ProcessInfo{{Name: "emulator", PID: child.Process.Pid}}}
		writeState(t, dir, st)
		var said []string
		if err := devstack.Terminate(dir, st, 300*time.Millisecond, 2*time.Second, func(s string) { said = append(said, s) }); err != nil {
			t.Fatal(err)
		}
		for _, pid := range []int{up.Process.Pid, child.Process.Pid} {
			if devstack.ProcessAlive(pid) {
				t.Errorf("pid %d still runs", pid)
			}
		}
		if len(said) == 0 || !strings.Contains(said[0], "SIGKILL") {
			t.Errorf("Terminate said %q, want the SIGKILL named", said)
		}
		if _, err := os.Stat(devstack.StatePath(dir)); !os.IsNotExist(err) {
			t.Errorf("state file still there: %v", err)
		}
	})
}

// TestStateFileRoundTrip: what WriteStateFile records, ReadState reads, and RemoveStateOf leaves
// a state file that names another pid alone.
func TestStateFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := devstack.State{PID: 42, KinesisEndpoint: "http://127.0.0.1:1", Streams: []string{"EventStream"},
		Processes: []devstack.ProcessInfo{{Name: "kinesalite", PID: 43}}, Output: "/x/local-up.log"}
	writeState(t, dir, want)
	got, err := devstack.ReadState(dir)
	if err != nil || got.PID != 42 || got.Processes[0].PID != 43 || got.Output != want.Output || got.Streams[0] != "EventStream" {
		t.Fatalf("ReadState = %+v, %v", got, err)
	}
	devstack.RemoveStateOf(dir, 7)
	if _, err := devstack.ReadState(dir); err != nil {
		t.Fatalf("RemoveStateOf another pid removed the state: %v", err)
	}
	devstack.RemoveStateOf(dir, 42)
	if _, err := devstack.ReadState(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state after RemoveStateOf its pid: %v", err)
	}
}
