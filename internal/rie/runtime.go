package rie

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

const (
	// DefaultTimeout is Lambda's default function timeout, used when Function.Timeout is zero.
	DefaultTimeout = 3 * time.Second
	// DefaultMemoryMB is Lambda's default memory size, used when Function.MemoryMB is zero.
	DefaultMemoryMB = 128
	// DefaultRegion is the region a function runs in when its Env names none.
	DefaultRegion = "us-east-1"

	// lambdaPath is the PATH Lambda gives a function.
	lambdaPath = "/usr/local/bin:/usr/bin:/bin:/opt/bin"

	startTimeout  = 15 * time.Second       // until both of the emulator's ports accept connections
	probeInterval = 25 * time.Millisecond  // between readiness checks
	dialTimeout   = 500 * time.Millisecond // one readiness check
	portAttempts  = 3                      // starts on picked ports
	stopGrace     = 3 * time.Second        // SIGTERM to SIGKILL
	killWait      = 5 * time.Second        // SIGKILL to giving up
	waitDelay     = 2 * time.Second        // output drain after exit
)

// errPortTaken marks a start that failed because another process took one of the ports.
var errPortTaken = errors.New("address already in use")

// Function is a Lambda function to run under the emulator.
type Function struct {
	// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME). Required.
	Name string
	// Bootstrap is the path of the function's executable, as BuildFunction builds it. Required.
	// The function runs in its directory, which is also LAMBDA_TASK_ROOT.
	Bootstrap string
	// Emulator is the path of aws-lambda-rie, as BuildEmulator builds it; when empty it is
	// looked up on PATH.
	Emulator string
	// Env is the function's environment: the template's variables with any overrides, endpoints
	// (AWS_ENDPOINT_URL_*) and credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
	// AWS_SESSION_TOKEN). Nothing else of this process's environment reaches the function.
	Env map[string]string
	// LogOutput receives every line the emulator and the function write, as they write it; nil
	// discards them. Write errors are ignored.
	LogOutput io.Writer
	// Port is the loopback port of the invoke endpoint; 0 picks a free one.
	Port int
	// Timeout is the function's timeout, rounded up to whole seconds; 0 means DefaultTimeout.
	Timeout time.Duration
	// MemoryMB is the function's memory size (reported only: the emulator enforces no limit);
	// 0 means DefaultMemoryMB.
	MemoryMB int
}

// Runtime is a function running under its own emulator process. Its methods are safe for
// concurrent use; invocations run one at a time.
type Runtime struct {
	name    string
	port    int
	timeout time.Duration
	cmd     *exec.Cmd
	logs    *logSink
	out     *lineWriter
	client  *http.Client

	sem     chan struct{} // held by the invocation the emulator is serving
	exited  chan struct{} // closed once the emulator has been reaped
	exitErr error         // cmd.Wait's result, set before exited is closed

	stopCtx  context.Context // canceled by Stop: ends an invocation in flight
	cancel   context.CancelFunc
	stopOnce sync.Once
	stopErr  error
}

// Start runs f's bootstrap under aws-lambda-rie on loopback and waits (bounded, and by ctx) until
// the emulator accepts connections. The emulator starts the bootstrap itself, on the first
// invocation.
//
// The emulator (and so the function, which inherits it) gets only f.Env and the variables Lambda
// sets: AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_TIMEOUT
// and AWS_LAMBDA_FUNCTION_VERSION (from f, whatever f.Env says), AWS_REGION and
// AWS_DEFAULT_REGION (from f.Env, one from the other, or DefaultRegion), and, unless f.Env sets
// them, PATH, LAMBDA_TASK_ROOT, TZ and LANG as Lambda sets them.
//
// The emulator runs in a new session; Stop ends it and every process it started.
func Start(ctx context.Context, f Function) (*Runtime, error) {
	if !supported {
		return nil, fmt.Errorf("start %s under %s: %w: the emulator runs on Linux only", f.Name, EmulatorName, errors.ErrUnsupported)
	}
	exe, boot, err := f.check()
	if err != nil {
		return nil, fmt.Errorf("start %s under %s: %w", f.Name, EmulatorName, err)
	}
	for attempt := 1; ; attempt++ {
		port, apiPort, err := pickPorts(f.Port)
		if err != nil {
			return nil, fmt.Errorf("start %s under %s: %w", f.Name, EmulatorName, err)
		}
		rt, err := launch(ctx, f, exe, boot, port, apiPort)
		if err == nil {
			return rt, nil
		}
		if attempt == portAttempts || !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			return nil, err
		}
	}
}

// check validates f and returns the emulator's and the bootstrap's absolute paths.
func (f Function) check() (emulator, bootstrap string, err error) {
	if f.Name == "" {
		return "", "", errors.New("the function has no name")
	}
	if f.Bootstrap == "" {
		return "", "", errors.New("no bootstrap given")
	}
	if bootstrap, err = filepath.Abs(f.Bootstrap); err != nil {
		return "", "", err
	}
	if st, err := os.Stat(bootstrap); err != nil {
		return "", "", fmt.Errorf("bootstrap: %w", err)
	} else if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return "", "", fmt.Errorf("bootstrap %s is not an executable file", bootstrap)
	}
	emulator = f.Emulator
	if emulator == "" {
		emulator = EmulatorName
	}
	if emulator, err = exec.LookPath(emulator); err != nil {
		return "", "", fmt.Errorf("%w (build it with BuildEmulator)", err)
	}
	if emulator, err = filepath.Abs(emulator); err != nil {
		return "", "", err
	}
	if _, set := f.Env["AWS_LAMBDA_MAX_CONCURRENCY"]; set {
		// It switches aws-lambda-rie to its managed-instances mode, which takes other flags.
		return "", "", errors.New("AWS_LAMBDA_MAX_CONCURRENCY is not supported")
	}
	if f.Port < 0 || f.Port > 65535 || f.Timeout < 0 || f.MemoryMB < 0 {
		return "", "", fmt.Errorf("invalid port %d, timeout %s or memory %d MB", f.Port, f.Timeout, f.MemoryMB)
	}
	return emulator, bootstrap, nil
}

