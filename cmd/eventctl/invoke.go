package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
)

func invokeCommand() *cobra.Command {
	var eventFile, envVars, runtime, stackDir string
	var onStack bool
	cmd := &cobra.Command{
		Use:   "invoke <LogicalId> -e <event.json> [--stack]",
		Short: "Invoke one function with an event, like `sam local invoke`",
		Long: `invoke builds the function the way sam build does (linux, CGO_ENABLED=0, -tags lambda.norpc,
output bootstrap), runs it under the Lambda runtime interface emulator with the environment the
template declares plus the overrides of --env-vars (SAM's env.json format: {"LogicalId": {...},
"Parameters": {...}}; only declared variables are overridden, as SAM does), and invokes it once.

A fresh in-memory stack (DynamoDB Local, the stream, the table, and the other functions) serves the
function's calls, so a router invocation reaches real type functions and a real table.

With --stack, the function runs against the running local stack (eventctl local up, found by
--data-dir or $GEP_DATA_DIR) instead: its table, its stream and its functions (a router
invocation reaches the stack's type functions), so that the query function's samples read what
was sent to the stack, and what a type function stores stays there.

The response goes to stdout; the function's logs and the runtime's init and duration report go
to stderr.`,
		Example: `  eventctl invoke RouterFunction -e events/router/kinesis.json
  eventctl invoke TransactionFunction -e events/transaction/batch.json --env-vars env.json
  eventctl invoke QueryFunction -e events/query/event.json --stack`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if eventFile == "" {
				return fmt.Errorf("-e/--event is required: the JSON event to invoke %s with (samples are in events/)", id)
			}
			payload, err := os.ReadFile(eventFile)
			if err != nil {
				return fmt.Errorf("read event: %w", err)
			}
			if !json.Valid(payload) {
				return fmt.Errorf("%s is not valid JSON", eventFile)
			}
			root, err := emulators.ToolsDir()
			if err != nil {
				return err
			}
			overrides, err := readEnvVars(envVars)
			if err != nil {
				return err
			}
			res, err := devstack.Load(filepath.Join(root, "template.yaml"), nil)
			if err != nil {
				return err
			}
			f, ok := res.Function(id)
			if !ok {
				var names []string
				for _, f := range res.Functions {
					names = append(names, f.LogicalID)
				}
				return fmt.Errorf("unknown function %q: the template declares %s", id, strings.Join(names, ", "))
			}
			if err := devstack.CheckEventFits(f, payload); err != nil {
				return fmt.Errorf("%s does not fit %s: %w", eventFile, id, err)
			}
			stderr := cmd.ErrOrStderr()
			if onStack {
				return invokeOnStack(cmd, stackInvocation{root: root, dataDir: stackDir, runtime: runtime, function: f, overrides: overrides, payload: payload})
			}
			keys, err := devstack.ReadAPIKeys(filepath.Join(root, "api-keys.local.json"))
			if err != nil {
				return err
			}
			st, err := devstack.Start(cmd.Context(), devstack.Options{Root: root, Runtime: runtime, EnvOverrides: overrides, APIKeys: keys,
				LogDir: filepath.Join(root, ".cache", "devstack", "invoke-logs"), Echo: devstack.Echo{Function: id, To: stderr},
				Log: stackLogger(stderr), Focus: id})
			if err != nil {
				return err
			}
			defer st.Stop()
			out, err := st.Lambda.Invoke(cmd.Context(), &lambda.InvokeInput{FunctionName: aws.String(f.Name), Payload: payload})
			if err != nil {
				return fmt.Errorf("invoke %s: %w", id, err)
			}
			if init := st.InitDuration(id); init > 0 {
				fmt.Fprintf(stderr, "Init duration of %s: %s\n", id, init)
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(out.Payload))
			if out.FunctionError != nil {
				return exitError(1)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&eventFile, "event", "e", "", "JSON file with the event to invoke the function with")
	cmd.Flags().StringVarP(&envVars, "env-vars", "n", "", "JSON file of environment overrides, SAM's env.json format")
	cmd.Flags().StringVar(&runtime, "runtime", devstack.RuntimeRIE, "where the function runs: rie (its bootstrap under the Lambda runtime interface emulator) or inproc")
	cmd.Flags().BoolVar(&onStack, "stack", false, "run against the running local stack (eventctl local up): its table, stream and functions, not a fresh empty stack")
	addDataDirFlag(cmd, &stackDir)
	return cmd
}

// readEnvVars reads SAM's env.json: {"LogicalId": {"VAR": "value"}, "Parameters": {"VAR": "value"}}.
func readEnvVars(path string) (map[string]map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--env-vars: %w", err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("--env-vars %s: want {\"LogicalId\": {\"VAR\": \"value\"}}: %w", path, err)
	}
	out := map[string]map[string]string{}
	for id, vars := range m {
		out[id] = map[string]string{}
		for k, v := range vars {
			out[id][k] = fmt.Sprint(v)
		}
	}
	return out, nil
}
