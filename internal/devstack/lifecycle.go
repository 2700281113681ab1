package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotRunning is wrapped by the errors of Check when no stack runs in the data directory.
var ErrNotRunning = errors.New("no local stack is running")

// NotRunningError says why no stack runs in a data directory: no state file, or a stale one.
type NotRunningError struct {
	Dir string
	PID int    // the pid a stale state file names; 0 when there is no state file
	Why string // why the recorded stack is not running
}

func (e *NotRunningError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("no local stack is running in %s", e.Dir)
	}
	return fmt.Sprintf("no local stack is running in %s: its state file names pid %d, %s", e.Dir, e.PID, e.Why)
}

func (e *NotRunningError) Unwrap() error { return ErrNotRunning }

// Stale reports whether a state file remains from a stack that is gone.
func (e *NotRunningError) Stale() bool { return e.PID != 0 }

// EndpointError is a running stack's endpoint that does not answer.
type EndpointError struct {
	Dir      string
	PID      int
	Endpoint Endpoint
	Err      error
}

func (e *EndpointError) Error() string {
	return fmt.Sprintf("the local stack in %s (pid %d) runs, but its %s endpoint %s does not answer: %v", e.Dir, e.PID, e.Endpoint.Name, e.Endpoint.URL, e.Err)
}

func (e *EndpointError) Unwrap() error { return e.Err }

// Endpoint is one URL a stack serves.
type Endpoint struct {
	Name string // Kinesis, DynamoDB, Lambda, or "API <LogicalId>"
	URL  string
}

// Endpoints lists the stack's endpoints, the services first, then the APIs by logical id.
func (st State) Endpoints() []Endpoint {
	out := []Endpoint{{"Kinesis", st.KinesisEndpoint}, {"DynamoDB", st.DynamoDBEndpoint}, {"Lambda", st.LambdaEndpoint}}
	ids := make([]string, 0, len(st.APIEndpoints))
	for id := range st.APIEndpoints {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, Endpoint{"API " + id, st.APIEndpoints[id]})
	}
	return out
}

// ProbeTimeout bounds the one request that checks an endpoint answers.
const ProbeTimeout = 2 * time.Second

// Check reads the state of the stack keeping its data in dir and checks, at once, that it runs:
// its pid is alive and is an `eventctl local up`, and each of its endpoints answers one request
// (bounded by ProbeTimeout, all at the same time). The error is a *NotRunningError (wrapping
// ErrNotRunning) when no stack runs there — none recorded, or a stale state file whose pid is
// gone — and an *EndpointError when the process runs but an endpoint does not answer.
func Check(ctx context.Context, dir string) (State, error) {
	st, err := ReadState(dir)
	if errors.Is(err, os.ErrNotExist) {
		return st, &NotRunningError{Dir: dir}
	}
	if err != nil {
		return st, err
	}
	if why := notRunning(st.PID); why != "" {
		return st, &NotRunningError{Dir: dir, PID: st.PID, Why: why}
	}
	endpoints := st.Endpoints()
	errs := make([]error, len(endpoints))
	var wg sync.WaitGroup
	for i, e := range endpoints {
		if e.URL == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Probe(ctx, e.URL)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return st, &EndpointError{Dir: dir, PID: st.PID, Endpoint: endpoints[i], Err: err}
		}
	}
	return st, nil
}

// Running reports whether the stack st records still runs: its pid is alive and is a
// `local up` (where the system tells: on Linux).
func Running(st State) bool { return notRunning(st.PID) == "" }

// notRunning says why pid is not a running `local up`, or "" when it is one.
func notRunning(pid int) string {
	switch {
	case pid <= 0:
		return "which is not a process id"
	case !ProcessAlive(pid):
		return "which is gone (stopped by kill -9, a crash, or a restart of the machine)"
	case !isLocalUp(pid):
		return "which is now another program (the stack is gone and its pid reused)"
	}
	return ""
}

// ProcessAlive reports whether a process with this pid runs: it exists, is not this process, and
// is not a zombie (exited, waiting for its parent to reap it).
func ProcessAlive(pid int) bool {
	if pid <= 0 || pid == os.Getpid() {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) || !procfs()
	}
	// pid (comm) state …: comm may hold spaces and parentheses, the state follows the last ')'.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z' && stat[i+2] != 'X'
	}
	return true
}

// isLocalUp reports whether pid runs `eventctl local up`, as far as /proc tells (true where there
// is no /proc: the endpoints' check then decides).
func isLocalUp(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return !procfs()
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "local" && args[i+1] == "up" {
			return true
		}
	}
	return false
}

// procfs reports whether this system has /proc with a directory per process.
func procfs() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// Probe sends one GET to endpoint, bounded by ProbeTimeout, and reports whether anything answered
// (any HTTP status: the emulators answer a bare GET with an error of their own).
func Probe(ctx context.Context, endpoint string) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // without "Get \"<url>\": ", which the caller says already
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil
}

// probeClient does not follow redirects, keeps no connections and uses no proxy: a loopback
// endpoint must be asked directly.
var probeClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Terminate stops the stack st records, and everything it started: SIGTERM to its process (which
// stops the emulators and functions and removes the state file), then, when it is still running
// after grace, SIGKILL to it and to the process group of each process it recorded. It returns once
// they are all gone, or an error when something still runs killWait after the SIGKILL. The state
// file in dir is removed in the end if the stack did not remove it. say, when not nil, hears what
// happens.
func Terminate(dir string, st State, grace, killWait time.Duration, say func(string)) error {
	if say == nil {
		say = func(string) {}
	}
	if !Running(st) {
		RemoveStateOf(dir, st.PID)
		return nil
	}
	if err := syscall.Kill(st.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop the local stack (pid %d): %w", st.PID, err)
	}
	stopped := waitGone(grace, st.PID)
	if !stopped {
		say(fmt.Sprintf("pid %d still runs %s after SIGTERM: SIGKILL to it and the processes it started", st.PID, grace))
		_ = syscall.Kill(st.PID, syscall.SIGKILL)
	}
	// The stack stops what it started before it exits; whatever is left (after a SIGKILL, or on a
	// system without parent-death signals) is ended here, group by group.
	var left []int
	if stopped {
		waitGone(killWait, pids(st.Processes)...)
	}
	for _, p := range st.Processes {
		if ProcessAlive(p.PID) {
			say(fmt.Sprintf("%s (pid %d) still runs: SIGKILL to its process group", p.Name, p.PID))
			_ = syscall.Kill(-p.PID, syscall.SIGKILL)
			left = append(left, p.PID)
		}
	}
	if !waitGone(killWait, append(left, st.PID)...) {
		var still []string
		for _, pid := range append(left, st.PID) {
			if ProcessAlive(pid) {
				still = append(still, strconv.Itoa(pid))
			}
		}
		return fmt.Errorf("the local stack in %s: pids %s still run %s after SIGKILL", dir, strings.Join(still, ", "), killWait)
	}
	RemoveStateOf(dir, st.PID)
	return nil
}

func pids(ps []ProcessInfo) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.PID
	}
	return out
}

// waitGone polls until none of pids is alive, for at most limit; it reports whether they went.
func waitGone(limit time.Duration, pids ...int) bool {
	deadline := time.Now().Add(limit)
	for {
		alive := false
		for _, pid := range pids {
			if ProcessAlive(pid) {
				alive = true
				break
			}
		}
		if !alive {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
