// Package cli is what the samples' programs share around their node: the
// process (signals, exit codes), the command line's errors, the logger,
// and the files of a node of a TCP deployment. Each program keeps its flags and its node; its run function
// takes the arguments and the standard streams, so that tests run the
// whole program in their process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// ErrUsage marks errors in the command line: Main exits 2 for them, Parse
// having printed the problem and the usage.
var ErrUsage = errors.New("usage")

// A RunFunc is a whole program, minus the process: it runs until ctx ends
// (or it is done) and returns nil, flag.ErrHelp, an error wrapping
// ErrUsage, or what went wrong.
type RunFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// Main runs run with the process's arguments and standard streams, and a
// context that ends at SIGINT or SIGTERM; then it exits: 0 if run returned
// nil or flag.ErrHelp, 2 for ErrUsage, 1 for any other error, which it
// prints after the program's name.
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(os.Stderr, name, err))
}

// exitCode returns the exit code for run's result, printing an error that
// needs it to stderr.
func exitCode(stderr io.Writer, name string, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2 // Parse, or the flag package, has printed the problem.
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}

// NewFlags returns the flag set of the program name: errors and usage go
// to stderr, the usage being usage (which ends with a line such as
// "Flags:") followed by the flags' defaults, and Parse reports errors.
func NewFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs, whose ErrorHandling must be
// flag.ContinueOnError (NewFlags makes one) and whose output is the
// program's standard error, then asks check (if not nil) what is wrong with the flags and arguments:
// a problem in words, or "". It returns flag.ErrHelp for -h; for a bad
// command line, it prints the problem and the usage, and returns an error
// wrapping ErrUsage.
func Parse(fs *flag.FlagSet, args []string, check func() string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrUsage, err) // The flag package has printed it.
	}
	if check == nil {
		return nil
	}
	if problem := check(); problem != "" {
		fmt.Fprintln(fs.Output(), problem)
		fs.Usage()
		return fmt.Errorf("%w: %s", ErrUsage, problem)
	}
	return nil
}

// Logger returns the logger of a program: warnings and errors to w, and
// debug messages too if verbose.
func Logger(w io.Writer, verbose bool) *logging.Logger {
	level := logging.LevelWarn
	if verbose {
		level = logging.LevelDebug
	}
	return logging.NewStreamLogger(level, w)
}

// LoadNode reads what node id of a TCP deployment needs at start: the
// membership in membershipFile, which must have the node, and the node's
// private key from keyFile, by default the node's key file next to the
// membership (membership.KeyFile), which must be the key the membership
// gives the node.
func LoadNode(membershipFile string, id stdtypes.NodeID, keyFile string) (*membership.Membership, crypto.PrivateKey, error) {
	members, err := membership.Load(membershipFile)
	if err != nil {
		return nil, crypto.PrivateKey{}, err
	}
	self, ok := members.Node(id)
	if !ok {
		return nil, crypto.PrivateKey{}, fmt.Errorf("node %q is not in %s", id, membershipFile)
	}
	if keyFile == "" {
		if keyFile, err = membership.KeyFile(filepath.Dir(membershipFile), id); err != nil {
			return nil, crypto.PrivateKey{}, fmt.Errorf("%w: give -key", err)
		}
	}
	key, err := crypto.LoadPrivateKey(keyFile)
	if err != nil {
		return nil, crypto.PrivateKey{}, err
	}
	if !key.Public().Equal(self.PublicKey) {
		return nil, crypto.PrivateKey{}, fmt.Errorf("%s is not the key of node %s in %s", keyFile, id, membershipFile)
	}
	return members, key, nil
}
