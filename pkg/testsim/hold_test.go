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

// slowTwin holds each batch for a while, as a disk does while it syncs,
// and can fail the release. It recovers the events it is given.
type slowTwin struct {
	hold      time.Duration
	fail      error
	recovered []stdtypes.Event
	batches   []string // "time: tags"
}

func (d *slowTwin) Recovered() []stdtypes.Event { return d.recovered }

func (d *slowTwin) ApplyEvents(env *testsim.Env, evs *stdtypes.EventList) error {
	var tags []string
	for _, ev := range evs.Slice() {
		if n, ok := ev.(*note); ok {
			tags = append(tags, n.Tag)
		}
	}
	if len(tags) == 0 {
		return nil // Init
	}
	d.batches = append(d.batches, fmt.Sprintf("%v: %s", env.Now(), strings.Join(tags, " ")))
	release := env.Hold()
	env.After(d.hold, func() { release(d.fail) })
	return nil
}

// persist returns a note for the slow twin whose follow-up is a note for
// module a.
func persist(tag string) stdtypes.Event {
	return stdtypes.WithFollowUps(newNote("disk", tag), newNote("a", "after "+tag))
}

// TestHoldReleasesFollowUpsLater: the follow-ups of a held batch come
// when the twin releases it, and its next batch only then.
func TestHoldReleasesFollowUpsLater(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	disk := &slowTwin{hold: 5 * time.Millisecond}
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}, "disk": disk} })
	n.InjectAt(time.Millisecond, persist("x"))
	n.InjectAt(2*time.Millisecond, persist("y"), persist("z"))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(disk.batches); got != "[1ms: x 6ms: y z]" {
		t.Errorf("the twin got the batches %s", got)
	}
	want := "[1ms 0 x 6ms 0 after x 6ms 0 y 6ms 0 z 11ms 0 after y 11ms 0 after z]"
	if got := fmt.Sprint(w.notes); got != want {
		t.Errorf("dispatched %s\nwant       %s", got, want)
	}
}

// TestHeldBatchDiesWithItsNode: the follow-ups of a batch held when the
// node crashes are never released, in this incarnation or the next.
func TestHeldBatchDiesWithItsNode(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	n := singleNode(t, s, func(int) modules.Modules {
		return modules.Modules{"a": modules.NullPassive{}, "disk": &slowTwin{hold: 5 * time.Millisecond}}
	})
	n.InjectAt(time.Millisecond, persist("x"))
	n.CrashAt(3 * time.Millisecond)
	n.RestartAt(4 * time.Millisecond)
	n.InjectAt(5*time.Millisecond, persist("y"))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(w.notes); got != "[1ms 0 x 5ms 0 y 10ms 0 after y]" {
		t.Errorf("dispatched %s", got)
	}
}

// TestHeldBatchFails: a release with an error fails the run, naming the
// module and the batch.
func TestHeldBatchFails(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	disk := &slowTwin{hold: time.Millisecond, fail: errors.New("disk on fire")}
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}, "disk": disk} })
	n.InjectAt(0, persist("x"))
	err := s.Run(time.Second)
	var f *testsim.Failure
	if !errors.As(err, &f) || f.Time != time.Millisecond || !strings.Contains(err.Error(), "disk on fire") ||
		!strings.Contains(err.Error(), `module "disk"`) {
		t.Fatalf("run ended with %v", err)
	}
}

// TestHoldOutsideApplyEvents: a twin that holds from a scheduled function
// has a bug, which panics.
func TestHoldOutsideApplyEvents(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	var env *testsim.Env
	singleNode(t, s, func(int) modules.Modules {
		return modules.Modules{"twin": twinFunc(func(e *testsim.Env, _ *stdtypes.EventList) error { env = e; return nil })}
	})
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Hold outside ApplyEvents") {
			t.Errorf("recovered %v", r)
		}
	}()
	env.Hold()
}

// twinFunc lets a function be a twin.
type twinFunc func(env *testsim.Env, evs *stdtypes.EventList) error

func (f twinFunc) ApplyEvents(env *testsim.Env, evs *stdtypes.EventList) error { return f(env, evs) }

// TestRecoveredForUnknownModule: a recovered event for a module the node
// does not have stops the start, naming the module that recovered it.
func TestRecoveredForUnknownModule(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	_, err := s.AddNode("0", testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
		disk := &slowTwin{recovered: []stdtypes.Event{newNote("gone", "x")}}
		return modules.Modules{"disk": disk}, nil
	}})
	if err == nil || !strings.Contains(err.Error(), `module "disk" recovered`) {
		t.Fatalf("AddNode: %v", err)
	}
}
