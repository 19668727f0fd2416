package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// waitTimeout bounds each wait of the TCP tests: far above the second or
// so they take, for a loaded machine.
const waitTimeout = 20 * time.Second

// tcpTexts are what the leader broadcasts in the TCP tests.
var tcpTexts = []string{"alpha", "beta", "gamma delta"}

// checkNodeDelivered checks that node id printed each text, in order, and
// nothing else delivered.
func checkNodeDelivered(t *testing.T, id int, out string, texts []string) {
	t.Helper()
	var got, want []string
	for line := range strings.SplitSeq(out, "\n") {
		if rest, ok := strings.CutPrefix(line, fmt.Sprintf("node %d delivered ", id)); ok && !strings.HasPrefix(rest, "all ") {
			got = append(got, rest)
		}
	}
	for i, text := range texts {
		want = append(want, fmt.Sprintf("0/%d: %s", i, text))
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("node %d delivered %q, want %q; output:\n%s", id, got, want, out)
	}
	if !strings.Contains(out, "of which invalid: 0\n") {
		t.Errorf("node %d dropped invalid messages:\n%s", id, out)
	}
}

// TestTCPInProcess runs the four nodes of a membership in this process,
// each as the program would, over TCP on loopback: node 0 leads with three
// lines of standard input, nodes 1 and 2 stop after three deliveries, node
// 3 when interrupted.
func TestTCPInProcess(t *testing.T) {
	members := testnet.Deployment(t, t.TempDir(), 4)
	args := func(i int, more ...string) []string {
		return append([]string{"-membership", members, "-id", fmt.Sprint(i), "-timeout", waitTimeout.String()}, more...)
	}
	outs := make([]*testnet.Output, 4)
	errOuts := make([]*testnet.Output, 4)
	done := make([]chan struct{}, 4)
	errs := make([]error, 4)
	ctx3, interrupt3 := context.WithCancel(context.Background())
	defer interrupt3()
	stdin := strings.NewReader(strings.Join(tcpTexts, "\n") + "\n")
	for i := range 4 {
		outs[i], errOuts[i], done[i] = new(testnet.Output), new(testnet.Output), make(chan struct{})
		ctx, nodeArgs := context.Background(), args(i, "-count", "3")
		switch i {
		case 0:
			nodeArgs = args(i)
		case 3:
			ctx, nodeArgs = ctx3, args(i)
		}
		go func() {
			defer close(done[i])
			errs[i] = run(ctx, nodeArgs, stdin, outs[i], errOuts[i])
		}()
	}
	// Node 3 is interrupted as soon as it has delivered the last
	// instance, when its acknowledgment has hardly left: it must let it
	// reach the leader before it stops (a stopping transport drops what it
	// has not sent), or the leader would wait for it in vain.
	outs[3].WaitFor(t, "node 3", "node 3 delivered 0/2: ", done[3], waitTimeout)
	interrupt3()
	for i := range 4 {
		select {
		case <-done[i]:
		case <-time.After(waitTimeout):
			t.Fatalf("node %d did not stop:\n%s", i, outs[i])
		}
	}
	for i := range 4 {
		if errs[i] != nil {
			t.Errorf("node %d: %v\n%s%s", i, errs[i], outs[i], errOuts[i])
			continue
		}
		checkNodeDelivered(t, i, outs[i].String(), tcpTexts)
		if s := errOuts[i].String(); s != "" {
			t.Errorf("node %d wrote to stderr:\n%s", i, s)
		}
	}
	if out := outs[0].String(); !strings.Contains(out, "node 0 delivered all 3, and every node acknowledged them\n") {
		t.Errorf("leader's output lacks its last line:\n%s", out)
	}
	for i := 1; i <= 2; i++ {
		if out := outs[i].String(); !strings.Contains(out, fmt.Sprintf("node %d delivered all 3\n", i)) {
			t.Errorf("node %d's output lacks its last line:\n%s", i, out)
		}
	}
}

