package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

// envDataDir names the environment variable that tells every command where `local up` keeps the
// running stack's data, like --data-dir.
const envDataDir = "GEP_DATA_DIR"

// addDataDirFlag gives cmd (and its subcommands) the --data-dir of the running `local up` it
// talks to.
func addDataDirFlag(cmd *cobra.Command, dir *string) {
	cmd.PersistentFlags().StringVar(dir, "data-dir", "", "the data directory eventctl local up was started with (default $"+envDataDir+", else .cache/devstack/data in the repository)")
}

// resolveDataDir resolves a --data-dir value to an absolute directory: the flag, else
// $GEP_DATA_DIR, else the repository's default. named reports whether the user named it.
func resolveDataDir(flag string) (dir string, named bool, err error) {
	switch {
	case flag != "":
		dir, named = flag, true
	case os.Getenv(envDataDir) != "":
		dir, named = os.Getenv(envDataDir), true
	default:
		root, err := emulators.ToolsDir()
		if err != nil {
			return "", false, err
		}
		dir = devstack.DefaultDataDir(root)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", named, fmt.Errorf("data directory %s: %w", dir, err)
	}
	return dir, named, nil
}

// runningStack reads the state of the `local up` whose data is in the --data-dir given as flag.
// named reports whether the directory was named (by the flag or $GEP_DATA_DIR): a command must
// then not fall back to anything else.
func runningStack(flag string) (st devstack.State, named bool, err error) {
	dir, named, err := resolveDataDir(flag)
	if err != nil {
		return st, named, err
	}
	if st, err = devstack.ReadState(dir); err != nil {
		return st, named, fmt.Errorf("%w: start `eventctl local up`, or pass the --data-dir it was started with", err)
	}
	return st, named, nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// processAlive reports whether a process with this pid runs (other than this one).
func processAlive(pid int) bool {
	if pid <= 0 || pid == os.Getpid() {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
