package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// childEnv makes the test binary a chat-demo process: its value is the
// arguments, separated by newlines.
const childEnv = "MIR_CHAT_DEMO_CHILD"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(childEnv); ok {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		err := run(ctx, strings.Split(args, "\n"), os.Stdin, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "chat-demo:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// waitTimeout bounds each wait for a line: a membership change takes a
// few epochs, a restart a state transfer.
const waitTimeout = 30 * time.Second

// chatNode is one chat-demo process.
type chatNode struct {
	*testnet.Child
	id          stdtypes.NodeID
	out, stderr *testnet.Output
}

// startChat starts node id of the membership file with the given first
// voters.
func startChat(t *testing.T, membershipFile string, id stdtypes.NodeID, voters string) *chatNode {
	t.Helper()
	args := []string{"-membership", membershipFile, "-id", string(id), "-voters", voters}
	n := &chatNode{id: id, out: &testnet.Output{}, stderr: &testnet.Output{}}
	n.Child = testnet.StartChild(t, []string{childEnv + "=" + strings.Join(args, "\n")}, n.out, n.stderr)
	return n
}

// say types a line on the node.
func (n *chatNode) say(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(n.Stdin(), line+"\n"); err != nil {
		t.Fatalf("node %s: %v", n.id, err)
	}
}

// waitFor waits until the node printed want.
func (n *chatNode) waitFor(t *testing.T, want string) {
	t.Helper()
	n.out.WaitFor(t, "node "+string(n.id), want, n.Exited(), waitTimeout)
}

// TestChat runs the demo as it is meant to be used: four node processes
// chat; a fifth joins (/add-node) and catches up by state transfer; one is
// removed (/remove-node); one is killed with SIGKILL and started again
// from its data directory, and prints the whole chat. Every node still a
// member prints the same chat; the removed one a prefix of it.
func TestChat(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five processes")
	}
	dir := t.TempDir()
	file := testnet.Deployment(t, dir, 5)
	members, err := membership.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	const voters = "0,1,2,3"
	nodes := map[stdtypes.NodeID]*chatNode{}
	for _, id := range []stdtypes.NodeID{"0", "1", "2", "3"} {
		nodes[id] = startChat(t, file, id, voters)
	}
	all := func(ids ...stdtypes.NodeID) []*chatNode {
		var ns []*chatNode
		for _, id := range ids {
			ns = append(ns, nodes[id])
		}
		return ns
	}
	expect := func(line string, ns []*chatNode) {
		t.Helper()
		for _, n := range ns {
			n.waitFor(t, line+"\n")
		}
	}
	start := time.Now()
	for _, id := range []stdtypes.NodeID{"0", "1", "2", "3"} {
		nodes[id].say(t, "hello from "+string(id))
	}
	for _, id := range []stdtypes.NodeID{"0", "1", "2", "3"} {
		expect(string(id)+": hello from "+string(id), all("0", "1", "2", "3"))
	}
	t.Logf("four lines printed everywhere after %v", time.Since(start))
	nodes["2"].say(t, "/add-node 9 127.0.0.1:1")
	expect("* 2: /add-node 9 127.0.0.1:1 refused: node 9 is not in the membership file", all("0", "1", "2", "3"))

	// A fifth node joins.
	n4, _ := members.Node("4")
	nodes["0"].say(t, "/add-node 4 "+n4.Addr)
	expect("* 0 added node 4 ("+n4.Addr+")", all("0", "1", "2", "3"))
	start = time.Now()
	nodes["4"] = startChat(t, file, "4", voters)
	expect("0: hello from 0", all("4"))
	t.Logf("node 4 caught up after %v", time.Since(start))
	nodes["4"].say(t, "hello from 4")
	expect("4: hello from 4", all("0", "1", "2", "3", "4"))
	t.Logf("node 4's line printed everywhere %v after it started", time.Since(start))

	// One is removed.
	nodes["1"].say(t, "/remove-node 2")
	expect("* 1 removed node 2", all("0", "1", "2", "3", "4"))
	nodes["0"].say(t, "without 2")
	expect("0: without 2", all("0", "1", "3", "4"))

	// One is killed and started again.
	nodes["3"].Signal(t, syscall.SIGKILL)
	nodes["0"].say(t, "while 3 is down")
	expect("0: while 3 is down", all("0", "1", "4"))
	start = time.Now()
	nodes["3"] = startChat(t, file, "3", voters)
	expect("0: while 3 is down", all("3"))
	t.Logf("node 3 restarted and printed the chat after %v", time.Since(start))
	nodes["3"].say(t, "3 is back")
	expect("3: 3 is back", all("0", "1", "3", "4"))

	want := nodes["0"].out.String()
	for _, id := range []stdtypes.NodeID{"1", "3", "4"} {
		if got := nodes[id].out.String(); got != want {
			t.Errorf("node %s printed\n%s\nnode 0 printed\n%s", id, got, want)
		}
	}
	if got := nodes["2"].out.String(); !strings.HasPrefix(want, got) {
		t.Errorf("the removed node printed\n%s\nnot a prefix of node 0's\n%s", got, want)
	}
	if t.Failed() {
		for id, n := range nodes {
			t.Logf("node %s's standard error:\n%s", id, n.stderr)
		}
	}
}

// TestFlags: a bad command line is refused with a usage error.
func TestFlags(t *testing.T) {
	dir := t.TempDir()
	file := testnet.Deployment(t, dir, 2)
	for _, args := range [][]string{
		{},
		{"-membership", file},
		{"-membership", file, "-id", "0", "extra"},
		{"-membership", file, "-id", "0", "-voters", "0,7"},
		{"-membership", file, "-id", "0", "-voters", "0,0"},
	} {
		err := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if err := run(context.Background(), []string{"-membership", filepath.Join(dir, "none.json"), "-id", "0"}, nil, io.Discard, io.Discard); err == nil {
		t.Error("a missing membership file was accepted")
	}
}
