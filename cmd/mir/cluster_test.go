package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/mirframework/mir/internal/syncbuf"
)

// beMirEnv, in a test binary's environment, makes it the mir program: the
// cluster's replicas run as the test binary itself.
const beMirEnv = "MIR_CMD_TEST_BE_MIR"

func TestMain(m *testing.M) {
	if os.Getenv(beMirEnv) == "1" {
		main()
		os.Exit(0) // main returns when it succeeds.
	}
	replicaProgram = func() (string, []string, error) {
		return os.Args[0], []string{beMirEnv + "=1"}, nil
	}
	os.Exit(m.Run())
}

// progressTimeout bounds each wait for the cluster to make progress: on
// a loaded machine a start takes seconds.
const progressTimeout = 30 * time.Second

// waitFor polls the cluster's status until cond holds of it, and fails
// the test after progressTimeout.
func waitFor(t *testing.T, mon *monitor, what string, cond func(status) bool) status {
	t.Helper()
	deadline := time.Now().Add(progressTimeout)
	for {
		st := mon.poll(context.Background())
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last status: %s", what, progressTimeout, plainLine(st))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// minHeight returns the least height of the nodes up, except skip (-1
// for none), and whether every such node is up.
func minHeight(st status, skip int) (uint64, bool) {
	low, all := uint64(0), true
	first := true
	for i, ns := range st.nodes {
		if i == skip {
			continue
		}
		if ns.state() != "up" {
			all = false
			continue
		}
		if first || ns.height < low {
			low, first = ns.height, false
		}
	}
	return low, all && !first
}

// TestCluster starts a cluster of four replica processes under load,
// kills one with SIGKILL and sees the others go on, restarts it and sees
// it catch up, and stops: no process and no file is left.
func TestCluster(t *testing.T) {
	c, tmp, stop := startTestCluster(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	load, err := startLoad(ctx, c, 200)
	if err != nil {
		t.Fatal(err)
	}
	mon := newMonitor(c, load, 200)

	const victim = 3
	waitFor(t, mon, "all four replicas execute, with leaders and latencies", func(st status) bool {
		h, all := minHeight(st, -1)
		for _, ns := range st.nodes {
			all = all && len(ns.leaders) > 0 && ns.hasLatency && ns.p50 > 0 && ns.p50 <= ns.p99
		}
		return all && h >= 20 && st.load.Total.Completed > 0
	})
	if what, err := c.toggle(victim); err != nil || !strings.Contains(what, "killed") {
		t.Fatalf("toggle(%d) = %q, %v", victim, what, err)
	}
	st := mon.poll(ctx)
	if st.nodes[victim].state() != "down" {
		t.Fatalf("node %d is %s after the kill", victim, st.nodes[victim].state())
	}
	before, _ := minHeight(st, victim)
	completed := st.load.Total.Completed
	st = waitFor(t, mon, "the three others go on", func(st status) bool {
		h, all := minHeight(st, victim)
		return all && h >= before+20 && st.load.Total.Completed > completed
	})
	target, _ := minHeight(st, victim)
	if what, err := c.toggle(victim); err != nil || !strings.Contains(what, "restarted") {
		t.Fatalf("toggle(%d) = %q, %v", victim, what, err)
	}
	waitFor(t, mon, "the restarted replica catches up", func(st status) bool {
		ns := st.nodes[victim]
		return ns.state() == "up" && ns.height >= target && ns.restarts == 1
	})
	if _, err := c.toggle(len(c.nodes)); err == nil {
		t.Error("toggle of a node the cluster lacks succeeded")
	}

	res, err := load.Stop()
	if err != nil || res.Completed == 0 {
		t.Errorf("load: %+v, %v", res, err)
	}
	cancel()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.nodes {
		if p.running() {
			t.Errorf("node %s still runs", p.id)
		} else if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			// SIGTERM stops a replica cleanly.
			t.Errorf("node %s exited with %d", p.id, code)
		}
	}
	if _, err := c.toggle(victim); !errors.Is(err, ErrStopped) {
		t.Errorf("toggle after stop: %v, want ErrStopped", err)
	}
	checkNothingLeft(t, tmp)
}

// startTestCluster starts a cluster of n replicas, processes of the test
// binary, making its directory in tmp, a temporary directory of the
// test's. stop stops it; the test's end does, if the test did not.
func startTestCluster(t *testing.T, n int) (c *cluster, tmp string, stop func() error) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts processes")
	}
	tmp = t.TempDir()
	t.Setenv("TMPDIR", tmp) // Where the cluster makes its directory.
	exe, env, _ := replicaProgram()
	c, err := startCluster(clusterConfig{nodes: n, exe: exe, env: env})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() { stopErr = c.stop() })
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return c, tmp, stop
}

