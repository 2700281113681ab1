package rie_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-event-processor/go-event-processor/internal/rie"
	"github.com/go-event-processor/go-event-processor/internal/syncbuf"
)

// envSkip, set to 1, skips the tests that run the emulator (as it skips every emulator test).
const envSkip = "GEP_SKIP_EMULATORS"

var (
	buildDir  string
	buildOnce sync.Once
	emulator  string
	probe     string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// moduleRoot returns the directory of the go.mod above the working directory.
func moduleRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// built returns the emulator and the probe function (testdata/probe), built once per test binary.
func built(tb testing.TB) (emulatorPath, probePath string) {
	tb.Helper()
	if os.Getenv(envSkip) == "1" {
		tb.Skipf("%s=1: skipping a test that runs %s", envSkip, rie.EmulatorName)
	}
	buildOnce.Do(func() {
		root := moduleRoot(tb)
		if buildDir, buildErr = os.MkdirTemp("", "rie-test-"); buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		var errEmu, errProbe error
		wg.Go(func() { emulator, errEmu = rie.BuildEmulator(ctx, root, buildDir) })
		wg.Go(func() { probe, errProbe = rie.BuildFunction(ctx, root, "internal/rie/testdata/probe", buildDir) })
		wg.Wait()
		buildErr = errors.Join(errEmu, errProbe)
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return emulator, probe
}

// start runs the probe under the emulator; it is stopped when the test ends.
func start(t *testing.T, f rie.Function) (*rie.Runtime, *syncbuf.Buffer) {
	t.Helper()
	emu, boot := built(t)
	logs := &syncbuf.Buffer{}
	if f.Name == "" {
		f.Name = "probe"
	}
	f.Emulator, f.Bootstrap, f.LogOutput = emu, boot, logs
	rt, err := rie.Start(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", f.Name, logs.String())
		}
	})
	return rt, logs
}

// probeRequest is what the probe function does (see testdata/probe).
type probeRequest struct {
	Echo    string   `json:"echo,omitempty"`
	Fail    string   `json:"fail,omitempty"`
	Panic   string   `json:"panic,omitempty"`
	Exit    int      `json:"exit,omitempty"`
	SleepMS int      `json:"sleepMs,omitempty"`
	Env     []string `json:"env,omitempty"`
	Log     string   `json:"log,omitempty"`
}

type probeResponse struct {
	Echo string             `json:"echo"`
	Env  map[string]*string `json:"env"`
}

func call(ctx context.Context, rt *rie.Runtime, req probeRequest) (probeResponse, error) {
	payload, _ := json.Marshal(req)
	out, err := rt.Invoke(ctx, payload)
	if err != nil {
		return probeResponse{}, err
	}
	var resp probeResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return probeResponse{}, fmt.Errorf("decode %q: %w", out, err)
	}
	return resp, nil
}

