package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/logging"
)

func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{fmt.Errorf("%w: -x", ErrUsage), 2, ""},
		{errors.New("node 3 stopped"), 1, "prog: node 3 stopped\n"},
	} {
		var stderr bytes.Buffer
		if code := exitCode(&stderr, "prog", c.err); code != c.code || stderr.String() != c.out {
			t.Errorf("%v: exit %d, printed %q; want %d, %q", c.err, code, &stderr, c.code, c.out)
		}
	}
}

func TestParse(t *testing.T) {
	newFlags := func(out *bytes.Buffer) (*flag.FlagSet, *int) {
		fs := flag.NewFlagSet("prog", flag.ContinueOnError)
		fs.SetOutput(out)
		n := fs.Int("n", 1, "a number")
		fs.Usage = func() { fmt.Fprintln(fs.Output(), "Usage: prog [-n N]") }
		return fs, n
	}
	positive := func(n *int) func() string {
		return func() string {
			if *n < 1 {
				return fmt.Sprintf("-n is %d; it must be positive", *n)
			}
			return ""
		}
	}
	for _, c := range []struct {
		args    []string
		wantErr error
		out     string
	}{
		{[]string{"-n", "3"}, nil, ""},
		{[]string{"-h"}, flag.ErrHelp, "Usage: prog [-n N]\n"},
		{[]string{"-x"}, ErrUsage, "flag provided but not defined: -x\nUsage: prog [-n N]\n"},
		{[]string{"-n", "0"}, ErrUsage, "-n is 0; it must be positive\nUsage: prog [-n N]\n"},
	} {
		var out bytes.Buffer
		fs, n := newFlags(&out)
		err := Parse(fs, c.args, positive(n))
		if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) || out.String() != c.out {
			t.Errorf("%q: %v, printed %q; want %v, %q", c.args, err, &out, c.wantErr, c.out)
		}
	}
	var out bytes.Buffer
	fs, _ := newFlags(&out)
	if err := Parse(fs, []string{"-n", "0"}, nil); err != nil {
		t.Errorf("without a check: %v", err)
	}
	if err := Parse(fs, nil, func() string { return "always wrong" }); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "always wrong") {
		t.Errorf("a check's problem: %v", err)
	}
}

func TestLogger(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var out bytes.Buffer
		l := Logger(&out, verbose)
		l.Log(logging.LevelDebug, "debug line")
		l.Log(logging.LevelWarn, "warn line")
		if got := out.String(); strings.Contains(got, "debug line") != verbose || !strings.Contains(got, "warn line") {
			t.Errorf("verbose %v: logged %q", verbose, got)
		}
	}
}
