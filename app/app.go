// Package app is the metricsender command line: one file per command and
// per process concern. It composes generator, codec and transport and holds
// no wire or model logic of its own.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/internal/syncbuf"
)

// Version is stamped at build time with
// -ldflags "-X github.com/labsea/metricsender/app.Version=v1.2.3".
var Version = "dev"

// cliSetup serialises urfave/cli's parsing between concurrent RunContext calls.
var cliSetup sync.Mutex

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // runtime failure: broker, --count not reached, check failed
	exitUsage   = 2 // bad flags or a bad config file
)

// Run runs the command line args (args[0] is the program name) and returns
// the exit status. stdout carries only the output (received messages,
// summaries); logs and errors go to stderr. SIGINT and SIGTERM end
// long-running commands cleanly.
func Run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return RunContext(ctx, args, stdout, stderr)
}

// RunContext is Run with a context of the caller's: cancelling it is what a
// signal does. stdout and stderr need not be safe for concurrent use: every
// write of the run to one of them (a log line, a summary) holds its lock.
func RunContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// The logger and a command's own prints (the judge's summary, say) may
	// come from different goroutines, such as a transport logging its
	// close while the command ends.
	stdout, stderr = syncbuf.NewWriter(stdout), syncbuf.NewWriter(stderr)
	// urfave/cli v2 writes package-level values (its HelpFlag, its help
	// command) while it parses: runs in one process (tests; a real process
	// runs one) take turns until their command starts.
	cliSetup.Lock()
	var once sync.Once
	parsed := func() { once.Do(cliSetup.Unlock) }
	defer parsed()
	a := newApp(stdout, stderr)
	for _, cmd := range a.Commands {
		cmd.Before = func(*cli.Context) error { parsed(); return nil }
	}
	err := a.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var ue *usageError
	code := exitFailure
	switch {
	case errors.As(err, &ue):
		code = exitUsage
	case errors.Is(err, errCheckFailed):
		// The check already printed its summary.
		return exitFailure
	}
	var child *childExit
	if errors.As(err, &child) {
		return child.code // the child printed its error
	}
	fmt.Fprintf(stderr, "metricsender: %v\n", err)
	return code
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:    "metricsender",
		Usage:   "simulate Kubernetes apps' resource-allocation messages over is-wire (RabbitMQ)",
		Version: Version,
		Writer:  stdout,
		// Help and usage text go to stdout like the help of any tool; errors to stderr.
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Suggest:         true,
		Commands: []*cli.Command{
			sendCommand(),
			receiveCommand(),
			validateCommand(),
			previewCommand(),
			checkCommand(),
			operatorCommand(),
			metricsAPICommand(),
			versionCommand(),
		},
		// Exit codes are decided by RunContext, never by os.Exit inside cli.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("unknown command %q (commands: %s)", c.Args().First(), strings.Join(commandNames(c.App), ", "))
			}
			return cli.ShowAppHelp(c)
		},
	}
}

// commandNames are the names of a's commands that its help lists, in its
// order: the unknown-command error names them from the app itself, so the
// list cannot drift from the commands there are.
func commandNames(a *cli.App) []string {
	var names []string
	for _, cmd := range a.VisibleCommands() {
		names = append(names, cmd.Name)
	}
	return names
}

// usageError marks bad flags and bad config files: exit status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }

func onUsageError(_ *cli.Context, err error, _ bool) error { return &usageError{err} }