func TestInvokeEnvironmentAndReports(t *testing.T) {
	t.Setenv("GEP_RIE_PARENT_ONLY", "set in the test process")
	rt, logs := start(t, rie.Function{Name: "probe-env", Timeout: 2500 * time.Millisecond, MemoryMB: 256, Env: map[string]string{
		"TABLE_NAME": "events", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "secret",
	}})
	if rt.InitDuration() != 0 || rt.RuntimeInitDuration() != 0 {
		t.Errorf("init durations before the first invocation: %s, %s", rt.InitDuration(), rt.RuntimeInitDuration())
	}
	names := []string{"TABLE_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_RUNTIME_API",
		"LAMBDA_TASK_ROOT", "GEP_RIE_PARENT_ONLY", "HOME", "GOFLAGS"}
	resp, err := call(t.Context(), rt, probeRequest{Echo: "hello", Env: names, Log: "a line from the function"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"TABLE_NAME": "events", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "local",
		"AWS_SECRET_ACCESS_KEY": "secret", "AWS_LAMBDA_FUNCTION_NAME": "probe-env", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT": "3", "LAMBDA_TASK_ROOT": filepath.Dir(probe),
	}
	for _, k := range names {
		got := resp.Env[k]
		switch w, ok := want[k]; {
		case k == "AWS_LAMBDA_RUNTIME_API":
			if got == nil || !strings.HasPrefix(*got, "127.0.0.1:") {
				t.Errorf("%s = %v, want the emulator's loopback address", k, got)
			}
		case ok && (got == nil || *got != w):
			t.Errorf("%s = %v, want %q", k, strOrNil(got), w)
		case !ok && got != nil:
			t.Errorf("%s = %q reached the function; only the function's environment should", k, *got)
		}
	}
	if resp.Echo != "hello" {
		t.Errorf("echo = %q", resp.Echo)
	}
	first, ok := rt.LastReport()
	if !ok || first.RequestID == "" || first.Duration <= 0 || first.BilledDuration < first.Duration {
		t.Errorf("first REPORT = %+v, %t", first, ok)
	}
	if rt.InitDuration() <= 0 || rt.InitDuration() != first.InitDuration || rt.RuntimeInitDuration() <= 0 || rt.Inits() != 1 {
		t.Errorf("InitDuration %s, RuntimeInitDuration %s, Inits %d after the first invocation", rt.InitDuration(), rt.RuntimeInitDuration(), rt.Inits())
	}
	if _, err := call(t.Context(), rt, probeRequest{Echo: "again"}); err != nil {
		t.Fatal(err)
	}
	second, _ := rt.LastReport()
	if second.RequestID == first.RequestID || second.InitDuration != 0 || rt.LastDuration() != second.Duration {
		t.Errorf("second REPORT = %+v (first %+v)", second, first)
	}
	if rt.InitDuration() != first.InitDuration {
		t.Errorf("InitDuration changed to %s after the second invocation", rt.InitDuration())
	}
	for _, s := range []string{"a line from the function\n", "REPORT RequestId: " + first.RequestID, "REPORT RequestId: " + second.RequestID} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("LogOutput lacks %q", s)
		}
	}
	t.Logf("REPORT Init Duration %s, runtime init %s, durations %s then %s", rt.InitDuration(), rt.RuntimeInitDuration(), first.Duration, second.Duration)
}

func strOrNil(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestFunctionErrors(t *testing.T) {
	rt, _ := start(t, rie.Function{Timeout: time.Second})
	if _, err := call(t.Context(), rt, probeRequest{}); err != nil { // init
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		req      probeRequest
		wantType string
		wantMsg  string
		reinit   bool // the emulator starts the bootstrap again afterwards
	}{
		{"returned error", probeRequest{Fail: "boom"}, "errorString", "boom", false},
		{"panic", probeRequest{Panic: "aargh"}, "string", "aargh", true},
		{"exit", probeRequest{Exit: 3}, "Runtime.ExitError", "exit status 3", true},
		{"timeout", probeRequest{SleepMS: 3000}, "Sandbox.Timedout", "Task timed out after 1.00 seconds", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inits := rt.Inits()
			_, err := call(t.Context(), rt, tt.req)
			var fe *rie.FunctionError
			if !errors.As(err, &fe) || fe.Type != tt.wantType || !strings.Contains(fe.Message, tt.wantMsg) || fe.Function != "probe" {
				t.Fatalf("error = %v (%+v); want a FunctionError %s containing %q", err, fe, tt.wantType, tt.wantMsg)
			}
			if _, err := call(t.Context(), rt, probeRequest{Echo: "still there"}); err != nil {
				t.Fatalf("invocation after the error: %v", err)
			}
			if got := rt.Inits() - inits; (got > 0) != tt.reinit {
				t.Errorf("bootstrap started %d more times, want a restart: %t", got, tt.reinit)
			}
		})
	}
}

