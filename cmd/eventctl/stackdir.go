package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
)

// envDataDir names the environment variable that tells every command where `local up` keeps the
// running stack's data, like --data-dir.
const envDataDir = "GEP_DATA_DIR"

// addDataDirFlag gives cmd (and its subcommands) the --data-dir of the running `local up` it
// talks to.
func addDataDirFlag(cmd *cobra.Command, dir *string) {
	cmd.PersistentFlags().StringVar(dir, "data-dir", "", "the data directory eventctl local up was started with (default $"+envDataDir+", else .cache/devstack/data in the repository, or in the user cache directory outside one)")
}

// resolveDataDir resolves a --data-dir value to an absolute directory: the flag, else
// $GEP_DATA_DIR, else the default (see devstack.Home). named reports whether the user named it.
func resolveDataDir(flag string) (dir string, named bool, err error) {
	switch {
	case flag != "":
		dir, named = flag, true
	case os.Getenv(envDataDir) != "":
		dir, named = os.Getenv(envDataDir), true
	default:
		home, err := devstack.Home()
		if err != nil {
			return "", false, err
		}
		dir = devstack.DefaultDataDir(home)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", named, fmt.Errorf("data directory %s: %w", dir, err)
	}
	return dir, named, nil
}

// runningStack checks the `local up` whose data is in the --data-dir given as flag, at once (its
// pid, and one bounded request to each endpoint), and returns its state; the error says that it
// is not running and how to start it. named reports whether the directory was named (by the flag
// or $GEP_DATA_DIR): a command must then not fall back to anything else.
func runningStack(flag string) (st devstack.State, named bool, err error) {
	dir, named, err := resolveDataDir(flag)
	if err != nil {
		return st, named, err
	}
	st, err = checkStack(context.Background(), dir, flag)
	return st, named, err
}

// checkStack is devstack.Check with an error that says what to do.
func checkStack(ctx context.Context, dir, flag string) (devstack.State, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*devstack.ProbeTimeout)
	defer cancel()
	st, err := devstack.Check(ctx, dir)
	return st, stackError(err, dir, flag)
}

// stackError adds to an error of devstack.Check how to start (or restart) the stack.
func stackError(err error, dir, flag string) error {
	var down *devstack.NotRunningError
	var dead *devstack.EndpointError
	switch {
	case errors.As(err, &down):
		return fmt.Errorf("%w; start one with `%s`", err, upHint(dir, flag))
	case errors.As(err, &dead):
		return fmt.Errorf("%w; stop it with `%s` and start it again", err, downHint(dir, flag))
	}
	return err
}

// upHint is the command that starts a stack in dir, named as the user named it.
func upHint(dir, flag string) string { return "eventctl local up -d" + dirArg(dir, flag) }

// downHint is the command that stops the stack in dir, named as the user named it.
func downHint(dir, flag string) string { return "eventctl local down" + dirArg(dir, flag) }

// dirArg is " --data-dir DIR" when the user gave the flag, else "" (the default, or
// $GEP_DATA_DIR, which the next command sees too).
func dirArg(dir, flag string) string {
	if flag == "" {
		return ""
	}
	return " --data-dir " + shellWord(dir)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellWord is s as a POSIX shell word: as it is when nothing in it is special, else quoted.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
		return s
	}
	return shellQuote(s)
}
