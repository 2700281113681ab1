package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/devstack"
	"github.com/go-event-processor/go-event-processor/internal/emulators"
	"github.com/go-event-processor/go-event-processor/internal/inproc"
	"github.com/go-event-processor/go-event-processor/internal/rie"
)

// stackInvocation is one `eventctl invoke --stack`.
type stackInvocation struct {
	root      string // the repository: functions' code, where builds go
	dataDir   string // --data-dir of the running stack
	runtime   string
	function  devstack.Function
	overrides map[string]map[string]string // --env-vars
	payload   []byte
}

// tableCheckTimeout bounds the check that the running stack's table answers.
const tableCheckTimeout = 5 * time.Second

// invokeOnStack runs one function once, built from the working tree as `invoke` builds it, with
// the template's environment (and --env-vars) pointed at the running local stack: its DynamoDB,
// Kinesis and Lambda endpoints, region and credentials, as the stack's own functions run.
func invokeOnStack(cmd *cobra.Command, in stackInvocation) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	st, _, err := runningStack(in.dataDir)
	if err != nil {
		return err
	}
	f := in.function
	env := stackFunctionEnv(f, in.overrides, st)
	if table := env["TABLE_NAME"]; table != "" {
		tctx, cancel := context.WithTimeout(ctx, tableCheckTimeout)
		_, err := emulators.DynamoDBClient(st.DynamoDBEndpoint).DescribeTable(tctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		cancel()
		if err != nil {
			return fmt.Errorf("the running local stack (pid %d) has no table %s at %s that answers: %w", st.PID, table, st.DynamoDBEndpoint, err)
		}
	}
	fmt.Fprintf(stderr, "Invoking %s (%s runtime) against the local stack of pid %d: DynamoDB %s, Kinesis %s, Lambda %s\n",
		f.LogicalID, in.runtime, st.PID, st.DynamoDBEndpoint, st.KinesisEndpoint, st.LambdaEndpoint)
	var out []byte
	switch in.runtime {
	case devstack.RuntimeRIE:
		out, err = invokeRIE(ctx, in.root, f, env, in.payload, stderr)
	case devstack.RuntimeInproc:
		out, err = invokeInproc(ctx, f, env, st, in.payload, stderr)
	default:
		return fmt.Errorf("--runtime %q: want %s or %s", in.runtime, devstack.RuntimeRIE, devstack.RuntimeInproc)
	}
	var fe *rie.FunctionError
	switch {
	case errors.As(err, &fe):
		fmt.Fprintln(cmd.OutOrStdout(), string(fe.Payload))
		return exitError(1)
	case errors.Is(err, errFunction):
		fmt.Fprintln(cmd.OutOrStdout(), string(out))
		return exitError(1)
	case err != nil:
		return fmt.Errorf("invoke %s: %w", f.LogicalID, err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(out))
	return nil
}

// stackFunctionEnv is the environment of f on the running stack st: the template's variables
// with the --env-vars overrides of the ones it declares (as SAM applies env.json), then the
// stack's endpoints, region and credentials.
func stackFunctionEnv(f devstack.Function, overrides map[string]map[string]string, st devstack.State) map[string]string {
	env := maps.Clone(f.Env)
	if env == nil {
		env = map[string]string{}
	}
	for _, scope := range []string{"Parameters", f.LogicalID} {
		for k, v := range overrides[scope] {
			if _, declared := f.Env[k]; declared {
				env[k] = v
			}
		}
	}
	stack := map[string]string{
		"AWS_ENDPOINT_URL_KINESIS":  st.KinesisEndpoint,
		"AWS_ENDPOINT_URL_DYNAMODB": st.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_LAMBDA":   st.LambdaEndpoint,
		"AWS_REGION":                devstack.Region,
		"AWS_DEFAULT_REGION":        devstack.Region,
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
	}
	maps.Copy(stack, st.Env) // what the stack says of itself wins
	maps.Copy(env, stack)
	return env
}

// invokeRIE builds the function's bootstrap and the emulator, as `sam build` and `invoke` build
// them, and runs it once under aws-lambda-rie; its logs and reports go to stderr. A function
// error is a *rie.FunctionError.
func invokeRIE(ctx context.Context, root string, f devstack.Function, env map[string]string, payload []byte, stderr io.Writer) ([]byte, error) {
	dir := filepath.Join(root, ".cache", "devstack", "invoke-build")
	emulator, err := rie.BuildEmulator(ctx, root, dir)
	if err != nil {
		return nil, err
	}
	boots, err := rie.BuildFunctions(ctx, root, dir, f.CodeURI)
	if err != nil {
		return nil, err
	}
	rt, err := rie.Start(ctx, rie.Function{Name: f.Name, Bootstrap: boots[f.CodeURI], Emulator: emulator, Env: env,
		LogOutput: stderr, Timeout: f.Timeout, MemoryMB: f.MemoryMB})
	if err != nil {
		return nil, err
	}
	defer rt.Stop()
	out, err := rt.Invoke(ctx, payload)
	if init := rt.RuntimeInitDuration(); init > 0 {
		fmt.Fprintf(stderr, "Init duration of %s: %s\n", f.LogicalID, init)
	}
	return out, err
}

// errFunction marks a function error of the inproc runtime: the payload returned with it is the
// error as Lambda reports it.
var errFunction = errors.New("function error")

// invokeInproc runs the function's handler in this process, with its logs (JSON lines, as the
// stack's log files hold them) on stderr and the function's timeout.
func invokeInproc(ctx context.Context, f devstack.Function, env map[string]string, st devstack.State, payload []byte, stderr io.Writer) ([]byte, error) {
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("function", f.LogicalID)
	h, err := inproc.Handler(f.CodeURI, env, emulators.DynamoDBClient(st.DynamoDBEndpoint), emulators.LambdaClient(st.LambdaEndpoint), log)
	if err != nil {
		return nil, err
	}
	if f.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
		defer cancel()
	}
	out, err := h(ctx, payload)
	if err != nil {
		body, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": fmt.Sprintf("%T", err)})
		return body, errFunction
	}
	return out, nil
}