func TestInvocationsAreSerialized(t *testing.T) {
	rt, _ := start(t, rie.Function{})
	if _, err := call(t.Context(), rt, probeRequest{}); err != nil { // init
		t.Fatal(err)
	}
	const n, sleep = 6, 50
	begin := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			resp, err := call(t.Context(), rt, probeRequest{Echo: fmt.Sprint(i), SleepMS: sleep})
			if err == nil && resp.Echo != fmt.Sprint(i) {
				err = fmt.Errorf("echo %q, want %d", resp.Echo, i)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < n*sleep*time.Millisecond {
		t.Errorf("%d invocations of %d ms took %s: they overlapped", n, sleep, d)
	}
}

func TestCallerGivingUpKeepsOrder(t *testing.T) {
	rt, _ := start(t, rie.Function{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err := call(ctx, rt, probeRequest{SleepMS: 400})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) > 300*time.Millisecond {
		t.Fatalf("invoke with a 50 ms deadline: %v after %s", err, time.Since(begin))
	}
	// The emulator is still busy with it: the next invocation waits instead of crashing it.
	resp, err := call(t.Context(), rt, probeRequest{Echo: "next"})
	if err != nil || resp.Echo != "next" {
		t.Fatalf("next invocation: %+v, %v", resp, err)
	}
	if time.Since(begin) < 400*time.Millisecond {
		t.Errorf("next invocation finished %s after the first began, before the first could end", time.Since(begin))
	}
}

func TestStopEndsEveryProcess(t *testing.T) {
	rt, _ := start(t, rie.Function{Name: "probe-stop"})
	if _, err := call(t.Context(), rt, probeRequest{}); err != nil { // starts the bootstrap
		t.Fatal(err)
	}
	if n := running(t, probe); n == 0 {
		t.Fatal("no bootstrap process running after an invocation")
	}
	begin := time.Now()
	if err := rt.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %s", time.Since(begin))
	if n := running(t, probe); n != 0 {
		t.Errorf("%d bootstrap processes left after Stop", n)
	}
	if err := rt.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := rt.Invoke(t.Context(), []byte(`{}`)); !errors.Is(err, rie.ErrStopped) {
		t.Errorf("Invoke after Stop: %v, want ErrStopped", err)
	}
}

// running counts the live processes whose executable is exe (Linux: /proc/PID/exe).
func running(t *testing.T, exe string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	n := 0
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && target == exe {
			if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && !strings.Contains(string(stat), ") Z ") {
				n++
			}
		}
	}
	return n
}

func TestStartFailures(t *testing.T) {
	emu, boot := built(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name string
		f    rie.Function
		want string
	}{
		{"no name", rie.Function{Bootstrap: boot, Emulator: emu}, "no name"},
		{"no bootstrap", rie.Function{Name: "f", Bootstrap: filepath.Join(t.TempDir(), "bootstrap"), Emulator: emu}, "no such file"},
		{"no emulator", rie.Function{Name: "f", Bootstrap: boot, Emulator: filepath.Join(t.TempDir(), "aws-lambda-rie")}, "BuildEmulator"},
		{"port taken", rie.Function{Name: "f", Bootstrap: boot, Emulator: emu, Port: taken}, fmt.Sprintf("port %d is not available", taken)},
		{"managed instances", rie.Function{Name: "f", Bootstrap: boot, Emulator: emu, Env: map[string]string{"AWS_LAMBDA_MAX_CONCURRENCY": "4"}}, "not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := rie.Start(t.Context(), tt.f)
			if err == nil {
				rt.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestBuildFunctionReportsCompilerOutput(t *testing.T) {
	if os.Getenv(envSkip) == "1" {
		t.Skipf("%s=1", envSkip)
	}
	_, err := rie.BuildFunction(t.Context(), moduleRoot(t), "internal/rie/testdata/missing", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "testdata/missing") || !strings.Contains(err.Error(), "go build") {
		t.Errorf("BuildFunction of a missing directory: %v", err)
	}
}