// TestTCPLeaderGivesUp checks that a leader whose followers are down
// exits with an error after -timeout, having delivered nothing (a
// certificate needs three of the four nodes).
func TestTCPLeaderGivesUp(t *testing.T) {
	members := testnet.Deployment(t, t.TempDir(), 4)
	stdout, stderr := new(testnet.Output), new(testnet.Output)
	err := run(context.Background(), []string{"-membership", members, "-id", "0", "-timeout", "300ms", "x"}, strings.NewReader(""), stdout, stderr)
	if err == nil || !strings.Contains(err.Error(), "gave up after 300ms: delivered 0 of 1; acknowledged by node 1: 0, node 2: 0, node 3: 0") {
		t.Errorf("run = %v, want an error about the acknowledgments\n%s", err, stdout)
	}
}

func TestTCPErrors(t *testing.T) {
	dir := t.TempDir()
	members := testnet.Deployment(t, dir, 4)
	other := testnet.Deployment(t, t.TempDir(), 4)
	base := []string{"-membership", members}
	for _, c := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"-id", "1"}, true, ""},
		{[]string{"-count", "1"}, true, ""},
		{base, true, ""},
		{append(base, "-id", "1", "-linger", "-1s"), true, ""},
		{append(base, "-id", "9"), false, "not in"},
		{append(base, "-id", "1", "-leader", "9"), false, "leader \"9\" is not in"},
		{append(base, "-id", "1", "text"), false, "only the leader takes texts"},
		{append(base, "-id", "0", "-count", "2"), false, "-count is for the other nodes"},
		{append(base, "-id", "1", "-key", filepath.Join(dir, "node-2.key")), false, "is not the key of node 1"},
		{append(base, "-id", "1", "-key", filepath.Join(dir, "missing.key")), false, "missing.key"},
		{[]string{"-membership", filepath.Join(dir, "node-0.key"), "-id", "0"}, false, "node-0.key"},
		{[]string{"-membership", other, "-id", "1", "-key", filepath.Join(dir, "node-1.key")}, false, "is not the key of node 1"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), c.args, strings.NewReader(""), &stdout, &stderr)
		if err == nil || errors.Is(err, cli.ErrUsage) != c.usage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run(%q) = %v, want a usage error: %v, containing %q", c.args, err, c.usage, c.want)
		}
	}
}

func TestAckTracker(t *testing.T) {
	const window, incarnation = 4, 7
	ids := []stdtypes.NodeID{"0", "1", "2", "3"}
	tr := newAckTracker("bcb", "0", incarnation, ids, window)
	payload := func(seq uint64) []byte { return fmt.Appendf(nil, "text %d", seq) }
	for seq := range uint64(8) {
		if err := tr.Intercept(stdtypes.ListOf(bcb.NewBroadcast("bcb", seq, payload(seq)))); err != nil {
			t.Fatal(err)
		}
	}
	ackOf := func(from stdtypes.NodeID, inc, seq uint64, text []byte) stdtypes.Event {
		id := bcb.InstanceID{Leader: "0", Incarnation: inc, Seq: seq}
		return stdevents.NewMessageReceived("bcb", from, &bcb.AckMsg{Incarnation: inc, Seq: seq, Digest: bcb.Digest(id, text)})
	}
	ack := func(from stdtypes.NodeID, seq uint64) stdtypes.Event {
		return ackOf(from, incarnation, seq, payload(seq))
	}
	evs := stdtypes.ListOf(
		ack("1", 0), ack("1", 2), ack("1", 1), ack("1", 1), // Out of order, and twice.
		ack("2", 0), ack("2", 1), ack("2", 2),
		ack("3", 1), ack("3", 0),
		ack("9", 0), // Not a member.
		ack("0", 0), // The leader itself.
		stdevents.NewMessageReceived("other", "3", &bcb.AckMsg{Incarnation: incarnation, Seq: 2}), // For another module.
		ackOf("3", incarnation-1, 2, payload(2)),                                                  // Of the leader's former incarnation (bug #12.3).
		ackOf("3", incarnation, 2, []byte("what the former incarnation broadcast")),               // Of another payload.
	)
	if err := tr.Intercept(evs); err != nil {
		t.Fatal(err)
	}
	select {
	case <-tr.changed:
	default:
		t.Error("no change signalled")
	}
	if !tr.complete(2) || tr.complete(3) {
		t.Errorf("complete(2), complete(3) = %v, %v; want true, false: %s", tr.complete(2), tr.complete(3), tr.progress())
	}
	// Too far above what node 3 acknowledged: ignored, as is what it
	// acknowledged before.
	tr.Intercept(stdtypes.ListOf(ack("3", 2+window), ack("3", 0)))
	tr.Intercept(stdtypes.ListOf(ack("3", 2)))
	if !tr.complete(3) {
		t.Errorf("complete(3) = false: %s", tr.progress())
	}
	if got, want := tr.progress(), "node 1: 3, node 2: 3, node 3: 3"; got != want {
		t.Errorf("progress() = %q, want %q", got, want)
	}
	if n := len(tr.acked["3"].above); n != 0 {
		t.Errorf("node 3: %d acknowledgments held above, want 0", n)
	}
	// The digests of instances every node acknowledged are forgotten.
	if n := len(tr.digests); n != 5 {
		t.Errorf("%d digests held, want 5", n)
	}
}

