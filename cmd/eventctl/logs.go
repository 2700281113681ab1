package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
)

func logsCommand() *cobra.Command {
	var follow bool
	var dir, stackDir string
	cmd := &cobra.Command{
		Use:   "logs [<LogicalId>]",
		Short: "Print (or follow) the functions' logs of the local stack",
		Long: `logs prints the JSON log lines the functions of the local stack wrote, one file per function,
each line prefixed with the function's logical id. With -f it keeps printing new lines until Ctrl-C.

It finds the log directory through the running stack of --data-dir; -f needs that stack running.
Without -f, when no stack runs, it prints the logs the last one left in the default directory.`,
		Example: `  eventctl logs -f
  eventctl logs RouterFunction`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				var err error
				if dir, err = stackLogDir(cmd, stackDir, follow); err != nil {
					return err
				}
			}
			pattern := "*.log"
			if len(args) == 1 {
				pattern = args[0] + ".log"
			}
			files, _ := filepath.Glob(filepath.Join(dir, pattern))
			if len(files) == 0 {
				if len(args) == 1 {
					return fmt.Errorf("no logs of %s in %s: is it a function of the template, and has `eventctl local up` run?", args[0], dir)
				}
				return fmt.Errorf("no logs in %s: start the stack with `eventctl local up`", dir)
			}
			sort.Strings(files)
			return tail(cmd, files, follow)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until Ctrl-C")
	cmd.Flags().StringVar(&dir, "dir", "", "log directory (default: the running stack's, see --data-dir)")
	addDataDirFlag(cmd, &stackDir)
	return cmd
}

// stackLogDir is the log directory of the stack of --data-dir (flag): checked at once; when it
// is not running, an error if following, else the default log directory with a note.
func stackLogDir(cmd *cobra.Command, flag string, follow bool) (string, error) {
	dataDir, _, err := resolveDataDir(flag)
	if err != nil {
		return "", err
	}
	st, err := checkStack(cmd.Context(), dataDir, flag)
	var dead *devstack.EndpointError
	if err == nil || errors.As(err, &dead) { // the logs are there, whatever the endpoints do
		return st.LogDir, nil
	}
	if follow || !errors.Is(err, devstack.ErrNotRunning) {
		return "", err
	}
	home, herr := devstack.Home()
	if herr != nil {
		return "", err
	}
	dir := devstack.DefaultLogDir(home)
	if files, _ := filepath.Glob(filepath.Join(dir, "*.log")); len(files) == 0 {
		return "", err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%v; the logs the last one left in %s:\n", err, dir)
	return dir, nil
}

// tail prints every file's lines, then, when following, new lines as they come.
func tail(cmd *cobra.Command, files []string, follow bool) error {
	out := cmd.OutOrStdout()
	readers := make([]*bufio.Reader, len(files))
	for i, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		readers[i] = bufio.NewReader(f)
	}
	pending := make([]string, len(files)) // a line read without its end yet
	for {
		for i, r := range readers {
			id := strings.TrimSuffix(filepath.Base(files[i]), ".log")
			for {
				line, err := r.ReadString('\n')
				pending[i] += line
				if strings.HasSuffix(pending[i], "\n") {
					fmt.Fprintf(out, "%s %s", id, pending[i])
					pending[i] = ""
				}
				if err != nil {
					break
				}
			}
		}
		if !follow {
			return nil
		}
		select {
		case <-cmd.Context().Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
