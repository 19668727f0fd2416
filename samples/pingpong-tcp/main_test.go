package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/stdtypes"
)

// TestMain fails the tests if a goroutine outlives them: run must stop the
// node, its transport and everything they started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitTimeout bounds each wait of the tests.
const waitTimeout = 30 * time.Second

// deployment writes a membership of n nodes on free ports of 127.0.0.1,
// and their keys, to dir. It returns the arguments that run node i.
func deployment(t *testing.T, dir string, n int) func(i int) []string {
	t.Helper()
	members := testnet.Deployment(t, dir, n)
	return func(i int) []string {
		return []string{
			"-membership", members,
			"-key", testnet.KeyFile(dir, i),
			"-id", strconv.Itoa(i),
			"-interval", "20ms",
			"-stats", "100ms",
		}
	}
}

// TestRunInProcess runs two nodes in this process, over TCP on loopback,
// for a short while, and checks that each got pongs from the other.
func TestRunInProcess(t *testing.T) {
	args := deployment(t, t.TempDir(), 2)
	var outs [2]bytes.Buffer
	var errOuts [2]bytes.Buffer
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			errs[i] = run(context.Background(), append(args(i), "-duration", "1s"), &outs[i], &errOuts[i])
		})
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("node %d: %v\n%s", i, errs[i], &errOuts[i])
		}
		out := outs[i].String()
		peer := 1 - i
		for _, want := range []string{
			fmt.Sprintf("listening id=%d addr=127.0.0.1:", i),
			fmt.Sprintf("pong from=%d seq=", peer),
			fmt.Sprintf("stats peer=%d connected=", peer),
		} {
			if !strings.Contains(out, want) {
				t.Errorf("node %d: output lacks %q:\n%s", i, want, out)
			}
		}
		if errOuts[i].Len() > 0 {
			t.Errorf("node %d wrote to stderr:\n%s", i, &errOuts[i])
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	args := deployment(t, dir, 2)
	for _, c := range []struct {
		args  []string
		usage bool
	}{
		{[]string{"-id", "0"}, true},
		{append(args(0), "-interval", "0s"), true},
		{append(args(0), "-duration", "-1s"), true},
		{append(args(0), "extra"), true},
		{append(args(0), "-nosuchflag"), true},
		{append(args(0), "-id", "9"), false}, // Not a member.
		{append(args(0), "-id", "1"), false}, // Node 0's key for node 1.
		{append(args(0), "-membership", filepath.Join(dir, "node-0.key")), false},
		{append(args(0), "-key", filepath.Join(dir, "missing.key")), false},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), c.args, &stdout, &stderr)
		if err == nil || errors.Is(err, cli.ErrUsage) != c.usage {
			t.Errorf("run(%q) = %v, want a usage error: %v", c.args, err, c.usage)
		}
	}
}

// TestMultiProcess runs four nodes as separate processes on 127.0.0.1,
// kills one with SIGKILL, restarts it, and checks that the others
// reconnect to it and pongs flow again between all of them.
func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sample and runs four processes for several seconds")
	}
	const n = 4
	dir := t.TempDir()
	bin := filepath.Join(dir, "pingpong-tcp")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := deployment(t, dir, n)

	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startProc(t, bin, args(i))
	}
	peersOf := func(i int) []stdtypes.NodeID {
		var ps []stdtypes.NodeID
		for j := range n {
			if j != i {
				ps = append(ps, stdtypes.NewNodeIDFromInt(j))
			}
		}
		return ps
	}
	start := time.Now()
	for i, p := range procs {
		p.waitPongs(t, peersOf(i), start)
	}
	t.Logf("all %d nodes have pongs from all others after %v", n, time.Since(start).Round(time.Millisecond))

	// Kill node 3 with no chance to clean up.
	const victim = 3
	if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	procs[victim].wait()
	killed := time.Now()
	for i := range victim {
		procs[i].waitStats(t, "3", func(s peerStats) bool { return !s.connected && !s.inbound }, killed)
	}
	t.Logf("the others see node 3 down after %v", time.Since(killed).Round(time.Millisecond))

	// Stay down for a while: the others keep redialing, with growing
	// waits between attempts.
	time.Sleep(time.Second)
	restarted := time.Now()
	procs[victim] = startProc(t, bin, args(victim))
	for i, p := range procs {
		p.waitPongs(t, peersOf(i), restarted)
	}
	t.Logf("pongs flow between all nodes %v after the restart", time.Since(restarted).Round(time.Millisecond))
	for i := range victim {
		procs[i].waitStats(t, "3", func(s peerStats) bool { return s.connected && s.inbound && s.reconnects >= 1 }, restarted)
	}

	for _, p := range procs {
		p.stop(t)
	}
	for i, p := range procs {
		if s := p.stderr(); s != "" {
			t.Errorf("node %d wrote to stderr:\n%s", i, s)
		}
	}
}

