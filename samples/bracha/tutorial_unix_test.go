//go:build unix

package bracha_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/docquote"
)

// TestTutorialCommands runs the commands of docs/tutorial.md, every sh
// block in order, as one shell script from the repository's root, as a
// reader would type them into one terminal: it builds the programs,
// generates keys and a membership, runs four nodes over TCP in separate
// processes, runs the simulation tests the page shows, and inspects and
// replays the recording with the sample's mircat. The only changes: the
// deployment's directory is a temporary one, and the nodes' ports are
// free ones.
func TestTutorialCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs and runs four processes")
	}
	if os.Getenv(inTutorialEnv) != "" {
		t.Skip("run by the tutorial's own commands")
	}
	var script strings.Builder
	for _, b := range docquote.Blocks(t, tutorialPath) {
		if b.Lang == "sh" {
			script.WriteString(b.Text)
		}
	}
	dir := t.TempDir()
	s := replaceOnce(t, script.String(), "B=/tmp/bracha", "B="+dir)
	s = replaceOnce(t, s, "membership generate -n 4", fmt.Sprintf("membership generate -n 4 --base-port %d", freePorts(t, 4)))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", s)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), inTutorialEnv+"=1")
	// The script starts nodes in the background: on a timeout, kill
	// them with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("the tutorial's commands took %v", time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("the tutorial's commands failed: %v\nscript:\n%s\noutput:\n%s", err, s, &out)
	}

	output := out.String()
	for _, want := range []string{
		"--- PASS: TestOneInstance",
		"--- PASS: TestBroadcastUnderFaults",
		"--- PASS: TestBrokenBroadcastCaught",
		"--- PASS: TestScenarios",
		"--- FAIL: TestBrokenBroadcastFails/seed=1",
		"reproduce with: go test -run '^TestBrokenBroadcastFails$' ./samples/bracha -sim.seed=1 -bracha.broken",
		"failed, as it should",
		"failed again",
		"node 0: 4 delivered, 0 invalid messages dropped",
		"node 1: 4 delivered, 0 invalid messages dropped", // cat node-1.out
		"type   bracha.Deliver\n",                         // mircat debug, print
		`  2  #`,                                          // mircat show --node 2
		`out  app           bracha.Deliver       {Origin:"0" Seq:1 Value:"hello from 0"}`,
	} {
		if !strings.Contains(output, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	for i := 1; i <= 3; i++ {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("node-%d.out", i)))
		if err != nil {
			t.Fatal(err)
		}
		for j := range 4 {
			if want := fmt.Sprintf("node %d delivered %d/1: hello from %d\n", i, j, j); !bytes.Contains(data, []byte(want)) {
				t.Errorf("node %d did not print %q:\n%s", i, want, data)
			}
		}
	}
	identical := regexp.MustCompile(`(?m)^node \d, run of \S+: identical \(\d+ events; \d+ inputs replayed, [1-9]\d* outputs compared\)$`)
	if n := len(identical.FindAllString(output, -1)); n != 4 {
		t.Errorf("mircat replay: %d nodes identical, want 4", n)
	}
	if t.Failed() {
		t.Logf("output:\n%s", output)
	}
}

// inTutorialEnv is set in the environment of the tutorial's commands, so
// that a go test among them that runs this test does not run the
// tutorial again, and again.
const inTutorialEnv = "MIR_IN_TUTORIAL_TEST"

// replaceOnce replaces the one occurrence of old in s, and fails the test
// if there is none or several: the tutorial changed, and so must the test.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("the tutorial's commands have %q %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// freePorts returns the first of n consecutive ports of 127.0.0.1 that are
// free now: another program could take one before the nodes do, which is
// unlikely.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(40000)
		var ls []net.Listener
		for i := range n {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if len(ls) == n {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}