// launch starts the emulator on the given ports and waits until it accepts connections.
func launch(ctx context.Context, f Function, exe, boot string, port, apiPort int) (*Runtime, error) {
	timeout := f.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	seconds := int((timeout + time.Second - 1) / time.Second)
	logs := newLogSink(f.LogOutput)
	cmd := exec.Command(exe,
		"--runtime-interface-emulator-address="+loopback(port),
		"--runtime-api-address="+loopback(apiPort),
		boot)
	cmd.Dir = filepath.Dir(boot)
	cmd.Env = environment(f, filepath.Dir(boot), seconds)
	// One pipe for both streams keeps the emulator's lines in the order it wrote them: its INIT
	// REPORT (stderr) before the REPORT of the same invocation (stdout).
	out := logs.stream()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s under %s: %w", f.Name, EmulatorName, err)
	}
	stopCtx, cancel := context.WithCancel(context.Background())
	rt := &Runtime{
		name:    f.Name,
		port:    port,
		timeout: time.Duration(seconds) * time.Second,
		cmd:     cmd,
		logs:    logs,
		out:     out,
		client:  &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute}},
		sem:     make(chan struct{}, 1),
		exited:  make(chan struct{}),
		stopCtx: stopCtx,
		cancel:  cancel,
	}
	go rt.reap()
	if err := rt.awaitReady(ctx, apiPort); err != nil {
		err = fmt.Errorf("start %s under %s on port %d (pid %d): %w\n--- last output ---\n%s",
			f.Name, EmulatorName, port, rt.PID(), err, rt.Output())
		return nil, errors.Join(err, rt.Stop())
	}
	return rt, nil
}

// environment returns the emulator's environment, which it passes on to the function.
func environment(f Function, taskRoot string, timeoutSeconds int) []string {
	env := map[string]string{
		"PATH":             lambdaPath,
		"LAMBDA_TASK_ROOT": taskRoot,
		"TZ":               ":UTC",
		"LANG":             "en_US.UTF-8",
	}
	for k, v := range f.Env {
		env[k] = v
	}
	region := f.Env["AWS_REGION"]
	if region == "" {
		region = f.Env["AWS_DEFAULT_REGION"]
	}
	if region == "" {
		region = DefaultRegion
	}
	if env["AWS_REGION"] == "" {
		env["AWS_REGION"] = region
	}
	if env["AWS_DEFAULT_REGION"] == "" {
		env["AWS_DEFAULT_REGION"] = region
	}
	memory := f.MemoryMB
	if memory == 0 {
		memory = DefaultMemoryMB
	}
	env["AWS_LAMBDA_FUNCTION_NAME"] = f.Name
	env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(memory)
	env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(timeoutSeconds)
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// Name returns the function's name.
func (r *Runtime) Name() string { return r.name }

// Port returns the loopback port of the invoke endpoint.
func (r *Runtime) Port() int { return r.port }

// Endpoint returns the emulator's base URL, http://127.0.0.1:PORT.
func (r *Runtime) Endpoint() string { return "http://" + loopback(r.port) }

// PID returns the emulator's process id, which is also the id of its process group and session.
func (r *Runtime) PID() int { return r.cmd.Process.Pid }

// Output returns the last lines the emulator and the function wrote.
func (r *Runtime) Output() string { return r.logs.output() }

// InitDuration returns the Init Duration of the emulator's first REPORT line, or 0 before the
// first invocation. The emulator measures only how long it took to hand the init to its sandbox
// (well under a millisecond); RuntimeInitDuration measures the bootstrap's init.
func (r *Runtime) InitDuration() time.Duration {
	r.logs.mu.Lock()
	defer r.logs.mu.Unlock()
	return r.logs.first.InitDuration
}

// RuntimeInitDuration returns how long the bootstrap took, the first time it started, from its
// start until it asked for its first event, as the emulator logs it ("INIT REPORT(durationMs:
// …)"); 0 before the first invocation.
func (r *Runtime) RuntimeInitDuration() time.Duration {
	r.logs.mu.Lock()
	defer r.logs.mu.Unlock()
	return r.logs.runtimeInit
}

// Inits returns how many times the emulator has started the bootstrap: once, plus once after
// every crash or timeout.
func (r *Runtime) Inits() int {
	r.logs.mu.Lock()
	defer r.logs.mu.Unlock()
	return r.logs.inits
}

// LastReport returns the latest REPORT line's figures; ok is false before the first one.
// The emulator writes no REPORT for an invocation during which the runtime crashed.
func (r *Runtime) LastReport() (report Report, ok bool) {
	r.logs.mu.Lock()
	defer r.logs.mu.Unlock()
	return r.logs.last, r.logs.reports > 0
}

// LastDuration returns the Duration of the latest REPORT line, or 0 before the first one.
func (r *Runtime) LastDuration() time.Duration {
	rep, _ := r.LastReport()
	return rep.Duration
}
