package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/mircat"
	"github.com/mirframework/mir/samples/bracha"
)

// TestMain fails the tests if a goroutine outlives them: run must stop the
// node, its transport and everything they started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// delivered returns the values node id printed as delivered, sorted.
func delivered(out string, id int) []string {
	var got []string
	for line := range strings.SplitSeq(out, "\n") {
		if rest, ok := strings.CutPrefix(line, fmt.Sprintf("node %d delivered ", id)); ok && strings.Contains(rest, ": ") {
			got = append(got, rest)
		}
	}
	slices.Sort(got)
	return got
}

// runNodes runs the four nodes of a membership in this process, each as
// the program would with args and its own extra arguments, until each has
// delivered six values, and checks each node's output: what it delivered,
// its first and last lines, nothing on stderr. It returns the outputs.
func runNodes(t *testing.T, members string, inputs []string, extra func(i int) []string) []string {
	t.Helper()
	var wg sync.WaitGroup
	outs := make([]testnet.Output, 4)
	errOuts := make([]testnet.Output, 4)
	errs := make([]error, 4)
	for i := range 4 {
		args := append([]string{"-membership", members, "-id", fmt.Sprint(i), "-count", "6"}, extra(i)...)
		wg.Go(func() { errs[i] = run(context.Background(), args, strings.NewReader(inputs[i]), &outs[i], &errOuts[i]) })
	}
	wg.Wait()
	want := []string{"0/1: a", "0/2: b", "1/1: c", "2/1: d", "2/2: e", "3/1: f"}
	got := make([]string, 4)
	for i := range 4 {
		out := outs[i].String()
		got[i] = out
		if errs[i] != nil {
			t.Errorf("node %d: %v\n%s%s", i, errs[i], out, &errOuts[i])
			continue
		}
		if got := delivered(out, i); !slices.Equal(got, want) {
			t.Errorf("node %d delivered %q, want %q; output:\n%s", i, got, want, out)
		}
		for _, line := range []string{fmt.Sprintf("node %d of 4 listening on 127.0.0.1:", i), fmt.Sprintf("node %d: 6 delivered, 0 invalid messages dropped\n", i)} {
			if !strings.Contains(out, line) {
				t.Errorf("node %d's output lacks %q:\n%s", i, line, out)
			}
		}
		if s := errOuts[i].String(); s != "" {
			t.Errorf("node %d wrote to stderr:\n%s", i, s)
		}
	}
	return got
}

// inputs are what the four nodes broadcast: six values.
var inputs = []string{"a\nb\n", "c\n", "d\ne\n", "f\n"}

// replayIdentical replays the recordings in dir with mircat and the
// protocol's replay builder, and checks that every node's is identical.
func replayIdentical(t *testing.T, record string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := mircat.Run(context.Background(), []string{"replay", record}, nil, &stdout, &stderr, mircat.WithReplayBuilders(bracha.Replay.Builder()))
	identical := regexp.MustCompile(`(?m)^node \d, run of \S+: identical \(\d+ events; \d+ inputs replayed, [1-9]\d* outputs compared\)$`)
	if n := len(identical.FindAllString(stdout.String(), -1)); code != 0 || n != 4 {
		t.Errorf("mircat replay: exit %d, %d nodes identical, want 0 and 4\n%s%s", code, n, &stdout, &stderr)
	}
}

// TestRunInProcess runs the four nodes of a membership in this process,
// each as the program would, over TCP on loopback and recording: each
// broadcasts one or two lines, and stops once it has delivered all six.
// Then mircat, with the protocol's replay builder, replays every node
// from its recording: identical.
func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	members := testnet.Deployment(t, dir, 4)
	record := filepath.Join(dir, "run")
	runNodes(t, members, inputs, func(int) []string { return []string{"-record", record} })
	replayIdentical(t, record)
}

// TestRunWithWAL runs the four nodes with a WAL each, twice on the same
// directories, with the same input: the second time, each recovers the
// messages it sent, sends them again, takes its lines again as what it
// broadcast already, and delivers the six values; its recording, whose
// inputs include what the WAL recovered, replays identically.
func TestRunWithWAL(t *testing.T) {
	dir := t.TempDir()
	members := testnet.Deployment(t, dir, 4)
	walDir := func(i int) string { return filepath.Join(dir, fmt.Sprintf("wal-%d", i)) }
	first := runNodes(t, members, inputs, func(i int) []string { return []string{"-wal", walDir(i)} })
	for i, out := range first {
		if !strings.Contains(out, fmt.Sprintf("node %d: recovered 0 messages from the WAL\n", i)) {
			t.Errorf("node %d's first run recovered something:\n%s", i, out)
		}
	}
	record := filepath.Join(dir, "run")
	second := runNodes(t, members, inputs, func(i int) []string { return []string{"-wal", walDir(i), "-record", record} })
	recovered := regexp.MustCompile(`node \d: recovered (\d+) messages from the WAL`)
	for i, out := range second {
		// Its SENDs, and an ECHO and a READY for each of the six values;
		// or more, from the first run's restarts.
		var n int
		if m := recovered.FindStringSubmatch(out); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		if n < 12 {
			t.Errorf("node %d recovered %d messages, want at least 12:\n%s", i, n, out)
		}
	}
	replayIdentical(t, record)
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	members := testnet.Deployment(t, dir, 4)
	base := []string{"-membership", members}
	for _, c := range []struct {
		args  []string
		input string
		usage bool
		want  string
	}{
		{args: []string{"-id", "1"}, usage: true},
		{args: base, usage: true},
		{args: append(base, "-id", "1", "extra"), usage: true},
		{args: append(base, "-id", "1", "-count", "-1"), usage: true},
		{args: append(base, "-id", "1", "-nosuchflag"), usage: true},
		{args: append(base, "-id", "9"), want: `node "9" is not in`},
		{args: append(base, "-id", "1", "-key", filepath.Join(dir, "missing.key")), want: "missing.key"},
		{args: append(base, "-id", "1", "-key", filepath.Join(dir, "node-2.key")), want: "key"},
		{args: []string{"-membership", filepath.Join(dir, "node-0.key"), "-id", "0"}, want: "node-0.key"},
		{args: append(base, "-id", "1", "-count", "1"), input: strings.Repeat("x", 1025) + "\n", want: "line 1: 1025 bytes"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), c.args, strings.NewReader(c.input), &stdout, &stderr)
		if err == nil || errors.Is(err, cli.ErrUsage) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run(%q) = %v, want a usage error: %v, containing %q", c.args, err, c.usage, c.want)
		}
	}
}

// TestInterrupted: a node stopped before it has its count says so; one
// without a count stops cleanly.
func TestInterrupted(t *testing.T) {
	members := testnet.Deployment(t, t.TempDir(), 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-membership", members, "-id", "0", "-count", "1"}, strings.NewReader(""), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "interrupted after 0 of 1 deliveries") {
		t.Errorf("with -count: %v", err)
	}
	if err := run(ctx, []string{"-membership", members, "-id", "0"}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Errorf("without -count: %v", err)
	}
}
