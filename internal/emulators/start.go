package emulators

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrNotInstalled is returned (wrapped) when an emulator's files or runtime are
// missing. The message says what is missing; scripts/install-emulators.sh
// installs everything.
var ErrNotInstalled = errors.New("emulator not installed")

// errPortTaken marks a start that failed because another process took the port.
var errPortTaken = errors.New("address already in use")

const (
	probeTimeout  = 2 * time.Second        // one health check
	probeInterval = 100 * time.Millisecond // between health checks
	waitDelay     = 2 * time.Second        // output drain after exit
	portAttempts  = 3                      // starts on a picked port
	installHint   = "run scripts/install-emulators.sh (or make tools); eventctl installs them itself on first use"
)

// program describes how to run one emulator.
type program struct {
	name    string   // for messages: "kinesalite"
	command string   // executable looked up on PATH: "node"
	files   []string // files the install script provides
	dir     string   // working directory
	env     []string // added to the test binary's environment
	args    func(port int) []string
	healthy func(ctx context.Context, endpoint string) error
}

// start checks that prog is installed, then launches it on opts.Port or on a
// free port, retrying with another free port if the picked one was taken.
func start(ctx context.Context, prog program, opts Options) (*Process, error) {
	exe, err := prog.check()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			port, err = freePort()
		} else {
			err = checkPortFree(port)
		}
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", prog.name, err)
		}
		p, err := launch(ctx, prog, exe, port, opts)
		if err == nil {
			return p, nil
		}
		if opts.Port != 0 || attempt == portAttempts || !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
}

// check returns the path of prog's executable, or an ErrNotInstalled error
// naming what is missing.
func (prog program) check() (string, error) {
	for _, f := range prog.files {
		if _, err := os.Stat(f); err != nil {
			return "", fmt.Errorf("start %s: %w: %s is missing; %s", prog.name, ErrNotInstalled, f, installHint)
		}
	}
	exe, err := exec.LookPath(prog.command)
	if err != nil {
		return "", fmt.Errorf("start %s: %w: %q is not on PATH; %s", prog.name, ErrNotInstalled, prog.command, installHint)
	}
	return exe, nil
}

// launch runs prog on port and waits until it answers its health check.
func launch(ctx context.Context, prog program, exe string, port int, opts Options) (*Process, error) {
	out := newTailBuffer(outputBytes)
	var w io.Writer = out
	if opts.Output != nil {
		w = io.MultiWriter(out, ignoreErrors{opts.Output})
	}
	cmd := exec.Command(exe, prog.args(port)...)
	cmd.Dir = prog.dir
	cmd.Env = append(os.Environ(), prog.env...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = waitDelay
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", prog.name, err)
	}
	p := &Process{name: prog.name, port: port, cmd: cmd, out: out, exited: make(chan struct{})}
	go p.reap()

	if err := p.awaitHealthy(ctx, prog.healthy, opts.startTimeout()); err != nil {
		stopErr := p.Stop()
		err = fmt.Errorf("start %s on port %d (pid %d): %w\n--- last output of %s ---\n%s",
			prog.name, port, p.PID(), err, prog.name, p.Output())
		return nil, errors.Join(err, stopErr)
	}
	return p, nil
}

// awaitHealthy probes the emulator until healthy succeeds, the process exits,
// timeout passes or ctx ends.
func (p *Process) awaitHealthy(ctx context.Context, healthy func(context.Context, string) error, timeout time.Duration) error {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		probeCtx, cancelProbe := context.WithTimeout(ctx, probeTimeout)
		err := healthy(probeCtx, p.Endpoint())
		cancelProbe()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			if strings.Contains(strings.ToLower(p.Output()), errPortTaken.Error()) {
				return fmt.Errorf("exited before it was ready (%v): %w", p.exitErr, errPortTaken)
			}
			return fmt.Errorf("exited before it was ready: %v", p.exitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w (last health check: %v)",
				time.Since(begin).Round(time.Millisecond), ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// ignoreErrors is a writer that never fails, so a broken Options.Output cannot
// stop the emulator's output from being drained.
type ignoreErrors struct{ w io.Writer }

func (i ignoreErrors) Write(p []byte) (int, error) {
	_, _ = i.w.Write(p)
	return len(p), nil
}