// checkNothingLeft fails the test if the cluster left a file in tmp, the
// temporary directory it made its own in.
func checkNothingLeft(t *testing.T, tmp string) {
	t.Helper()
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left behind in the temporary directory: %v", left)
		out, _ := exec.Command("find", tmp).CombinedOutput()
		t.Logf("%s", out)
	}
}

// summaryHeight matches a summary line of a node that is up: its height.
var summaryHeight = regexp.MustCompile(`node 0 height (\d+) `)

// loadResult matches the load's result, printed at the end.
var loadResult = regexp.MustCompile(`^load: \d+ answered in \d+s \(\d+ tx/s\), latency p50 [0-9.]+ms p99 [0-9.]+ms max [0-9.]+ms; 0 errors, \d+ timeouts, \d+ shed$`)

// TestClusterPlain runs the command without a terminal: it prints one
// summary line per second, in which the replicas make progress, and
// removes its files.
func TestClusterPlain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four processes")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out, err := run(t, "cluster", "--rate", "100", "--duration", "6s")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 4 {
		t.Fatalf("%d lines, want 5 summaries and the last:\n%s", len(lines), out)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "stopped 4 replicas; removed ") {
		t.Errorf("last line %q", last)
	}
	if res := lines[len(lines)-2]; !loadResult.MatchString(res) || strings.HasPrefix(res, "load: 0 answered") {
		t.Errorf("the load's result: %q", res)
	}
	var heights []uint64
	for _, line := range lines[:len(lines)-2] {
		if !strings.Contains(line, "tx/s done, p50 ") {
			t.Errorf("not a summary line: %q", line)
		}
		if m := summaryHeight.FindStringSubmatch(line); m != nil {
			h, _ := strconv.ParseUint(m[1], 10, 64)
			heights = append(heights, h)
		}
	}
	if len(heights) == 0 || heights[len(heights)-1] == 0 {
		t.Errorf("node 0 made no progress:\n%s", out)
	}
	checkNothingLeft(t, tmp)
}

// TestClusterKeepDir: with --dir, the files stay, and the replicas' logs
// say they ran; with --record, the replica records its events.
func TestClusterKeepDir(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir, record := t.TempDir(), t.TempDir()
	out, err := run(t, "cluster", "--nodes", "1", "--rate", "0", "--duration", "1s", "--dir", dir, "--record", record)
	if err != nil || !strings.Contains(out, "their files are in "+dir) {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range []string{"membership.json", "node-0.key", "node-0.log", "data-0"} {
		if _, err := os.Stat(dir + "/" + f); err != nil {
			t.Error(err)
		}
	}
	if log, _ := os.ReadFile(dir + "/node-0.log"); !bytes.Contains(log, []byte("node 0 (incarnation 1) running")) {
		t.Errorf("node-0.log: %q", log)
	}
	if recs, _ := filepath.Glob(filepath.Join(record, "0.*.mirlog")); len(recs) != 1 {
		t.Errorf("records of node 0: %v", recs)
	}
	// A second run in the same directory does not overwrite its keys.
	if out, err := run(t, "cluster", "--nodes", "1", "--duration", "1s", "--dir", dir); err == nil {
		t.Errorf("a second run in %s succeeded:\n%s", dir, out)
	}
}

// TestClusterView drives the live view of a real cluster with keys, as a
// user would: its table fills with the node's figures, 0 kills the node
// and 0 restarts it, q quits.
func TestClusterView(t *testing.T) {
	c, tmp, stop := startTestCluster(t, 1)
	keys, typing := io.Pipe()
	defer typing.Close()
	var out syncbuf.Buffer
	done := make(chan error, 1)
	go func() { done <- runView(context.Background(), c, newMonitor(c, nil, 0), &out, tea.WithInput(keys)) }()
	// waitOutput waits until the view has shown want.
	waitOutput := func(want string) {
		t.Helper()
		deadline := time.Now().Add(progressTimeout)
		for !strings.Contains(out.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("the view did not show %q within %v:\n%s", want, progressTimeout, out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	press := func(key string) {
		t.Helper()
		if _, err := typing.Write([]byte(key)); err != nil {
			t.Fatal(err)
		}
	}
	waitOutput("leaders")
	waitOutput(" up ") // The node's row, once scraped.
	press("0")
	waitOutput("node 0 killed (kill -9)")
	if c.nodes[0].running() {
		t.Error("node 0 runs after the view said it was killed")
	}
	press("0")
	waitOutput("node 0 restarted")
	if !c.nodes[0].running() {
		t.Error("node 0 does not run after the view said it restarted")
	}
	press("q")
	if err := <-done; err != nil {
		t.Fatalf("the view ended with %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if c.nodes[0].running() {
		t.Error("node 0 runs after stop")
	}
	checkNothingLeft(t, tmp)
}
