// Command mircat reads the event logs that package eventlog records: stream
// files (*.mirlog), directories of them, and SQLite logs. Several logs are
// merged by time, so the logs of all the nodes of a run read as one.
//
//	mircat list run/                        # counts per node, module, event type
//	mircat show run/ --module pingpong      # one line per event
//	mircat show run/ --event mir.SendMessage --json | jq .event
//	mircat debug run/0.000000.mirlog        # step through node 0's log
//	mircat replay run/                      # re-run the nodes, compare outputs
//	mircat export --sqlite run.db run/      # copy into SQLite, for SQL queries
//
// mircat decodes the events whose types are registered in its binary (see
// registry.go); others are shown by their type name with a note.
//
// Exit codes: 0 when the logs were read (warnings about a log cut off by a
// crash or events the recorder dropped go to standard error); 1 when nothing
// could be read or the output failed; 2 for a usage error; 3 when the logs
// were read only in part (an input could not be opened, or a log is
// damaged: a part of it fails its checksum, the events before are shown);
// 4 when a replay diverged from its recording.
package main

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

func main() {
	// A closed pipe (mircat show | head) must end mircat quietly: with
	// SIGPIPE ignored, writes return EPIPE, which run treats as the reader
	// having seen enough.
	signal.Ignore(syscall.SIGPIPE)
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Stdin))
}

// run runs mircat with args and returns its exit code. Tests call it with
// their own output and input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, stdin io.Reader) int {
	root := newRootCmd(stdout, stderr, stdin)
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
func newRootCmd(stdout, stderr io.Writer, stdin io.Reader) *cobra.Command {
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
	env := &env{stdout: stdout, stderr: stderr, stdin: stdin}
	root.AddCommand(newListCmd(env), newShowCmd(env), newDebugCmd(env), newReplayCmd(env), newExportCmd(env))
	return root
}

// env is what the commands read and write.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
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
