package emulators

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	stopGrace   = 5 * time.Second // SIGTERM to SIGKILL
	killWait    = 5 * time.Second // SIGKILL to giving up
	outputBytes = 32 << 10        // output kept for error messages
	outputLines = 40              // lines of output shown in errors
)

// Process is a running emulator started by StartKinesis or StartDynamoDB.
// Its methods are safe for concurrent use.
type Process struct {
	name string
	port int
	cmd  *exec.Cmd
	out  *tailBuffer

	exited  chan struct{} // closed once the process has been reaped
	exitErr error         // result of cmd.Wait, set before exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Endpoint returns the emulator's base URL, http://127.0.0.1:PORT.
func (p *Process) Endpoint() string {
	return "http://127.0.0.1:" + strconv.Itoa(p.port)
}

// Name returns the emulator's name: "kinesalite" or "DynamoDB Local".
func (p *Process) Name() string { return p.name }

// Port returns the loopback port the emulator listens on.
func (p *Process) Port() int { return p.port }

// PID returns the process id, which is also the id of its process group.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Output returns the last lines the emulator wrote to stdout and stderr.
func (p *Process) Output() string { return p.out.lastLines(outputLines) }

// Stop ends the emulator: SIGTERM to its process group, then SIGKILL if it is
// still running after a few seconds. It returns once the process has been
// reaped, or an error if it could not be killed. Stop is idempotent; later
// calls return the first call's result.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *Process) stop() error {
	pid := p.PID()
	if err := signalGroup(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(stopGrace):
	}
	// Kill whatever is left of the group, including children of a leader that
	// has already exited.
	if err := signalGroup(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, pid, err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("stop %s (pid %d): still running %s after SIGKILL", p.name, pid, killWait)
	}
}

// reap waits for the process to end and records how it ended.
func (p *Process) reap() {
	p.exitErr = p.cmd.Wait()
	close(p.exited)
}
