package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
)

// upDetached is `local up -d`: it starts this same executable (never `go run`) as `local up` in a
// session of its own, its output to local-up.log in the data directory, waits until the stack it
// records in its state file answers, and prints its pid and exports. A stack that exits or is not
// ready within limit is reported with the end of its output (and, when late, stopped).
func upDetached(cmd *cobra.Command, dataDir, flag string, named bool, limit time.Duration) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("-d: find this executable: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	logPath := detachedLog(dataDir)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	child := exec.Command(exe, childArgs(cmd, dataDir)...)
	child.Stdin, child.Stdout, child.Stderr = null, logFile, logFile
	child.Env = append(os.Environ(), envDetachedLog+"="+logPath)
	// A session of its own: no terminal, so no SIGINT from Ctrl-C nor SIGHUP when the shell ends.
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		return fmt.Errorf("-d: start %s: %w", exe, err)
	}
	pid := child.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	stderr := cmd.ErrOrStderr()
	fmt.Fprintf(stderr, "starting the local stack in the background (pid %d; output in %s)…\n", pid, logPath)

	ctx := cmd.Context()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var st devstack.State
	for ready := false; !ready; {
		select {
		case err := <-exited:
			return fmt.Errorf("local up (pid %d) exited before the stack was ready (%v); the end of its output (%s):\n%s", pid, err, logPath, tailOf(logPath, 30))
		case <-ctx.Done():
			stopChild(pid, exited)
			return fmt.Errorf("interrupted before the stack was ready; stopped local up (pid %d)", pid)
		case <-deadline.C:
			stopChild(pid, exited)
			return fmt.Errorf("the stack was not ready within %s (--timeout); stopped local up (pid %d); the end of its output (%s):\n%s", limit, pid, logPath, tailOf(logPath, 30))
		case <-tick.C:
			var err error
			if st, err = devstack.ReadState(dataDir); err == nil && st.PID == pid {
				pctx, cancel := context.WithTimeout(ctx, 2*devstack.ProbeTimeout)
				_, err = devstack.Check(pctx, dataDir)
				cancel()
				ready = err == nil
			}
		}
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "# Local stack up in the background: pid %d, %s runtime, data in %s\n", pid, st.Runtime, dataDir)
	for _, e := range st.Endpoints() {
		fmt.Fprintf(out, "#   %-9s %s\n", e.Name, e.URL)
	}
	fmt.Fprintf(out, "# Output: %s; function logs: eventctl logs -f\n", logPath)
	fmt.Fprintf(out, "# Stop it with: %s   (eventctl local status%s tells whether it runs; eventctl local env%s prints these lines again)\n",
		downHint(dataDir, flag), dirArg(dataDir, flag), dirArg(dataDir, flag))
	for _, line := range exportLines(st.Env, dataDir, named) {
		fmt.Fprintln(out, line)
	}
	return nil
}

// childArgs are the arguments of the detached `local up`: the flags given to this one, except
// -d and --timeout, and the data directory, resolved.
func childArgs(cmd *cobra.Command, dataDir string) []string {
	args := []string{"local", "up"}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "detach", "timeout", "data-dir":
			return
		}
		if s, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range s.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	return append(args, "--data-dir="+dataDir)
}

// stopChild stops a detached `local up` that is not ready: SIGTERM, then SIGKILL to its session's
// process group after a while.
func stopChild(pid int, exited <-chan error) {
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(20 * time.Second):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
}

// tailOf returns the last n lines of a file.
func tailOf(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// underGoRun reports whether this process was started by `go run`, which does not pass SIGTERM
// on: `kill` of it would leave this process running. On Linux the parent's command line tells;
// elsewhere the executable's path does ($WORK/b001/exe/<name>, or go run's cache in GOCACHE).
func underGoRun() bool {
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(os.Getppid()) + "/cmdline"); err == nil {
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		return len(args) > 1 && filepath.Base(args[0]) == "go" && slices.Contains(args[1:min(len(args), 4)], "run")
	}
	exe, err := os.Executable()
	if err != nil || !strings.Contains(exe, "go-build") {
		return false
	}
	dir := filepath.Base(filepath.Dir(exe))
	return dir == "exe" || strings.HasSuffix(dir, "-d")
}

// stopWhenParentEnds cancels when this process's parent (go run) ends: `kill $!` after
// `go run ./cmd/eventctl local up &` ends go run only, and this process must then stop too.
func stopWhenParentEnds(ctx context.Context, cancel context.CancelFunc, notes io.Writer) {
	parent := os.Getppid()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if os.Getppid() != parent {
				fmt.Fprintln(notes, "go run ended (killed?): stopping the local stack")
				cancel()
				return
			}
		}
	}
}
