// Command eventctl runs go-event-processor on one machine without Docker: the demo, a local
// stack for development, `sam local invoke`-style invocations, and function logs.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/go-event-processor/go-event-processor/internal/emulators"
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
  eventctl local up -d   keep a stack running for development (eventctl local down stops it)
  eventctl invoke RouterFunction -e events/router/kinesis.json
  eventctl logs -f       follow the functions' logs`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.AddCommand(demoCommand(), localCommand(), needsRepository(invokeCommand(), nil, ""), logsCommand(), queryCommand(), sendCommand(),
		announceLocalTarget(redriveCommand()), benchCommand(),
		needsRepository(envJSONCommand(), func(c *cobra.Command) bool { return c.Flags().Changed("template") && c.Flags().Changed("output") },
			" (or give --template and --output)"))
	cmd.AddCommand(consumeCommand(), consumersCommand())
	refuseUnknownSubcommands(cmd)
	return cmd
}

// refuseUnknownSubcommands makes every command that only groups subcommands (local, query) fail on
// an argument that names none of them, as the root does: cobra prints such a command's help and
// exits 0 ("eventctl query evnts"). Without arguments it prints its help, as before.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if !cmd.HasParent() || !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2
		}
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
		}
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		return fmt.Errorf("%s; its commands: %s", msg, strings.Join(names, ", "))
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// contextWithCancel returns a context that ends with the command's or when cancel is called.
func contextWithCancel(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithCancel(cmd.Context())
}

// needsRepository wraps cmd's PreRunE so that, outside a clone of the repository, it says at once
// that it needs one (invoke builds the function from functions/; env-json reads template.yaml and
// writes env.json there), unless ok says the arguments make do without.
func needsRepository(cmd *cobra.Command, ok func(*cobra.Command) bool, otherwise string) *cobra.Command {
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if _, err := emulators.RepoRoot(); errors.Is(err, emulators.ErrNoRepository) && (ok == nil || !ok(c)) {
			return fmt.Errorf("%s needs a clone of the repository (%s): run it in one, or set %s to one%s",
				c.CommandPath(), emulators.ModulePath, emulators.EnvToolsDir, otherwise)
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	return cmd
}
