package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

// localCommand is `eventctl local`: the local stack's lifecycle.
func localCommand() *cobra.Command {
	local := &cobra.Command{
		Use:   "local",
		Short: "Manage the local stack: up [-d], down, status, env",
		Long: `local manages the local stack: the emulators, the template's stream and table, the functions
and the Kinesis event source mapping, all on this machine.

  eventctl local up -d                   start it in the background; returns once it is ready
  eval "$(eventctl local env)"           point the AWS CLI and SDKs at it
  eventctl local status                  exit status 0 when it runs, 1 when not
  eventctl local down                    stop it and everything it started

Each takes --data-dir (default $GEP_DATA_DIR, else .cache/devstack/data): one stack per data
directory.`,
	}
	local.AddCommand(upCommand(), downCommand(), statusCommand(), envCommand())
	return local
}

// envDetachedLog tells a `local up` started by `local up -d` that it runs detached, and where its
// output goes.
const envDetachedLog = "GEP_LOCAL_UP_DETACHED_LOG"

func upCommand() *cobra.Command {
	var runtime, dataDir, endpoint string
	var fresh, detach bool
	var apiKeys string
	var kinesisPort, dynamoPort int
	var overrides []string
	var readyTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local stack: until Ctrl-C, or in the background with -d",
		Long: `up starts the emulators, creates the stream and table template.yaml declares, serves the
Lambda Invoke API for every function, and runs the Kinesis event source mapping, then prints the
endpoints and the environment to export so that producers, the AWS CLI or your own code reach it.

With -d (--detach) it starts the stack in the background, in a session of its own, waits until
it is ready, prints its pid and the exports (as shell lines: eval "$(eventctl local up -d)" works)
and returns; its output goes to local-up.log in the data directory. ` + "`eventctl local down`" + ` stops it,
` + "`eventctl local status`" + ` and ` + "`eventctl local env`" + ` find it by its data directory. Without -d it runs
until Ctrl-C or SIGTERM, which stop it and everything it started.

Data is kept in --data-dir, and so are the mapping's checkpoints: a stack stopped (even killed)
and started again resumes where it stopped. --fresh starts from nothing.

With --endpoint, no emulator is started: the stack uses that endpoint (LocalStack, or AWS with
your credentials) for Kinesis and DynamoDB, and runs the functions here.

Outside a clone of the repository (eventctl installed with go install) it runs the template built
into eventctl, with the functions in process; the emulators are installed into the user cache
directory on first use (node, npm and java needed), or found in $GEP_TOOLS_DIR. The rie runtime
needs a clone.`,
		Example: `  eventctl local up -d
  eventctl local up --runtime rie --fresh
  eventctl local up --endpoint http://localhost:4566
  eventctl local up -d --data-dir /tmp/stack2 --parameter-overrides ShardCount=4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for name, port := range map[string]int{"--kinesis-port": kinesisPort, "--dynamodb-port": dynamoPort} {
				if port < 0 || port > 65535 {
					return fmt.Errorf("%s %d: want a port, 1-65535 (0: a free one)", name, port)
				}
			}
			if readyTimeout <= 0 {
				return fmt.Errorf("--timeout %s: want a positive duration", readyTimeout)
			}
			params, err := parseOverrides(overrides)
			if err != nil {
				return err
			}
			flag := dataDir
			dataDir, custom, err := resolveDataDir(dataDir)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			if err := refuseSecondStack(dataDir, flag, stderr); err != nil {
				return err
			}
			if detach {
				return upDetached(cmd, dataDir, flag, custom, readyTimeout)
			}
			logFile := os.Getenv(envDetachedLog)
			_ = os.Unsetenv(envDetachedLog)
			root, err := emulators.RepoRoot()
			if err != nil && !errors.Is(err, emulators.ErrNoRepository) {
				return err
			}
			tools, err := emulators.ToolsDir()
			if err != nil {
				return err
			}
			var keys map[string]string
			if apiKeys != "" {
				keys, err = devstack.ReadAPIKeys(apiKeys)
			} else {
				apiKeys, keys, err = devstack.LocalAPIKeys(root)
			}
			if err != nil {
				return err
			}
			if fresh {
				if err := devstack.ClearData(dataDir); err != nil {
					return fmt.Errorf("--fresh: %w", err)
				}
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			if logFile == "" && underGoRun() {
				go stopWhenParentEnds(ctx, cancel, stderr)
			}
			st, err := devstack.Start(ctx, devstack.Options{Root: root, ToolsDir: tools, Runtime: runtime, DataDir: dataDir,
				Endpoint: endpoint, Parameters: params, Mappings: true, APIKeys: keys, Log: stackLogger(stderr),
				KinesisPort: kinesisPort, DynamoDBPort: dynamoPort})
			if err != nil {
				return err
			}
			// The state goes last: once it is gone, nothing of the stack runs any more.
			defer devstack.RemoveStateOf(dataDir, os.Getpid())
			defer st.Stop()
			state := st.State()
			state.Output = logFile
			if err := devstack.WriteStateFile(dataDir, state); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Local stack up (%s runtime, pid %d). Kinesis %s, DynamoDB %s, Lambda %s\n", runtime, os.Getpid(), st.KinesisEndpoint, st.DynamoDBEndpoint, st.LambdaEndpoint)
			fmt.Fprintf(out, "Stream %s, table %s, functions: %s\n", st.Resources.Streams[0].Name, *st.Resources.Tables[0].TableName, functionNames(st))
			fmt.Fprintf(out, "Template %s; data in %s\n", state.Template, dataDir)
			for id, url := range st.APIEndpoints {
				fmt.Fprintf(out, "API %s: %s (Authorization: Bearer <key>; keys in %s)\n", id, url, apiKeys)
			}
			fmt.Fprintf(out, "\nTo reach it from another shell (or: eval \"$(eventctl local env%s)\"):\n", dirArg(dataDir, flag))
			for _, line := range exportLines(state.Env, dataDir, custom) {
				fmt.Fprintf(out, "  %s\n", line)
			}
			fmt.Fprintf(out, "\nFunction logs: eventctl logs -f   (files in %s)\nCtrl-C (or `%s`) stops the stack.\n", st.LogDir, downHint(dataDir, flag))
			err = st.Run(ctx)
			fmt.Fprintln(out, "\nStopping the local stack.")
			return err
		},
	}
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "start the stack in the background and return once it is ready (stop it with eventctl local down)")
	cmd.Flags().DurationVar(&readyTimeout, "timeout", 5*time.Minute, "with -d: how long to wait for the stack to be ready (a first start installs the emulators)")
	cmd.Flags().StringVar(&runtime, "runtime", devstack.RuntimeInproc, "where functions run: inproc (in this process) or rie (each bootstrap under the Lambda runtime interface emulator; needs a clone of the repository)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "where the emulators keep their data and the mapping its checkpoints (default $GEP_DATA_DIR, else .cache/devstack/data); other commands find the stack with the same --data-dir")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "clear the stack's data in --data-dir first (its emulators' data and state file, nothing else): start with an empty stream and table (with --endpoint, what is there stays)")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "use this endpoint (LocalStack, AWS) for Kinesis and DynamoDB instead of starting emulators")
	cmd.Flags().IntVar(&kinesisPort, "kinesis-port", 0, "loopback port of the Kinesis emulator (default: a free one)")
	cmd.Flags().IntVar(&dynamoPort, "dynamodb-port", 0, "loopback port of DynamoDB Local (default: a free one)")
	cmd.Flags().StringVar(&apiKeys, "api-keys", "", "JSON file of query API keys, {\"<key>\": \"<tenant>\"} (default api-keys.local.json)")
	cmd.Flags().StringSliceVar(&overrides, "parameter-overrides", nil, "template parameters, Key=Value (repeat or separate with commas)")
	return cmd
}

// refuseSecondStack refuses to start a stack where one runs, and removes a stale state file.
func refuseSecondStack(dir, flag string, notes io.Writer) error {
	prev, err := devstack.ReadState(dir)
	if err != nil {
		return nil
	}
	if devstack.Running(prev) {
		return fmt.Errorf("a local stack (pid %d) is already running on %s: `%s` stops it (`eventctl local env` prints its exports), or give another --data-dir",
			prev.PID, dir, downHint(dir, flag))
	}
	devstack.RemoveStateOf(dir, prev.PID)
	fmt.Fprintf(notes, "removed the stale state file of pid %d, which is gone\n", prev.PID)
	return nil
}

func downCommand() *cobra.Command {
	var dataDir string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the local stack and everything it started",
		Long: `down stops the local stack of --data-dir (started with local up, with or without -d): SIGTERM to
its process, which stops the emulators and functions it started, then, if it still runs after
--timeout, SIGKILL to it and to each process it recorded. It returns once they are all gone.
Nothing running is not an error; a stale state file (its pid gone) is removed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if grace <= 0 {
				return fmt.Errorf("--timeout %s: want a positive duration", grace)
			}
			dir, _, err := resolveDataDir(dataDir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			st, err := devstack.ReadState(dir)
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(out, "no local stack is running in %s\n", dir)
				return nil
			}
			if err != nil {
				return err
			}
			if !devstack.Running(st) {
				devstack.RemoveStateOf(dir, st.PID)
				fmt.Fprintf(out, "no local stack is running in %s (removed the stale state file of pid %d, which is gone)\n", dir, st.PID)
				return nil
			}
			fmt.Fprintf(out, "stopping the local stack in %s (pid %d)…\n", dir, st.PID)
			begin := time.Now()
			if err := devstack.Terminate(dir, st, grace, 5*time.Second, func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }); err != nil {
				return err
			}
			fmt.Fprintf(out, "stopped in %s\n", time.Since(begin).Round(10*time.Millisecond))
			return nil
		},
	}
	addDataDirFlag(cmd, &dataDir)
	cmd.Flags().DurationVar(&grace, "timeout", 30*time.Second, "how long to wait after SIGTERM before SIGKILL")
	return cmd
}

func statusCommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say whether the local stack runs (exit status 0) or not (1), with its endpoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, _, err := resolveDataDir(dataDir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*devstack.ProbeTimeout)
			defer cancel()
			st, err := devstack.Check(ctx, dir)
			var down *devstack.NotRunningError
			var dead *devstack.EndpointError
			switch {
			case errors.As(err, &down):
				if down.Stale() {
					devstack.RemoveStateOf(dir, down.PID)
					fmt.Fprintf(out, "not running: %v (state file removed)\n", err)
				} else {
					fmt.Fprintf(out, "not running: %v\n", err)
				}
				fmt.Fprintf(out, "start it with: %s\n", upHint(dir, dataDir))
				exportsNote(ctx, out, nil)
				return exitError(1)
			case errors.As(err, &dead):
				fmt.Fprintf(out, "unhealthy: %v\n", err)
			case err != nil:
				return err
			default:
				fmt.Fprintf(out, "running: pid %d, data in %s\n", st.PID, dir)
			}
			if !st.Started.IsZero() {
				fmt.Fprintf(out, "  started   %s (%s ago), %s runtime\n", st.Started.Local().Format(time.RFC3339), time.Since(st.Started).Round(time.Second), st.Runtime)
			}
			for _, e := range st.Endpoints() {
				fmt.Fprintf(out, "  %-9s %s\n", e.Name, e.URL)
			}
			if len(st.Streams) > 0 {
				fmt.Fprintf(out, "  stream    %s, table %s\n", strings.Join(st.Streams, ", "), strings.Join(st.Tables, ", "))
			}
			fmt.Fprintf(out, "  logs      %s (eventctl logs -f)\n", st.LogDir)
			if st.Output != "" {
				fmt.Fprintf(out, "  output    %s\n", st.Output)
			}
			exportsNote(ctx, out, &st)
			if dead != nil {
				return exitError(1)
			}
			return nil
		},
	}
	addDataDirFlag(cmd, &dataDir)
	return cmd
}

