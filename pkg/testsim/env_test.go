package testsim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// echoTwin is a user-written twin: it answers each note with the same
// note, for module "a", after the delay in the note's tag, and counts its
// wake-ups.
type echoTwin struct {
	wakeups int
	lastEnv *testsim.Env
}

func (e *echoTwin) ApplyEvents(env *testsim.Env, evs *stdtypes.EventList) error {
	e.lastEnv = env
	for _, ev := range evs.Slice() {
		n, ok := ev.(*note)
		if !ok {
			continue
		}
		d, err := time.ParseDuration(n.Tag)
		if err != nil {
			return fmt.Errorf("echo: %w", err)
		}
		env.Emit(d, newNote("a", "echo "+n.Tag+" at "+(env.Now()+d).String()))
		env.After(d, func() { e.wakeups++ })
	}
	return nil
}

func TestTwinEmitsLater(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	twin := &echoTwin{}
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}, "echo": twin} })
	n.InjectAt(time.Millisecond, newNote("echo", "5ms"), newNote("echo", "0s"))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	want := "[1ms 0 5ms 1ms 0 0s 1ms 0 echo 0s at 1ms 6ms 0 echo 5ms at 6ms]"
	if got := fmt.Sprint(w.notes); got != want {
		t.Errorf("notes %s\nwant  %s", got, want)
	}
	if twin.wakeups != 2 {
		t.Errorf("%d wake-ups, want 2", twin.wakeups)
	}
	env := twin.lastEnv
	if env.Node() != "0" || env.Module() != "echo" || env.Sim() != s || !env.Alive() || env.Rand() == nil {
		t.Errorf("Env: node %s, module %s, alive %v", env.Node(), env.Module(), env.Alive())
	}
}

func TestTwinEmissionsDieWithTheNode(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	twin := &echoTwin{}
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}, "echo": twin} })
	_ = n.Inject(newNote("echo", "10ms"))
	var old *testsim.Env
	s.At(4*time.Millisecond, func() { old = twin.lastEnv })
	n.CrashAt(5 * time.Millisecond)
	n.RestartAt(6 * time.Millisecond)
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	for _, nt := range w.notes {
		if strings.Contains(nt, "echo 10ms") {
			t.Errorf("an emission of the crashed incarnation arrived: %s", nt)
		}
	}
	if twin.wakeups != 0 {
		t.Errorf("%d wake-ups of the crashed incarnation", twin.wakeups)
	}
	// An Env of the old incarnation is dead and emits nothing.
	if old.Alive() || !twin.lastEnv.Alive() {
		t.Error("the Env of a crashed incarnation is alive")
	}
	old.Emit(0, newNote("a", "ghost"))
	if err := s.Run(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, nt := range w.notes {
		if strings.HasSuffix(nt, "ghost") {
			t.Error("a dead Env emitted")
		}
	}
}

func TestTwinErrorsEndTheRun(t *testing.T) {
	for tag, want := range map[string]string{
		"not a duration": "echo: time: invalid duration",
		"-1s":            "negative delay",
	} {
		s := testsim.New(testsim.Options{Seed: 1})
		n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}, "echo": &echoTwin{}} })
		_ = n.Inject(newNote("echo", tag))
		err := s.Run(time.Second)
		var f *testsim.Failure
		if !errors.As(err, &f) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `module "echo"`) {
			t.Errorf("%s: Run = %v, want a failure of module echo: %s", tag, err, want)
		}
	}
}
