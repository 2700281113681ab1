package rie

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// awaitReady waits until the emulator itself listens on both the invoke endpoint and the Runtime
// API and they accept connections, the emulator exits, startTimeout passes or ctx ends. Whose
// socket it is matters: another process may take a port between pickPorts and the emulator's
// bind, and the emulator then dies while the port still answers.
func (r *Runtime) awaitReady(ctx context.Context, apiPort int) error {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		err := r.owns(r.port)
		if err == nil {
			err = r.owns(apiPort)
		}
		if err == nil {
			err = dial(ctx, r.port)
		}
		if err == nil {
			err = dial(ctx, apiPort)
		}
		if err == nil {
			select {
			case <-r.exited:
			default:
				return nil
			}
		}
		select {
		case <-r.exited:
			if strings.Contains(strings.ToLower(r.Output()), errPortTaken.Error()) {
				return fmt.Errorf("exited before it was ready (%v): %w", r.exitErr, errPortTaken)
			}
			return fmt.Errorf("exited before it was ready: %v", r.exitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w (last check: %v)", time.Since(begin).Round(time.Millisecond), ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// owns checks that the emulator (or a process of its session) listens on a loopback port.
func (r *Runtime) owns(port int) error {
	ok, err := listensOn(r.PID(), port)
	switch {
	case err != nil:
		return fmt.Errorf("whose is port %d: %w", port, err)
	case !ok:
		return fmt.Errorf("%s does not listen on port %d (yet)", EmulatorName, port)
	}
	return nil
}

// dial checks that a loopback port accepts connections.
func dial(ctx context.Context, port int) error {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", loopback(port))
	if err != nil {
		return err
	}
	return c.Close()
}

// reap waits for the emulator to end, passes on the rest of its output and records how it ended.
func (r *Runtime) reap() {
	err := r.cmd.Wait()
	r.out.flush()
	r.exitErr = err
	close(r.exited)
}

// Stop ends the emulator and every process it started: SIGTERM to the emulator (which then
// kills the bootstrap and exits), SIGKILL to whatever is left of its session after a few
// seconds. An invocation in flight ends with an error. Stop returns once the emulator has been
// reaped and no process of its session is left, or an error if that did not happen in time. It
// is idempotent; later calls return the first call's result.
func (r *Runtime) Stop() error {
	r.stopOnce.Do(func() {
		r.cancel()
		r.stopErr = r.stop()
		r.client.CloseIdleConnections()
	})
	return r.stopErr
}

func (r *Runtime) stop() error {
	pid := r.PID()
	if err := signalGroup(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s (pid %d): %w", r.name, pid, err)
	}
	select {
	case <-r.exited:
	case <-time.After(stopGrace):
	}
	deadline := time.Now().Add(killWait)
	for {
		// The bootstraps are in process groups of their own, in the emulator's session.
		left, err := signalSession(pid, syscall.SIGKILL)
		if err != nil {
			return fmt.Errorf("kill %s (pid %d): %w", r.name, pid, err)
		}
		reaped := false
		select {
		case <-r.exited:
			reaped = true
		default:
		}
		if reaped && left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stop %s (pid %d): %d processes of its session still running %s after SIGKILL (emulator reaped: %t)",
				r.name, pid, left, killWait, reaped)
		}
		select {
		case <-r.exited:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// pickPorts returns the invoke port (want, or a free one when want is 0) and a free port for the
// Runtime API, distinct from each other.
func pickPorts(want int) (port, apiPort int, err error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	listen := func(p int) (int, error) {
		l, err := net.Listen("tcp", loopback(p))
		if err != nil {
			return 0, fmt.Errorf("port %d is not available on 127.0.0.1: %w", p, err)
		}
		ls = append(ls, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	if port, err = listen(want); err != nil {
		return 0, 0, err
	}
	if apiPort, err = listen(0); err != nil {
		return 0, 0, err
	}
	return port, apiPort, nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
