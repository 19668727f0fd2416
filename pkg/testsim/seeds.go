package testsim

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// DefaultSeeds is the number of seeds a simulation test runs by default
// (-sim.seeds): enough to catch the bugs that show up in one run in a
// few, few enough that a package's simulation tests take seconds on a
// small CI machine. Run more when hunting:
//
//	go test ./pkg/mine -run TestMine -sim.seeds=1000
const DefaultSeeds = 16

// RaceSeeds is the number of seeds a simulation test runs by default under
// the race detector: a simulation runs on one goroutine, so the detector
// has nothing to find in it, and it makes it ten times slower. The seeds
// run without it; -sim.seeds or -sim.seed set on the command line count
// all the same.
const RaceSeeds = 1

// The flags are registered when a test binary links this package, that is,
// in the tests of packages that use it.
var (
	seedsFlag     = flag.Int("sim.seeds", DefaultSeeds, "number of seeds each simulation test runs")
	firstSeedFlag = flag.Uint64("sim.firstseed", 1, "first of the -sim.seeds seeds")
	seedFlag      optionalSeed
)

func init() {
	flag.Var(&seedFlag, "sim.seed", "run only this seed, to reproduce a failure")
}

// optionalSeed is a flag.Value that remembers whether it was set.
type optionalSeed struct {
	seed uint64
	set  bool
}

func (o *optionalSeed) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.FormatUint(o.seed, 10)
}

func (o *optionalSeed) Set(s string) error {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return err
	}
	o.seed, o.set = v, true
	return nil
}

// Seeds returns the seeds a simulation test runs: the one given with
// -sim.seed, or -sim.seeds of them from -sim.firstseed (1) on. Call it from
// a test, once flags are parsed.
func Seeds() []uint64 {
	if seedFlag.set {
		return []uint64{seedFlag.seed}
	}
	n := *seedsFlag
	if raceDetector && !seedsFlagSet() {
		n = min(n, RaceSeeds)
	}
	seeds := make([]uint64, max(n, 0))
	for i := range seeds {
		seeds[i] = *firstSeedFlag + uint64(i)
	}
	return seeds
}

// seedsFlagSet tells whether -sim.seeds was given on the command line.
func seedsFlagSet() bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "sim.seeds" })
	return set
}

// RunSeeds runs f for each seed of Seeds, each in a subtest named
// "seed=N". It stops at the first seed that fails, and prints the command
// that runs that seed alone, which repeats the run exactly:
//
//	go test -run '^TestBroadcast$' ./pkg/bcast -sim.seed=7
func RunSeeds(t *testing.T, f func(t *testing.T, seed uint64)) {
	t.Helper()
	for _, seed := range Seeds() {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("reproduce with: %s", ReproduceCommand(t, seed))
				}
			})
			f(t, seed)
		})
		if !ok {
			return
		}
	}
}

// ReproduceCommand returns the go test command that runs the given seed of
// test t (or of the test whose subtest t is, for a subtest named
// "seed=N").
func ReproduceCommand(t testing.TB, seed uint64) string {
	parts := strings.Split(t.Name(), "/")
	if last := parts[len(parts)-1]; strings.HasPrefix(last, "seed=") && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test -run '%s' %s -sim.seed=%d", strings.Join(parts, "/"), packageDir(), seed)
}

// packageDir returns the directory of the package under test relative to
// its module's root ("./pkg/bcast"): go test runs a test binary in its
// package's directory.
var packageDir = sync.OnceValue(func() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
})
