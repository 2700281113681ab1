package main

import (
	"fmt"
	"os"

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
	cmd.PersistentFlags().StringVar(dir, "data-dir", "", "the --data-dir `local up` was started with (default $"+envDataDir+", else .cache/devstack/data in the repository)")
}

// resolveDataDir resolves a --data-dir value: the flag, else $GEP_DATA_DIR, else the repository's default.
func resolveDataDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if dir := os.Getenv(envDataDir); dir != "" {
		return dir, nil
	}
	root, err := emulators.ToolsDir()
	if err != nil {
		return "", err
	}
	return devstack.DefaultDataDir(root), nil
}

// runningStack reads the state of the `local up` whose data is in the --data-dir given as flag.
func runningStack(flag string) (devstack.State, error) {
	dir, err := resolveDataDir(flag)
	if err != nil {
		return devstack.State{}, err
	}
	st, err := devstack.ReadState(dir)
	if err != nil {
		return st, fmt.Errorf("%w: start `eventctl local up`, or pass the --data-dir it was started with", err)
	}
	return st, nil
}
