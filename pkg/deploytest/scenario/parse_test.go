package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// TestParseErrors: every mistake is reported with the file and the line.
func TestParseErrors(t *testing.T) {
	const head = "nodes 0 1 2\nseed 1\n"
	for _, tt := range []struct{ script, want string }{
		{"seed 1\n", "x.txt:1: seed: the first line must be nodes"},
		{"# a comment\n\nnodes\n", "x.txt:3: nodes: no nodes"},
		{"nodes 0 0\n", "x.txt:1: nodes: node 0 listed twice"},
		{"nodes 0,1\n", `node ID "0,1" has a comma`},
		{"nodes 0\nnodes 1\n", "x.txt:2: nodes: given twice"},
		{"nodes 0\nseed x\n", `x.txt:2: seed: seed "x"`},
		{"nodes 0\nseed\n", "x.txt:2: seed: give 1 to 64 seeds"},
		{head + "frobnicate\n", "x.txt:3: frobnicate: unknown directive"},
		{head + "link loss=2\n", "x.txt:3: link: loss=2: not a probability"},
		{head + "link speed=2\n", "x.txt:3: link: unknown parameter speed"},
		{head + "link loss\n", `x.txt:3: link: "loss" is not key=value`},
		{head + "link 0->7 loss=0.1\n", `x.txt:3: link: node "7" is not one of the scenario's nodes`},
		{head + "link latency=uniform(5ms,1ms)\n", "uniform needs lo <= hi"},
		{head + "link latency=gauss(1ms)\n", `unknown distribution "gauss"`},
		{head + "link latency=pareto(1ms,1.5)\n", "pareto takes 3 arguments"},
		{head + "link latency=uniform(1ms,5ms\n", "x.txt:3: unclosed parenthesis"},
		{head + "link latency=1ms)\n", "x.txt:3: unopened parenthesis"},
		{head + "link at 1s loss=0.1 loss=0.2\n", "x.txt:3: link: loss given twice"},
		{head + "partition 2s..1s 0 1\n", `x.txt:3: partition: "2s..1s" ends before it starts`},
		{head + "partition 1s 0 1\n", "is not a time range"},
		{head + "partition 1s..2s\n", "want partition FROM..UNTIL GROUP"},
		{head + "partition 1s..2s 0,1 1,2\n", "x.txt:3: partition: node 1 is in two groups"},
		{head + "adversary 0 drop to=1 to=2\n", "x.txt:3: adversary: to given twice"},
		{head + "crash 0 at -1s\n", "x.txt:3: crash: negative duration"},
		{head + "crash 0 event 0\n", "events count from 1"},
		{head + "crash 0,1 at 1s\n", `"0,1": want one node`},
		{head + "crash 0 when 1s\n", "want crash NODE at TIME"},
		{head + "restart 0 1s\n", "want restart NODE at TIME"},
		{head + "adversary 0\n", "want adversary NODE NAME"},
		{head + "adversary 0 drop to=9\n", `node "9" is not one of`},
		{head + "faulty 0 1\n", "want faulty NODES"},
		{head + "submit 0 1s send\n", "want submit NODES at TIME NAME"},
		{head + `submit 0 at 1s send value="a` + "\n", "x.txt:3: unclosed quote"},
		{head + "submit 0 at 1s send value=\"\\q\"\n", "bad quoted string"},
		{head + "run\n", "want run TIME"},
		{head + "run healed+x\n", `x.txt:3: run: time: invalid duration "x"`},
		{head + "run 1s\nrun 2s\n", "x.txt:4: run: given twice"},
		{head + "params a=1\nparams b=2\n", "x.txt:4: params: given twice"},
		{head + "expect everything\n", "want expect verdict"},
		{head + "wal keep=some\n", "x.txt:3: wal: keep=some: want random, none, all or prefix"},
		{head + "wal flip=2\n", "x.txt:3: wal: flip=2: not a probability"},
		{head + "wal\nwal\n", "x.txt:4: wal: given twice"},
		{head + "wal speed=1\n", "unknown parameter speed"},
		{"nodes 0\nrun 1s\n", "x.txt: no seed line"},
		{"nodes 0\nseed 1\n", "x.txt: no run line"},
		{"# only a comment\n", "x.txt: no nodes line"},
	} {
		_, err := Parse("x.txt", []byte(tt.script))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one saying %q", tt.script, err, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	src := `# A scenario.
nodes a b c   # three nodes
seed 3 1
params f=1 name="x y"
link latency=uniform(1ms, 5ms) loss=0.1
link a->c latency=fixed(50ms)
link at 3s
partition 1s..2s a,b c
crash c at 100ms
crash b event 50
restart c at 1s
adversary a lie to=b,c suffix="!"
adversary a drop p=0.5
faulty c
submit * at 10ms send seq=2 value="hello # not a comment"
run healed+2s
expect verdict
wal keep=prefix flip=0.5 sync=2ms
----
seed 3: ok
`
	sc, err := Parse("x.txt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sc.nodes, []stdtypes.NodeID{"a", "b", "c"}) || !slices.Equal(sc.seeds, []uint64{3, 1}) {
		t.Errorf("nodes %v, seeds %v", sc.nodes, sc.seeds)
	}
	if sc.params.Int("f", 0) != 1 || sc.params.String("name", "") != "x y" || sc.params.check() != nil {
		t.Errorf("params %+v", sc.params)
	}
	if sc.link.Loss != 0.1 || sc.link.Latency.(fmt.Stringer).String() != "Uniform(1ms, 5ms)" {
		t.Errorf("link %+v", sc.link)
	}
	if len(sc.links) != 2 || sc.links[0].from != "a" || sc.links[0].to != "c" || sc.links[0].timed ||
		!sc.links[1].timed || sc.links[1].at != 3*time.Second || sc.links[1].from != "" {
		t.Errorf("link changes %+v", sc.links)
	}
	if len(sc.partitions) != 1 || len(sc.partitions[0].groups) != 2 || sc.partitions[0].until != 2*time.Second {
		t.Errorf("partitions %+v", sc.partitions)
	}
	if len(sc.crashes) != 2 || sc.crashes[0].at != 100*time.Millisecond || sc.crashes[1].event != 50 ||
		len(sc.restarts) != 1 || sc.restarts[0].node != "c" {
		t.Errorf("crashes %+v, restarts %+v", sc.crashes, sc.restarts)
	}
	if len(sc.adversaries) != 2 || sc.adversaries[0].line != 12 || !slices.Equal(sc.adversaries[0].to, []stdtypes.NodeID{"b", "c"}) ||
		sc.adversaries[0].args.String("suffix", "") != "!" {
		t.Errorf("adversaries %+v", sc.adversaries)
	}
	if len(sc.submits) != 1 || len(sc.submits[0].nodes) != 3 || sc.submits[0].args.String("value", "") != "hello # not a comment" || sc.submits[0].line != 15 {
		t.Errorf("submits %+v", sc.submits)
	}
	if !sc.run.healed || sc.run.grace != 2*time.Second || !sc.verdictOnly || !slices.Equal(sc.faulty, []stdtypes.NodeID{"c"}) {
		t.Errorf("run %+v, verdict only %v, faulty %v", sc.run, sc.verdictOnly, sc.faulty)
	}
	if sc.wal == nil || sc.wal.Faults.Keep != wal.KeepPrefix || sc.wal.Faults.FlipProbability != 0.5 ||
		sc.wal.SyncLatency.(fmt.Stringer).String() != "Fixed(2ms)" {
		t.Errorf("wal %+v", sc.wal)
	}
	if !sc.hasExpected || sc.expected != "seed 3: ok\n" || sc.expectedLine != 20 || !strings.HasSuffix(sc.script, "2ms\n----\n") {
		t.Errorf("expected %q at line %d; script ends %q", sc.expected, sc.expectedLine, sc.script[len(sc.script)-20:])
	}
}

func TestArgs(t *testing.T) {
	nodes := []stdtypes.NodeID{"0", "1", "2"}
	a, err := newArgs([]string{"i=-3", "u=7", "f=0.5", "b=true", "d=1s", "l=uniform(1ms,2ms)", "n=0,2", "s=x"}, nodes)
	if err != nil {
		t.Fatal(err)
	}
	if a.Int("i", 0) != -3 || a.Uint("u", 0) != 7 || a.Float("f", 0) != 0.5 || a.Probability("f", 0) != 0.5 ||
		!a.Bool("b", false) || a.Duration("d", 0) != time.Second || a.String("s", "") != "x" ||
		!slices.Equal(a.Nodes("n", nil), []stdtypes.NodeID{"0", "2"}) {
		t.Error("a getter returned another value than given")
	}
	if d, ok := a.Delay("l", nil).(fmt.Stringer); !ok || d.String() != "Uniform(1ms, 2ms)" {
		t.Errorf("Delay: %v", d)
	}
	if a.Int("missing", 42) != 42 || a.String("missing too", "def") != "def" {
		t.Error("defaults")
	}
	if err := a.check(); err != nil {
		t.Errorf("check: %v", err)
	}
	bad, _ := newArgs([]string{"i=x", "extra=1"}, nodes)
	if bad.Int("i", 5) != 5 {
		t.Error("a bad value does not give the default")
	}
	if err := bad.check(); err == nil || !strings.Contains(err.Error(), "i=x") {
		t.Errorf("check: %v", err)
	}
	unused, _ := newArgs([]string{"extra=1"}, nodes)
	if err := unused.check(); err == nil || !strings.Contains(err.Error(), "unknown parameter extra") {
		t.Errorf("check: %v", err)
	}
	if _, err := newArgs([]string{"=1"}, nodes); err == nil {
		t.Error("an empty key was taken")
	}
}

func TestFields(t *testing.T) {
	for line, want := range map[string][]string{
		"":                         nil,
		"  # all comment":          nil,
		"a  b\tc":                  {"a", "b", "c"},
		`v="x y # z" w`:            {`v="x y # z"`, "w"},
		`v="a\"b" # c`:             {`v="a\"b"`},
		"l=uniform(1ms, 5ms) next": {"l=uniform(1ms,5ms)", "next"},
	} {
		got, err := fields(line)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("fields(%q) = %q, %v; want %q", line, got, err, want)
		}
	}
}

// FuzzParse: no script makes the parser panic, and what it accepts it
// accepts again from the text it keeps.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/scenarios/*.txt")
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("nodes 0 1\nseed 1\nlink 0->1 at 1s latency=pareto(1ms, 1.5, 9ms)\npartition 0s..1s 0\nrun healed+1s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("f.txt", data)
		if err != nil {
			return
		}
		if _, err := Parse("f.txt", []byte(sc.script)); err != nil {
			t.Fatalf("the script part of an accepted scenario is refused: %v", err)
		}
	})
}
