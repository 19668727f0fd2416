package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// play parses and plays a scenario of the flood protocol.
func play(t *testing.T, script string) (string, error) {
	t.Helper()
	sc, err := Parse("x.txt", []byte(script))
	if err != nil {
		t.Fatal(err)
	}
	return sc.Play(floodProtocol())
}

// TestRewriteThenCompare: a scenario without an expected outcome fails
// and says how to write it; -sim.rewrite writes it after the script, kept
// as it was; then the scenario passes; a changed outcome fails at its
// line, and a rewrite brings it back.
func TestRewriteThenCompare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.txt")
	script := "# Node 0 sends to all.\nnodes 0 1 2\nseed 1 2\nsubmit 0 at 1ms send value=hi   # a comment\nrun 1s"
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runFile(path, floodProtocol(), false); err == nil || !strings.Contains(err.Error(), "run with -sim.rewrite") {
		t.Fatalf("no expected outcome: %v", err)
	}
	if err := runFile(path, floodProtocol(), true); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := script + "\n----\nseed 1: ok\n  0: 0/1 \"hi\"\n  1: 0/1 \"hi\"\n  2: 0/1 \"hi\"\nseed 2: ok\n  0: 0/1 \"hi\"\n  1: 0/1 \"hi\"\n  2: 0/1 \"hi\"\n"
	if string(data) != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s", data, want)
	}
	if err := runFile(path, floodProtocol(), false); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(data), `2: 0/1 "hi"`, `2: 0/1 "ho"`, 1)
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runFile(path, floodProtocol(), false)
	if err == nil || !strings.Contains(err.Error(), "s.txt:10: the run does not have the expected outcome") ||
		!strings.Contains(err.Error(), `want:   2: 0/1 "ho"`) || !strings.Contains(err.Error(), ` got:   2: 0/1 "hi"`) {
		t.Fatalf("changed outcome: %v", err)
	}
	if err := runFile(path, floodProtocol(), true); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != want {
		t.Fatalf("rewritten again:\n%s", data)
	}
	if err := runFile(filepath.Join(t.TempDir(), "none.txt"), floodProtocol(), false); err == nil {
		t.Error("a missing file played")
	}
}

// TestVerdicts: the outcome names the violated property with its time,
// node and message; adversary lines chain, restricted with to=; and the
// faults of a scenario happen.
func TestVerdicts(t *testing.T) {
	for _, tt := range []struct{ name, script, want string }{
		{"lie to one", `nodes 0 1 2
seed 1
link latency=fixed(1ms)
adversary 0 lie to=1
submit 0 at 0s send value=v
run 1s`, `seed 1: agreement violated at 1ms on node 1: node 1 delivered "v (lie)" for item "0/1", node 2 delivered "v"
  0: 0/1 "v"
  2: 0/1 "v"
`},
		{"chained", `nodes 0 1 2
seed 1
faulty 1,2
adversary 0 lie suffix=1
adversary 0 lie suffix=2 to=2
submit 0 at 0s send value=v
run 1s
`, `seed 1: ok
  0: 0/1 "v"
  1: 0/1 "v1"
  2: 0/1 "v12"
`},
		{"dropped to a partition", `nodes 0 1 2
seed 1
partition 0s..1s 0 1,2
submit 0 at 10ms send value=v
run healed+1s
expect verdict`, `seed 1: termination violated at 2s: 2 deliveries missing: node 1 did not deliver item "0/1" (submitted to node 0); node 2 did not deliver item "0/1" (submitted to node 0)
`},
		{"restarted", `nodes 0 1
seed 1
link 0->1 at 0s latency=fixed(1ms)
crash 1 at 5ms
restart 1 at 10ms
submit 0 at 1ms send seq=1 value=a
submit * at 20ms send seq=2 value=b
run 1s
`, `seed 1: ok
  0: 0/1 "a"
  0: 0/2 "b"
  0: 1/2 "b"
  1: 0/1 "a"
  1#2: 1/2 "b"
  1#2: 0/2 "b"
`},
		{"down from its first event", `nodes 0 1
seed 1
crash 0 event 1
submit * at 10ms send value=v
run 1s
`, `seed 1: ok
  1: 1/1 "v"
`},
	} {
		got, err := play(t, tt.script)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: outcome\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// TestStateKeptAcrossRuns: an adversary that keeps state in its value,
// the mistake of issue #12.7, is caught as soon as a scenario has two
// seeds.
func TestStateKeptAcrossRuns(t *testing.T) {
	// One message to a peer per run: the second run with the same value
	// drops it, with a new one sends it.
	const script = "nodes 0 1\nseed %s\nadversary 0 leaky\nsubmit 0 at 0s send\nrun 1s\n"
	if _, err := play(t, strings.Replace(script, "%s", "1", 1)); err != nil {
		t.Fatalf("one seed: %v", err)
	}
	_, err := play(t, strings.Replace(script, "%s", "1 2", 1))
	if err == nil || !strings.Contains(err.Error(), "seed 2 gives another run") || !strings.Contains(err.Error(), "keeps state from one run to the next") {
		t.Fatalf("two seeds: %v", err)
	}
}

// TestPlayErrors: what the protocol's tables refuse is reported with the
// line.
func TestPlayErrors(t *testing.T) {
	const head = "nodes 0 1\nseed 1\n"
	for _, tt := range []struct{ script, want string }{
		{head + "adversary 0 teleport\nrun 1s\n", "x.txt:3: adversary teleport: unknown adversary (the protocol's and the library's: delay, drop, duplicate, leaky, lie)"},
		{head + "adversary 0 lie colour=red\nrun 1s\n", "x.txt:3: adversary lie: unknown parameter colour"},
		{head + "adversary 0 drop p=2\nrun 1s\n", "x.txt:3: adversary drop: p=2: not a probability"},
		{head + "adversary 0 delay\nrun 1s\n", "x.txt:3: adversary delay: delay needs by=DELAY"},
		{head + "adversary 0 duplicate copies=-1\nrun 1s\n", "copies must not be negative"},
		{head + "submit 0 at 0s shout\nrun 1s\n", "x.txt:3: submit: unknown input shout (the protocol's: send)"},
		{head + "submit 0 at 0s send seq=x\nrun 1s\n", `x.txt:3: submit send: seq=x`},
		{head + "params fail=true\nrun 1s\n", "x.txt: params: asked to fail"},
		{head + "params colour=red\nrun 1s\n", "x.txt: params: unknown parameter colour"},
	} {
		_, err := play(t, tt.script)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v; want an error saying %q", tt.script, err, tt.want)
		}
	}
}

// TestLibraryAdversaries: the library's adversaries work from a scenario.
func TestLibraryAdversaries(t *testing.T) {
	got, err := play(t, `nodes 0 1 2
seed 1
link latency=fixed(1ms)
adversary 0 duplicate copies=1
adversary 0 delay by=fixed(10ms) to=1
adversary 2 drop
submit * at 0s send value=v
run 1s
expect verdict
`)
	if err != nil {
		t.Fatal(err)
	}
	// Node 1 gets node 0's value twice: a duplicate delivery.
	if !strings.HasPrefix(got, "seed 1: no duplication violated at 11.000001ms on node 1") {
		t.Errorf("outcome %s", got)
	}
}
