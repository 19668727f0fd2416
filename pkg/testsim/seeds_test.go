package testsim_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/testsim"
)

func TestSeeds(t *testing.T) {
	seeds := testsim.Seeds()
	if len(seeds) == 0 {
		t.Fatal("no seeds")
	}
	for i := 1; i < len(seeds); i++ {
		if seeds[i] != seeds[i-1]+1 {
			t.Errorf("seeds %v are not consecutive", seeds)
		}
	}
}

func TestReproduceCommand(t *testing.T) {
	want := "go test -run '^TestReproduceCommand$' ./pkg/testsim -sim.seed=17"
	if got := testsim.ReproduceCommand(t, 17); got != want {
		t.Errorf("ReproduceCommand = %s\nwant %s", got, want)
	}
	t.Run("seed=17", func(t *testing.T) {
		if got := testsim.ReproduceCommand(t, 17); got != want {
			t.Errorf("in a seed subtest: %s\nwant %s", got, want)
		}
	})
	t.Run("sub test(x)", func(t *testing.T) {
		want := `go test -run '^TestReproduceCommand$/^sub_test\(x\)$' ./pkg/testsim -sim.seed=3`
		if got := testsim.ReproduceCommand(t, 3); got != want {
			t.Errorf("in a subtest: %s\nwant %s", got, want)
		}
	})
}

func TestRunSeedsRunsEachSeed(t *testing.T) {
	var ran []uint64
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) { ran = append(ran, seed) })
	if len(ran) != len(testsim.Seeds()) {
		t.Errorf("ran seeds %v, want %v", ran, testsim.Seeds())
	}
}
