package main

import (
	"context"
	"fmt"
	"io"
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
// ones it delivers, rather than hold them until it exits (bug #12.4).
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
	out := again.out.String()
	if !strings.Contains(out, "node 3 missed 0/0 to 0/1\n") {
		t.Errorf("the restarted node 3 did not report what it missed:\n%s", out)
	}
	feed.Close()
	leader.wait(t, "the leader")
	if leader.err != nil {
		t.Errorf("leader: %v\n%s", leader.err, leader.out)
	}
}

// A follower waiting for -count deliveries gives up, with a message and an
// error, when the leader is gone for -timeout (bug #12.4).
func TestTCPFollowerGivesUp(t *testing.T) {
	members := testnet.Deployment(t, t.TempDir(), 4)
	r := startTCP(t, nodeArgs(members, 1, "-count", "2", "-timeout", "300ms"), nil)
	r.wait(t, "node 1")
	if r.err == nil || !strings.Contains(r.err.Error(), "gave up after 300ms without a delivery: delivered 0 of 2") {
		t.Errorf("run = %v, want an error about the missing deliveries\n%s", r.err, r.out)
	}
}