// TestMultiProcess builds the program, runs the four nodes of a
// membership on 127.0.0.1 as separate processes, feeds the leader three
// lines on standard input, and checks that every node printed the three
// deliveries, in order, and exited as it should: the leader by itself,
// nodes 1 and 2 after -count 3, node 3 on SIGTERM.
func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and runs four processes")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bcb-demo")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	members := testnet.Deployment(t, dir, 4)

	procs := make([]*proc, 4)
	for i := 3; i >= 1; i-- { // The leader last, though any order works.
		args := []string{"-membership", members, "-id", fmt.Sprint(i)}
		if i < 3 {
			args = append(args, "-count", "3")
		}
		procs[i] = startProc(t, bin, args, nil)
	}
	stdin := strings.Join(tcpTexts, "\n") + "\n"
	procs[0] = startProc(t, bin, []string{"-membership", members, "-id", "0", "-timeout", waitTimeout.String()}, strings.NewReader(stdin))
	start := time.Now()

	for i := range 3 {
		procs[i].wait(t)
	}
	t.Logf("the leader and nodes 1 and 2 exited %v after the leader started", time.Since(start).Round(time.Millisecond))
	procs[3].out.WaitFor(t, "node 3", "node 3 delivered 0/2: ", procs[3].done, waitTimeout)
	if err := procs[3].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	procs[3].wait(t)

	for i, p := range procs {
		out := p.out.String()
		checkNodeDelivered(t, i, out, tcpTexts)
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("node %d exited with code %d; stderr:\n%s", i, code, p.errOut)
		}
		if s := p.errOut.String(); s != "" {
			t.Errorf("node %d wrote to stderr:\n%s", i, s)
		}
		if !strings.HasPrefix(out, fmt.Sprintf("node %d of 4 listening on 127.0.0.1:", i)) {
			t.Errorf("node %d's output starts otherwise:\n%s", i, out)
		}
	}
	if out := procs[0].out.String(); !strings.Contains(out, "node 0 delivered all 3, and every node acknowledged them\n") {
		t.Errorf("leader's output lacks its last line:\n%s", out)
	}
}

// proc is one node's process.
type proc struct {
	cmd         *exec.Cmd
	out, errOut *testnet.Output
	done        chan struct{} // Closed once the process has exited and its output is read.
}

func startProc(t *testing.T, bin string, args []string, stdin *strings.Reader) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: new(testnet.Output), errOut: new(testnet.Output), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errOut
	if stdin != nil { // Else /dev/null; followers do not read it.
		p.cmd.Stdin = stdin // Copied to its end, then closed: the leader sees the end of its input.
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Kill)
		<-p.done
	})
	return p
}

// wait waits until the process has exited by itself.
func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		t.Fatalf("%s did not exit within %v; output:\n%s\nstderr:\n%s", p.cmd, waitTimeout, p.out, p.errOut)
	}
}
