package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/testnet"
)

// tcpRun is one run of the program as one node of a membership over TCP,
// in this process.
type tcpRun struct {
	out, errOut *testnet.Output
	done        chan struct{}
	err         error
	interrupt   context.CancelFunc
}

// startTCP runs the program with args in a goroutine, with stdin as its
// standard input.
func startTCP(t *testing.T, args []string, stdin io.Reader) *tcpRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &tcpRun{out: new(testnet.Output), errOut: new(testnet.Output), done: make(chan struct{}), interrupt: cancel}
	go func() {
		defer close(r.done)
		r.err = run(ctx, args, stdin, r.out, r.errOut)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// wait waits until the run has ended by itself.
func (r *tcpRun) wait(t *testing.T, who string) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not stop within %v:\n%s%s", who, waitTimeout, r.out, r.errOut)
	}
}

// nodeArgs returns the arguments of node i of the membership.
func nodeArgs(members string, i int, more ...string) []string {
	return append([]string{"-membership", members, "-id", fmt.Sprint(i)}, more...)
}

// deliveries returns what node id printed as delivered, in order, and the
// lines that are neither deliveries nor the ending lines.
func deliveries(out string, id int) (delivered []string) {
	for line := range strings.SplitSeq(out, "\n") {
		if rest, ok := strings.CutPrefix(line, fmt.Sprintf("node %d delivered ", id)); ok && !strings.HasPrefix(rest, "all ") {
			delivered = append(delivered, rest)
		}
	}
	return delivered
}

// A leader that restarts numbers its broadcasts from 0 again: the
// followers must deliver what it broadcasts then as new instances, with
// its texts, and the restarted leader must wait for their
// acknowledgments of those, not count the ones of its former run (bug
// #12.3).
func TestTCPLeaderRestart(t *testing.T) {
	members := testnet.Deployment(t, t.TempDir(), 4)
	timeout := "-timeout=" + waitTimeout.String()
	followers := []*tcpRun{
		nil,
		startTCP(t, nodeArgs(members, 1, "-count", "6", timeout), nil),
		startTCP(t, nodeArgs(members, 2, "-count", "6", timeout), nil),
		startTCP(t, nodeArgs(members, 3, timeout), nil),
	}
	first := startTCP(t, nodeArgs(members, 0, timeout, "alpha", "beta", "gamma"), nil)
	first.wait(t, "the leader's first run")
	if first.err != nil {
		t.Fatalf("the leader's first run: %v\n%s", first.err, first.out)
	}
	second := startTCP(t, nodeArgs(members, 0, timeout, "delta", "epsilon", "zeta"), nil)
	second.wait(t, "the leader's second run")
	if second.err != nil {
		t.Fatalf("the leader's second run: %v\n%s", second.err, second.out)
	}
	for i := 1; i <= 2; i++ {
		followers[i].wait(t, fmt.Sprintf("node %d", i))
	}
	followers[3].out.WaitFor(t, "node 3", "node 3 delivered 0/2: zeta", followers[3].done, waitTimeout)
	followers[3].interrupt()
	followers[3].wait(t, "node 3")
	want := []string{"0/0: alpha", "0/1: beta", "0/2: gamma", "0/0: delta", "0/1: epsilon", "0/2: zeta"}
	for i := 1; i <= 3; i++ {
		f := followers[i]
		if f.err != nil {
			t.Errorf("node %d: %v", i, f.err)
		}
		out := f.out.String()
		if got := deliveries(out, i); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("node %d delivered %q, want %q:\n%s", i, got, want, out)
		}
		if !strings.Contains(out, fmt.Sprintf("node %d: leader 0 restarted", i)) {
			t.Errorf("node %d did not say that the leader restarted:\n%s", i, out)
		}
	}
	if got := deliveries(second.out.String(), 0); strings.Join(got, "|") != strings.Join(want[3:], "|") {
		t.Errorf("the restarted leader delivered %q:\n%s", got, second.out)
	}
}

// A follower that restarts has missed the instances the leader finished
// meanwhile: it says so, after -gap-timeout, and goes on printing the
// ones it delivers, rather than hold them until it exits (bug #12.4). It
// remembers nothing of its former run, so an instance it delivered then
// may also come again: the leader sends its FINAL until the node
// acknowledges it, and a copy may still be on its way. Interrupted, the
// node first lets its acknowledgments reach the leader, which then
// finishes: without that, the leader would wait for them in vain.
func TestTCPFollowerRestart(t *testing.T) {
	members := testnet.Deployment(t, t.TempDir(), 4)
	timeout := "-timeout=" + waitTimeout.String()
	stdin, feed := io.Pipe()
	defer feed.Close()
	leader := startTCP(t, nodeArgs(members, 0, timeout), stdin)
	for i := 1; i <= 2; i++ {
		startTCP(t, nodeArgs(members, i, timeout), nil)
	}
	third := startTCP(t, nodeArgs(members, 3, timeout), nil)
	fmt.Fprintln(feed, "alpha")
	fmt.Fprintln(feed, "beta")
	third.out.WaitFor(t, "node 3", "node 3 delivered 0/1: beta", third.done, waitTimeout)
	third.interrupt()
	third.wait(t, "node 3")

	again := startTCP(t, nodeArgs(members, 3, timeout, "-gap-timeout", "200ms"), nil)
	fmt.Fprintln(feed, "gamma")
	again.out.WaitFor(t, "restarted node 3", "node 3 delivered 0/2: gamma", again.done, waitTimeout)
	checkMissedOrAgain(t, 3, again.out.String(), []string{"alpha", "beta"}, "gamma")
	feed.Close()
	leader.wait(t, "the leader")
	if leader.err != nil {
		t.Errorf("leader: %v\n%s", leader.err, leader.out)
	}
}

// missedLine is how a node reports instances it missed.
var missedLine = regexp.MustCompile(`(?m)^node (\d+) missed 0/(\d+) to 0/(\d+)$`)

// checkMissedOrAgain checks the output of node id, restarted after it
// delivered the leader's texts before: each of those it delivers again,
// with its text, or reports missed (or both: a copy that comes after the
// gap was reported is printed late); it delivers next, the leader's next
// text; and it delivers nothing else, nothing twice.
func checkMissedOrAgain(t *testing.T, id int, out string, before []string, next string) {
	t.Helper()
	missed := make([]bool, len(before))
	for _, m := range missedLine.FindAllStringSubmatch(out, -1) {
		from, _ := strconv.Atoi(m[2])
		to, _ := strconv.Atoi(m[3])
		if m[1] != fmt.Sprint(id) || from > to || to >= len(before) {
			t.Errorf("node %d reported %q missed:\n%s", id, m[0], out)
			continue
		}
		for i := from; i <= to; i++ {
			missed[i] = true
		}
	}
	got := deliveries(out, id)
	allowed := []string{fmt.Sprintf("0/%d: %s", len(before), next)}
	for i, text := range before {
		line := fmt.Sprintf("0/%d: %s", i, text)
		if !missed[i] && !slices.Contains(got, line) {
			t.Errorf("node %d neither delivered 0/%d again nor reported it missed:\n%s", id, i, out)
		}
		allowed = append(allowed, line)
	}
	if !slices.Contains(got, allowed[0]) {
		t.Errorf("node %d did not deliver %q:\n%s", id, allowed[0], out)
	}
	for i, line := range got {
		if !slices.Contains(allowed, line) || slices.Contains(got[:i], line) {
			t.Errorf("node %d delivered %q, twice or not one of %q:\n%s", id, line, allowed, out)
		}
	}
}
