// Command eventctl runs go-event-processor on one machine without Docker: the demo, a local
// stack for development, `sam local invoke`-style invocations, and function logs.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root().ExecuteContext(ctx); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		fmt.Fprintln(os.Stderr, "eventctl:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a code after the command has said why.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func root() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eventctl",
		Short: "Run the event pipeline locally: demo, local stack, invoke, logs",
		Long: `eventctl runs the SAM application of go-event-processor on this machine, without Docker.

It starts the emulators the project pins (kinesalite for Kinesis, DynamoDB Local for DynamoDB),
creates what template.yaml declares, serves the Lambda Invoke API for the functions, and drives
the router from the stream exactly as Lambda's Kinesis event source mapping does.

Start with:
  eventctl demo          send samples and a generated stream through the pipeline, check the result
  eventctl local up      keep a stack running for development
  eventctl invoke RouterFunction -e events/router/kinesis.json
  eventctl logs -f       follow the functions' logs`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	local := &cobra.Command{Use: "local", Short: "Manage the local stack (see: eventctl local up --help)"}
	local.AddCommand(upCommand())
	cmd.AddCommand(demoCommand(), local, invokeCommand(), logsCommand(), queryCommand(), sendCommand(), redriveCommand(), benchCommand(), envJSONCommand())
	return cmd
}

// contextWithCancel returns a context that ends with the command's or when cancel is called.
func contextWithCancel(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithCancel(cmd.Context())
}
