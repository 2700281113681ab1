package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

func upCommand() *cobra.Command {
	var runtime, dataDir, endpoint string
	var fresh bool
	var apiKeys string
	var kinesisPort, dynamoPort int
	var overrides []string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local stack and keep it running until Ctrl-C",
		Long: `up starts the emulators, creates the stream and table template.yaml declares, serves the
Lambda Invoke API for every function, and runs the Kinesis event source mapping, then prints the
endpoints and the environment to export so that producers, the AWS CLI or your own code reach it.

Data is kept in --data-dir, and so are the mapping's checkpoints: a stack stopped (even killed)
and started again resumes where it stopped. --fresh starts from nothing.

With --endpoint, no emulator is started: the stack uses that endpoint (LocalStack, or AWS with
your credentials) for Kinesis and DynamoDB, and runs the functions here.`,
		Example: `  eventctl local up
  eventctl local up --runtime rie --fresh
  eventctl local up --endpoint http://localhost:4566
  eventctl local up --parameter-overrides ShardCount=4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := emulators.ToolsDir()
			if err != nil {
				return err
			}
			dataDir, custom, err := resolveDataDir(dataDir)
			if err != nil {
				return err
			}
			if prev, err := devstack.ReadState(dataDir); err == nil && processAlive(prev.PID) {
				return fmt.Errorf("a local stack (pid %d) is already running on %s: stop it first, or give another --data-dir", prev.PID, dataDir)
			}
			if apiKeys == "" {
				apiKeys = filepath.Join(root, "api-keys.local.json")
			}
			keys, err := devstack.ReadAPIKeys(apiKeys)
			if err != nil {
				return err
			}
			if fresh {
				if err := devstack.ClearData(dataDir); err != nil {
					return fmt.Errorf("--fresh: %w", err)
				}
			}
			params, err := parseOverrides(overrides)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			st, err := devstack.Start(cmd.Context(), devstack.Options{Root: root, Runtime: runtime, DataDir: dataDir,
				Endpoint: endpoint, Parameters: params, Mappings: true, APIKeys: keys, Log: stackLogger(stderr),
				KinesisPort: kinesisPort, DynamoDBPort: dynamoPort})
			if err != nil {
				return err
			}
			defer st.Stop()
			if err := devstack.WriteState(dataDir, st); err != nil {
				return err
			}
			defer devstack.RemoveState(dataDir)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Local stack up (%s runtime). Kinesis %s, DynamoDB %s, Lambda %s\n", runtime, st.KinesisEndpoint, st.DynamoDBEndpoint, st.LambdaEndpoint)
			fmt.Fprintf(out, "Stream %s, table %s, functions: %s\n", st.Resources.Streams[0].Name, *st.Resources.Tables[0].TableName, functionNames(st))
			for id, url := range st.APIEndpoints {
				fmt.Fprintf(out, "API %s: %s (Authorization: Bearer <key>; keys in %s)\n", id, url, apiKeys)
			}
			fmt.Fprintln(out, "\nTo reach it from another shell:")
			env := st.Env()
			names := make([]string, 0, len(env))
			for k := range env {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				fmt.Fprintf(out, "  export %s=%s\n", k, env[k])
			}
			if custom { // so that send, query and redrive find this stack
				fmt.Fprintf(out, "  export %s=%s\n", envDataDir, shellQuote(dataDir))
			}
			fmt.Fprintf(out, "\nFunction logs: eventctl logs -f   (files in %s)\nCtrl-C stops the stack.\n", st.LogDir)
			err = st.Run(cmd.Context())
			fmt.Fprintln(out, "\nStopping the local stack.")
			return err
		},
	}
	cmd.Flags().StringVar(&runtime, "runtime", devstack.RuntimeInproc, "where functions run: inproc (in this process) or rie (each bootstrap under the Lambda runtime interface emulator)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "where the emulators keep their data and the mapping its checkpoints (default $GEP_DATA_DIR, else .cache/devstack/data); other commands find the stack with the same --data-dir")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "clear the stack's data in --data-dir first (its emulators' data and state file, nothing else): start with an empty stream and table (with --endpoint, what is there stays)")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "use this endpoint (LocalStack, AWS) for Kinesis and DynamoDB instead of starting emulators")
	cmd.Flags().IntVar(&kinesisPort, "kinesis-port", 0, "loopback port of the Kinesis emulator (default: a free one)")
	cmd.Flags().IntVar(&dynamoPort, "dynamodb-port", 0, "loopback port of DynamoDB Local (default: a free one)")
	cmd.Flags().StringVar(&apiKeys, "api-keys", "", "JSON file of query API keys, {\"<key>\": \"<tenant>\"} (default api-keys.local.json)")
	cmd.Flags().StringSliceVar(&overrides, "parameter-overrides", nil, "template parameters, Key=Value (repeat or separate with commas)")
	return cmd
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
