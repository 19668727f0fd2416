package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/stdtypes"
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
	// What flag.PrintDefaults prints of -n.
	const nDefaults = "  -n int\n    \ta number (default 1)\n"
	newFlags := func(out *bytes.Buffer) (*flag.FlagSet, *int) {
		fs := NewFlags("prog", "Usage: prog [-n N]\n\nFlags:", out)
		n := fs.Int("n", 1, "a number")
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
		{[]string{"-h"}, flag.ErrHelp, "Usage: prog [-n N]\n\nFlags:\n" + nDefaults},
		{[]string{"-x"}, ErrUsage, "flag provided but not defined: -x\nUsage: prog [-n N]\n\nFlags:\n" + nDefaults},
		{[]string{"-n", "0"}, ErrUsage, "-n is 0; it must be positive\nUsage: prog [-n N]\n\nFlags:\n" + nDefaults},
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

func TestLoadNode(t *testing.T) {
	dir := t.TempDir()
	members := testnet.Deployment(t, dir, 3)
	other := testnet.Deployment(t, t.TempDir(), 3)
	m, key, err := LoadNode(members, "1", "") // node-1.key next to the membership
	if err != nil {
		t.Fatal(err)
	}
	if self, ok := m.Node("1"); !ok || !key.Public().Equal(self.PublicKey) || m.Len() != 3 {
		t.Errorf("loaded %d nodes and a key that is not node 1's", m.Len())
	}
	if _, key, err := LoadNode(members, "2", testnet.KeyFile(dir, 2)); err != nil || key.Public().Equal(crypto.PublicKey{}) {
		t.Errorf("with -key: %v", err)
	}
	for _, c := range []struct {
		membership string
		id         stdtypes.NodeID
		key, want  string
	}{
		{members, "9", "", `node "9" is not in`},
		{members, "1", testnet.KeyFile(dir, 2), "is not the key of node 1"},
		{other, "1", testnet.KeyFile(dir, 1), "is not the key of node 1"},
		{members, "1", filepath.Join(dir, "missing.key"), "missing.key"},
		{testnet.KeyFile(dir, 0), "0", "", "node-0.key"},
		{filepath.Join(dir, "missing.json"), "0", "", "missing.json"},
	} {
		if _, _, err := LoadNode(c.membership, c.id, c.key); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadNode(%s, %s, %q) = %v, want an error containing %q", c.membership, c.id, c.key, err, c.want)
		}
	}
}
