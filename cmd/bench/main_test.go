package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/mirframework/mir/pkg/loadgen"
	"github.com/mirframework/mir/pkg/membership"
)

func TestMain(m *testing.M) {
	// The cluster and the clients are stopped when the command returns.
	goleak.VerifyTestMain(m)
}

// runCmd runs the command with args and returns its standard output and
// error.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// runReport runs the command with args and --json jsonFile, fails the
// test if it fails, and returns its standard output and the report the
// JSON file holds.
func runReport(t *testing.T, jsonFile string, args ...string) (stdout string, rep report) {
	t.Helper()
	stdout, stderr, err := runCmd(t, append(args, "--json", jsonFile)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	b, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("the JSON does not decode: %v\n%s", err, b)
	}
	return stdout, rep
}

// TestSweep: a sweep of two small rates against a cluster in the
// process writes valid JSON with both runs' figures, a table row per
// run, and non-empty PNG and SVG plots.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	jsonFile, png, svg := filepath.Join(dir, "r.json"), filepath.Join(dir, "c.png"), filepath.Join(dir, "c.svg")
	stdout, rep := runReport(t, jsonFile, "--rates", "100,0.2k", "--duration", "1s", "--warmup", "500ms", "--clients", "4",
		"--size", "256", "--plot", png+","+svg, "--dir", filepath.Join(dir, "data"))
	if len(rep.Runs) != 2 || rep.Nodes != 4 || rep.Cluster != "local" || rep.Ed25519SignMicros <= 0 || rep.LoopbackRoundTripMicros <= 0 {
		t.Fatalf("report %+v: want 2 runs on 4 local nodes and a baseline", rep)
	}
	for i, want := range []float64{100, 200} {
		r := rep.Runs[i]
		if r.Rate != want || r.TxBytes != 256 || r.Completed == 0 || r.Throughput <= 0 || r.Latency.P50Ms <= 0 || r.CPUMicrosPerTx <= 0 {
			t.Errorf("run %d: %+v: want rate %g, 256-byte transactions, some answered", i, r, want)
		}
	}
	if rows := strings.Count(stdout, "\nopen "); rows != 2 {
		t.Errorf("the table has %d rows, want 2:\n%s", rows, stdout)
	}
	for _, p := range []string{png, svg} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("plot %s: %v, %v", p, fi, err)
		}
	}
	if svgText, _ := os.ReadFile(svg); !bytes.Contains(svgText, []byte("<svg")) {
		t.Errorf("%s is no SVG", svg)
	}
	if pngData, _ := os.ReadFile(png); !bytes.HasPrefix(pngData, []byte("\x89PNG")) {
		t.Errorf("%s is no PNG", png)
	}
}

// TestClosedLoop: one short closed-loop run prints its row.
func TestClosedLoop(t *testing.T) {
	stdout, stderr, err := runCmd(t, "--mode", "closed", "--clients", "2", "--outstanding", "2", "--duration", "1s",
		"--warmup", "0s", "--quiet")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "\nclosed ") || strings.Contains(stderr, " tx/s  p50") {
		t.Errorf("want a closed-loop row and no progress:\n%s\n%s", stdout, stderr)
	}
}

// TestBadFlags: a bad command line is refused, with what is wrong, before
// anything runs.
func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--mode", "half"}, "--mode"},
		{[]string{"--rate", "fast"}, "--rate"},
		{[]string{"--rate", "0"}, "--rate"},
		{[]string{"--rate", "-5k"}, "--rate"},
		{[]string{"--rate", "20m"}, "--rate"},
		{[]string{"--rates", "1k,x"}, "--rates"},
		{[]string{"--rates", "1k", "--mode", "closed"}, "--rates"},
		{[]string{"--plot", "c.png"}, "--plot"},
		{[]string{"--rates", "1k", "--plot", "c.gif"}, "--plot"},
		{[]string{"--arrivals", "bursty"}, "--arrivals"},
		{[]string{"--size", "5"}, "--size"},
		{[]string{"--size", "100000"}, "--size"},
		{[]string{"--duration", "0s"}, "--duration"},
		{[]string{"--warmup", "-1s"}, "--warmup"},
		{[]string{"--client-addrs", "127.0.0.1:1"}, "--membership"},
		{[]string{"--membership", "m.json"}, "--client-addrs"},
		{[]string{"--clients", "x"}, "--clients"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"extra"}, "extra"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, err := runCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %q", err, tc.want)
			}
			if strings.Contains(stderr, "baseline") {
				t.Error("it ran before refusing the command line")
			}
		})
	}
}

// TestMembership: the command loads a running cluster given by its
// membership file and its nodes' client addresses.
func TestMembership(t *testing.T) {
	dir := t.TempDir()
	c, err := loadgen.StartLocal(loadgen.LocalOptions{Dir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	}()
	path := filepath.Join(dir, "membership.json")
	if err := c.Membership().Save(path); err != nil {
		t.Fatal(err)
	}
	// Twice: a second command's clients are new to the nodes, which
	// would drop the transaction numbers of the first's as executed.
	for range 2 {
		_, rep := runReport(t, filepath.Join(dir, "r.json"), "--membership", path, "--client-addrs", strings.Join(c.ClientAddrs(), ","),
			"--rate", "100", "--clients", "2", "--duration", "1s", "--warmup", "0s", "--quiet")
		if rep.Cluster != path || rep.Nodes != 4 || len(rep.Runs) != 1 || rep.Runs[0].Completed == 0 {
			t.Fatalf("report %+v: want one run against the 4 nodes of %s, some answered", rep, path)
		}
	}
}

// TestMembershipClientAddrs: --client-addrs must give one address per
// node of the membership.
func TestMembershipClientAddrs(t *testing.T) {
	m, _, err := membership.Local(4, "127.0.0.1", 7000)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "membership.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	_, _, err = runCmd(t, "--membership", path, "--client-addrs", "127.0.0.1:1,127.0.0.1:2", "--duration", "1s")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "2 addresses") {
		t.Fatalf("error %v, want a usage error about 2 addresses for 4 nodes", err)
	}
}

// TestPlotSkipsEmptyRuns: a run that completed nothing (past saturation)
// has no point on the log scale, and a sweep of only such runs is an
// error, not an empty plot.
func TestPlotSkipsEmptyRuns(t *testing.T) {
	mk := func(tput, p50 float64) run {
		var r run
		r.Throughput, r.Latency.P50Ms, r.Latency.P99Ms = tput, p50, 2*p50
		return r
	}
	path := filepath.Join(t.TempDir(), "c.svg")
	rep := report{Nodes: 4, Cluster: "local", Runs: []run{mk(1000, 40), mk(0, 0)}}
	if err := plotCurve(path, rep); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("plot: %v, %v", fi, err)
	}
	rep.Runs = rep.Runs[1:]
	if err := plotCurve(path, rep); err == nil {
		t.Fatal("a sweep with no completed run was plotted")
	}
}