// proc is one node's process and what its output said.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{} // Closed when the process has exited and its output is read.
	errBuf bytes.Buffer

	mu sync.Mutex
	// lastPong is when the last pong from each peer was printed.
	lastPong map[stdtypes.NodeID]time.Time
	// stats is the last stats line for each peer, and when it came.
	stats map[stdtypes.NodeID]peerStats
	lines []string // Everything printed, for failure messages.
}

// peerStats is what a stats line says about a peer.
type peerStats struct {
	at                 time.Time
	connected, inbound bool
	reconnects         int
}

var (
	pongLine  = regexp.MustCompile(`^pong from=(\S+) seq=\d+`)
	statsLine = regexp.MustCompile(`^stats peer=(\S+) connected=(\w+) inbound=(\w+) .* reconnects=(\d+)`)
)

func startProc(t *testing.T, bin string, args []string) *proc {
	t.Helper()
	p := &proc{
		cmd:      exec.Command(bin, args...),
		done:     make(chan struct{}),
		lastPong: make(map[stdtypes.NodeID]time.Time),
		stats:    make(map[stdtypes.NodeID]peerStats),
	}
	p.cmd.Stderr = &syncWriter{mu: &p.mu, w: &p.errBuf}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.read(stdout)
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.wait()
	})
	return p
}

// read records the process's output until it ends, then reaps it.
func (p *proc) read(stdout io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		now := time.Now()
		p.mu.Lock()
		p.lines = append(p.lines, line)
		if m := pongLine.FindStringSubmatch(line); m != nil {
			p.lastPong[stdtypes.NodeID(m[1])] = now
		}
		if m := statsLine.FindStringSubmatch(line); m != nil {
			r, _ := strconv.Atoi(m[4])
			p.stats[stdtypes.NodeID(m[1])] = peerStats{at: now, connected: m[2] == "true", inbound: m[3] == "true", reconnects: r}
		}
		p.mu.Unlock()
	}
	io.Copy(io.Discard, stdout)
	p.cmd.Wait()
}

// wait waits until the process has exited.
func (p *proc) wait() { <-p.done }

// waitPongs waits until the process has printed a pong from each of peers
// after since.
func (p *proc) waitPongs(t *testing.T, peers []stdtypes.NodeID, since time.Time) {
	t.Helper()
	p.waitUntil(t, fmt.Sprintf("pongs from %v", peers), func() bool {
		for _, peer := range peers {
			if !p.lastPong[peer].After(since) {
				return false
			}
		}
		return true
	})
}

// waitStats waits until a stats line about peer printed after since
// satisfies cond.
func (p *proc) waitStats(t *testing.T, peer stdtypes.NodeID, cond func(peerStats) bool, since time.Time) {
	t.Helper()
	p.waitUntil(t, "stats of peer "+string(peer), func() bool {
		s, ok := p.stats[peer]
		return ok && s.at.After(since) && cond(s)
	})
}

func (p *proc) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		p.mu.Lock()
		ok := cond()
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before %s:\n%s\nstderr:\n%s", p.cmd, what, p.output(), p.stderr())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within %v; output:\n%s\nstderr:\n%s", p.cmd, what, waitTimeout, p.output(), p.stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the process with SIGTERM, as an operator would, and checks
// that it exits cleanly.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(waitTimeout):
		p.cmd.Process.Kill()
		t.Errorf("%s did not exit on SIGTERM", p.cmd)
		<-p.done
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("%s exited with code %d; stderr:\n%s", p.cmd, code, p.stderr())
	}
}

// output returns the last lines the process printed.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.lines[max(0, len(p.lines)-30):]
	return strings.Join(lines, "\n")
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errBuf.String()
}

// syncWriter serializes writes to w under mu.
type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
