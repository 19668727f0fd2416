package testsim_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// tick is the chatter's timer event.
type tick struct {
	stdtypes.Header
}

var _ = codec.Register[tick]("testsim_test.tick")

// chatter is a protocol module that uses everything a simulation drives:
// a repeating timer, one-shot timers, messages to self and to others, all
// depending on what arrived before, so that any nondeterminism in the
// simulation shows up in what it does.
type chatter struct {
	self  int
	nodes []stdtypes.NodeID
	sent  uint64
	state uint64
}

// ReceivesMessages declares that the module takes messages from other nodes.
func (*chatter) ReceivesMessages() {}

func (c *chatter) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			out.PushBack(stdevents.NewTimerRepeat("timer", 7*time.Millisecond, 0, &tick{Header: stdtypes.NewHeader("app")}))
		case *tick:
			c.sent++
			to := c.nodes[(c.state+c.sent)%uint64(len(c.nodes))]
			out.PushBack(stdevents.NewSendMessage("net", &msg{Seq: c.sent}, stdevents.To("app", to)))
		case *stdevents.MessageReceived:
			m := ev.Msg.(*msg)
			c.state = c.state*31 + m.Seq + uint64(len(ev.From))
			if m.Seq%3 == 0 {
				// Forward it, to a node chosen by the state so far.
				to := c.nodes[c.state%uint64(len(c.nodes))]
				out.PushBack(stdevents.NewSendMessage("net", &msg{Seq: m.Seq + 1}, stdevents.To("app", to)))
			}
			if m.Seq%5 == 0 {
				out.PushBack(stdevents.NewTimerDelay("timer", time.Duration(c.state%10)*time.Millisecond,
					&tick{Header: stdtypes.NewHeader("app")}))
			}
		}
	}
	return out, nil
}

// runChatter runs 5 chatter nodes for a simulated second under every kind
// of fault, and returns the simulation.
func runChatter(t testing.TB, seed uint64, hashContent bool) *testsim.Sim {
	s := testsim.New(testsim.Options{Seed: seed, HashContent: hashContent, BatchDelay: testsim.Uniform(0, 50*time.Microsecond)})
	ids := []stdtypes.NodeID{"0", "1", "2", "3", "4"}
	network, err := sim.New(s, ids, sim.Options{Link: sim.LinkConfig{
		Latency:   testsim.Pareto(500*time.Microsecond, 1.2, 50*time.Millisecond),
		Loss:      0.05,
		Duplicate: 0.05,
		Reorder:   0.1,
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		tr, _ := network.Transport(id)
		if _, err := s.AddNode(id, testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
			return modules.Modules{"app": &chatter{self: i, nodes: ids}, "net": tr, "timer": testsim.NewTimer()}, nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := network.PartitionDuring(200*time.Millisecond, 400*time.Millisecond, ids[:2]); err != nil {
		t.Fatal(err)
	}
	if err := network.SetAdversary("4", sim.Chain(sim.Drop(0.2), sim.Delay(testsim.Uniform(0, 5*time.Millisecond)))); err != nil {
		t.Fatal(err)
	}
	victim := ids[s.Rand().IntN(len(ids))]
	s.Node(victim).CrashAt(300 * time.Millisecond)
	s.Node(victim).RestartAt(600 * time.Millisecond)
	s.Node("3").CrashAtEvent(500)
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSameSeedSameHash(t *testing.T) {
	for _, content := range []bool{false, true} {
		t.Run(fmt.Sprintf("content=%v", content), func(t *testing.T) {
			a, b := runChatter(t, 42, content), runChatter(t, 42, content)
			if a.Hash() != b.Hash() || a.Events() != b.Events() || a.Now() != b.Now() {
				t.Errorf("seed 42 twice: hash %016x, %d events; then %016x, %d events",
					a.Hash(), a.Events(), b.Hash(), b.Events())
			}
			if a.Events() < 1000 {
				t.Errorf("only %d events: the workload is too small to show anything", a.Events())
			}
			if content && a.Unhashable() != 0 {
				t.Errorf("%d events could not be hashed by content", a.Unhashable())
			}
			if c := runChatter(t, 43, content); c.Hash() == a.Hash() {
				t.Errorf("seeds 42 and 43 give the same hash %016x", a.Hash())
			}
		})
	}
}

// hashChildEnv makes the test binary, run by TestSameSeedSameHashAcrossProcesses,
// print the hash of a run and exit.
const hashChildEnv = "TESTSIM_HASH_CHILD"

func TestSameSeedSameHashAcrossProcesses(t *testing.T) {
	if seed := os.Getenv(hashChildEnv); seed != "" {
		v, err := strconv.ParseUint(seed, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		s := runChatter(t, v, true)
		fmt.Printf("hash=%016x events=%d\n", s.Hash(), s.Events())
		return
	}
	want := runChatter(t, 7, true)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSameSeedSameHashAcrossProcesses$", "-test.count=1")
	cmd.Env = append(os.Environ(), hashChildEnv+"=7")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`hash=([0-9a-f]{16}) events=(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child process printed no hash:\n%s", out)
	}
	if got := fmt.Sprintf("%016x", want.Hash()); string(m[1]) != got || string(m[2]) != strconv.FormatUint(want.Events(), 10) {
		t.Errorf("child process: hash %s, %s events; this process: hash %s, %d events", m[1], m[2], got, want.Events())
	}
}