// exportsNote says which AWS_ENDPOINT_URL_* of this shell point elsewhere than the running stack st
// (or, with no stack, do not answer): exports left from an earlier stack.
func exportsNote(ctx context.Context, w io.Writer, st *devstack.State) {
	for _, service := range []string{"KINESIS", "DYNAMODB", "LAMBDA"} {
		name := "AWS_ENDPOINT_URL_" + service
		url := os.Getenv(name)
		if url == "" {
			continue
		}
		if st != nil {
			if url != st.Env[name] {
				fmt.Fprintf(w, "note: this shell's %s=%s is not this stack's (%s): eval \"$(eventctl local env)\"\n", name, url, st.Env[name])
			}
			continue
		}
		if err := devstack.Probe(ctx, url); err != nil {
			fmt.Fprintf(w, "note: this shell's %s=%s does not answer (%v)\n", name, url, err)
		}
	}
}

func envCommand() *cobra.Command {
	var dataDir string
	var unset bool
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print the running local stack's environment as export lines, for eval \"$(eventctl local env)\"",
		Long: `env prints, and only prints, the export lines that point the AWS CLI, the SDKs and eventctl at the
running local stack: AWS_ENDPOINT_URL_KINESIS, _DYNAMODB and _LAMBDA, AWS_REGION and
AWS_DEFAULT_REGION (the AWS CLI v1 and boto3 read only that one), dummy credentials, and
GEP_DATA_DIR when the stack's data directory was named. When no stack runs it prints nothing and
exits with status 1. --unset prints the unset line for the same variables.`,
		Example: `  eval "$(eventctl local env)"
  eval "$(eventctl local env --unset)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if unset {
				names := append(envNames(), envDataDir)
				fmt.Fprintf(out, "unset %s\n", strings.Join(names, " "))
				return nil
			}
			dir, named, err := resolveDataDir(dataDir)
			if err != nil {
				return err
			}
			st, err := checkStack(cmd.Context(), dir, dataDir)
			if err != nil {
				return err
			}
			for _, line := range exportLines(st.Env, dir, named) {
				fmt.Fprintln(out, line)
			}
			return nil
		},
	}
	addDataDirFlag(cmd, &dataDir)
	cmd.Flags().BoolVar(&unset, "unset", false, "print the unset line for these variables instead")
	return cmd
}

// envNames are the variables a stack's environment sets, sorted.
func envNames() []string {
	var names []string
	for k := range (&devstack.Stack{}).Env() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// exportLines are the export lines of a stack's environment (AWS_DEFAULT_REGION added for a state
// file written before it was recorded), and GEP_DATA_DIR when the data directory was named.
func exportLines(env map[string]string, dataDir string, named bool) []string {
	all := map[string]string{}
	for k, v := range env {
		all[k] = v
	}
	if all["AWS_DEFAULT_REGION"] == "" && all["AWS_REGION"] != "" {
		all["AWS_DEFAULT_REGION"] = all["AWS_REGION"]
	}
	if named { // so that send, query and redrive find this stack
		all[envDataDir] = dataDir
	}
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	lines := make([]string, len(names))
	for i, k := range names {
		lines[i] = fmt.Sprintf("export %s=%s", k, shellWord(all[k]))
	}
	return lines
}

func parseOverrides(list []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--parameter-overrides %q: want Key=Value", kv)
		}
		out[k] = v
	}
	return out, nil
}

func functionNames(st *devstack.Stack) string {
	var names []string
	for _, f := range st.Resources.Functions {
		names = append(names, f.LogicalID)
	}
	return strings.Join(names, ", ")
}

// detachedLog is the file a detached stack writes its output to.
func detachedLog(dataDir string) string { return filepath.Join(dataDir, "local-up.log") }
