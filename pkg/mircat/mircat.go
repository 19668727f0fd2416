package mircat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/eventlog/replay"
	// The standard events are in every node's log.
	_ "github.com/mirframework/mir/stdevents"
)

// Exit codes, documented in the root command's help.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitPartial = 3
)

const exitCodesHelp = `Exit codes:
  0  the logs were read (warnings, such as a log cut off by a crash, go to stderr)
  1  nothing could be read (missing file, not a log, ...), or the output failed
  2  usage error (unknown flag, bad --from value, ...)
  3  the logs were read only in part (an input could not be opened, or a log
     is damaged: a part of it fails its checksum): the output covers the
     rest, and a damaged log up to the damage`

// An Option extends or changes mircat.
type Option func(*options)

// options are what the Options set.
type options struct {
	builders replay.Builders
}

// WithReplayBuilders adds builders that replay can rebuild recorded nodes
// with: a recording names its builder (replay.MetaBuilder), and --builder
// names one on the command line. Two builders of one name are an error.
func WithReplayBuilders(builders ...replay.Builder) Option {
	return func(o *options) { o.builders = append(o.builders, builders...) }
}

// Main runs mircat with args (the command line without the program's name)
// on the process's standard input and output, and returns the exit code,
// for os.Exit.
func Main(args []string, opts ...Option) int {
	// A closed pipe (mircat show | head) must end mircat quietly: with
	// SIGPIPE ignored, writes return EPIPE, which Run treats as the reader
	// having seen enough.
	signal.Ignore(syscall.SIGPIPE)
	return Run(context.Background(), args, os.Stdin, os.Stdout, os.Stderr, opts...)
}

// Run runs mircat with args on the given input and outputs and returns its
// exit code. Main calls it with the process's; tests and programs that
// embed mircat with their own.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...Option) int {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.builders.Validate(); err != nil {
		// A mistake in the main that calls Run, not in the command line.
		fmt.Fprintf(stderr, "mircat: %v\n", err)
		return exitFailure
	}
	root := newRootCmd(stdout, stderr, stdin, o)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		// Errors the commands did not classify are cobra's: an unknown
		// command or flag, a wrong number of arguments.
		fmt.Fprintf(stderr, "mircat: %v\nRun 'mircat --help' for usage.\n", err)
		return exitUsage
	}
	if ee.err != nil {
		// Several inputs that could not be opened make several lines
		// (errors.Join): each gets the prefix.
		for line := range strings.SplitSeq(ee.err.Error(), "\n") {
			fmt.Fprintf(stderr, "mircat: %s\n", line)
		}
	}
	return ee.code
}

// exitError is an error with the exit code it calls for. A nil err means
// that the message was printed already (or there is none to print).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError returns an error for a bad command line: exit code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// failure returns an error for a failure: exit code 1.
func failure(err error) error {
	return &exitError{code: exitFailure, err: err}
}

// newRootCmd returns the command tree writing to stdout and stderr and, for
// debug, reading stdin.
func newRootCmd(stdout, stderr io.Writer, stdin io.Reader, o options) *cobra.Command {
	root := &cobra.Command{
		Use:   "mircat",
		Short: "Inspect, replay and export Mir event logs: list, show, debug, replay, export",
		Long: `mircat reads the event logs that Mir nodes record (package eventlog): stream
files (*.mirlog), directories of them, and SQLite logs. Several logs are merged
by time, so the logs of all the nodes of a run read as one.

` + exitCodesHelp,
		SilenceUsage:  true, // A failure to read a log is no reason to print usage.
		SilenceErrors: true, // run prints errors, one line each.
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(stdin)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v (see 'mircat %s --help')", err, c.Name())
	})
	env := &env{stdout: stdout, stderr: stderr, stdin: stdin, builders: o.builders}
	root.AddCommand(newListCmd(env), newShowCmd(env), newDebugCmd(env), newReplayCmd(env), newExportCmd(env))
	return root
}

// env is what the commands read and write, and what they know.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	// builders are the builders replay can rebuild nodes with.
	builders replay.Builders
}

// warn prints a warning line to stderr.
func (e *env) warn(format string, args ...any) {
	fmt.Fprintf(e.stderr, "mircat: warning: "+format+"\n", args...)
}

// needLogs is the Args check of the commands that read logs.
func needLogs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageError("%s needs at least one log file or directory (see 'mircat %s --help')", cmd.Name(), cmd.Name())
	}
	return nil
}
