package mircat_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/mircat"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// The tests in this file build a mircat for a protocol that is not part of
// the repository: tally, defined below. Each node adds the numbers it is
// given (Add) and shares them with the others (a Share message), so that
// all end with the same total.

// add is tally's input: a number for the node to add.
type add struct {
	stdtypes.Header
	N uint64
}

// share tells the other nodes a number one of them added.
type share struct {
	stdtypes.MessageBase
	N uint64
}

// registerTallyTypes registers tally's types with package codec. A
// protocol package does this in package-level declarations, next to the
// types, so that importing it registers them; this test calls it from
// TestMain, so that a process of the test binary can also play a mircat
// built without tally's types.
func registerTallyTypes() {
	codec.Register[add]("tally.Add")
	codec.Register[share]("tally.Share")
}

// tally is the protocol's module.
type tally struct {
	peers []stdtypes.NodeID
	total uint64
}

// ReceivesMessages declares that the module takes messages from other nodes.
func (*tally) ReceivesMessages() {}

func (m *tally) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(evs, func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		switch ev := ev.(type) {
		case *add:
			m.total += ev.N
			return stdtypes.ListOf(stdevents.NewSendMessage(deploytest.DefaultTransportID, &share{N: ev.N}, stdevents.To("tally", m.peers...))), nil
		case *stdevents.MessageReceived:
			if s, ok := ev.Msg.(*share); ok {
				m.total += s.N
			}
		}
		return nil, nil
	})
}

// newTally returns node self's module, in a system of nodes.
func newTally(self stdtypes.NodeID, nodes []stdtypes.NodeID) *tally {
	return &tally{peers: slices.DeleteFunc(slices.Clone(nodes), func(n stdtypes.NodeID) bool { return n == self })}
}

// tallyReplay is how tally's nodes are replayed, which a protocol exports
// for mircat: the recording's parameters are the node IDs, as JSON.
var tallyReplay = replay.JSON[[]stdtypes.NodeID]{Name: "tally", Build: func(node stdtypes.NodeID, nodes []stdtypes.NodeID) (modules.Modules, error) {
	return modules.Modules{
		"tally":                       newTally(node, nodes),
		deploytest.DefaultTransportID: modules.NullActive{},
		deploytest.DefaultTimerID:     modules.NullActive{},
	}, nil
}}

// userMain is the main of the tally user's own mircat.
func userMain() int {
	return mircat.Main(os.Args[1:], mircat.WithReplayBuilders(tallyReplay.Builder()))
}

// A mircat with the replay builders of a protocol, here tally's.
func ExampleWithReplayBuilders() {
	code := mircat.Run(context.Background(), []string{"replay", "--builders"}, os.Stdin, os.Stdout, os.Stderr,
		mircat.WithReplayBuilders(tallyReplay.Builder()))
	fmt.Println("exit code", code)
	// Output:
	// tally
	// exit code 0
}

// mircatEnv, set in the environment of a process of the test binary, makes
// it play a mircat instead of running the tests: "user" is the tally
// user's mircat, "bare" one built without tally.
const mircatEnv = "MIRCAT_TEST_AS"

func TestMain(m *testing.M) {
	switch os.Getenv(mircatEnv) {
	case "user":
		registerTallyTypes()
		os.Exit(userMain())
	case "bare":
		os.Exit(mircat.Main(os.Args[1:]))
	}
	registerTallyTypes()
	os.Exit(m.Run())
}

// recordTally runs three tally nodes in a simulation, each adding a number,
// records them all in a new directory, and returns it.
func recordTally(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	nodes := []stdtypes.NodeID{"0", "1", "2"}
	meta, err := tallyReplay.Meta(nodes)
	if err != nil {
		t.Fatal(err)
	}
	mods := map[stdtypes.NodeID]*tally{}
	var recorders []*eventlog.Recorder
	d, err := deploytest.NewSimulated(deploytest.Config{
		Nodes: nodes,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			mods[info.ID] = newTally(info.ID, info.Nodes)
			return modules.Modules{"tally": mods[info.ID]}, nil
		},
	}, deploytest.SimOptions{
		Seed: 1,
		Interceptor: func(id stdtypes.NodeID) eventlog.Interceptor {
			rec, err := eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{Meta: meta}, eventlog.RecorderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			recorders = append(recorders, rec)
			return rec
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	for i, id := range nodes {
		if err := d.Submit(id, &add{Header: stdtypes.NewHeader("tally"), N: uint64(i + 5)}); err != nil {
			t.Fatal(err)
		}
	}
	done := func() bool {
		return mods["0"].total == 18 && mods["1"].total == 18 && mods["2"].total == 18
	}
	if err := d.WaitFor(done, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, rec := range recorders {
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runAs runs a process of the test binary as the mircat named by as
// ("user" or "bare") with args.
func runAs(t *testing.T, as string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), mircatEnv+"="+as)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// TestUserMircat runs the mircat a user builds for tally: it shows tally's
// events and messages with their types, and replays the nodes.
func TestUserMircat(t *testing.T) {
	dir := recordTally(t)
	out, errOut, code := runAs(t, "user", "show", dir, "--node", "1", "--module", "tally,net")
	if code != 0 || errOut != "" {
		t.Fatalf("show: exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{
		`  in   tally         tally.Add            {N:6}`,
		`  out  net           mir.SendMessage      {MsgDest:"tally" Destinations:["0" "2"] Msg:tally.Share{N:6}}`,
		`  in   tally         mir.MessageReceived  {From:"0" Msg:tally.Share{N:5}}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	out, errOut, code = runAs(t, "user", "replay", dir)
	identical := regexp.MustCompile(`(?m)^node \d, run of \S+: identical \(\d+ events; \d+ inputs replayed, [1-9]\d* outputs compared\)$`)
	if code != 0 || errOut != "" || len(identical.FindAllString(out, -1)) != 3 {
		t.Errorf("replay: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if out, _, _ := runAs(t, "user", "replay", "--builders"); out != "tally\n" {
		t.Errorf("replay --builders: %q", out)
	}
}

// TestMircatWithoutTheProtocol runs a mircat built without tally on its
// recording: it shows tally's events and messages generically and exits 0,
// and cannot replay them.
func TestMircatWithoutTheProtocol(t *testing.T) {
	dir := recordTally(t)
	out, errOut, code := runAs(t, "bare", "show", dir, "--node", "1", "--module", "tally,net")
	if code != 0 || errOut != "" {
		t.Fatalf("show: exit %d, stderr %s", code, errOut)
	}
	// A top-level event is named by the log; a message inside another
	// event has only its tag.
	shareTag := fmt.Sprint(codec.TagOf("tally.Share"))
	for _, want := range []string{
		`  in   tally         tally.Add            {N:6}`,
		`  out  net           mir.SendMessage      {Destinations:["0" "2"] Msg:<tag ` + shareTag + `>{N:6} MsgDest:"tally"}`,
		`  in   tally         mir.MessageReceived  {From:"0" Msg:<tag ` + shareTag + `>{N:5}}`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	out, errOut, code = runAs(t, "bare", "show", "--json", "--event", "tally.Add", dir)
	if code != 0 || errOut != "" || len(strings.Split(strings.TrimSpace(out), "\n")) != 3 ||
		!strings.Contains(out, `"type":"tally.Add","input":true,"event":{"DestModule":"tally","N":5},"note":"type not registered in this binary: decoded generically"}`) {
		t.Errorf("show --json: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	out, _, code = runAs(t, "bare", "list", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^tally.Add +3 .*not registered in this binary: decoded generically\)$`).MatchString(out) {
		t.Errorf("list: exit %d\n%s", code, out)
	}

	_, errOut, code = runAs(t, "bare", "replay", dir)
	if code != 1 || !strings.Contains(errOut, `cannot replay: replay: "tally": no replay builder of this name (there are none)`) {
		t.Errorf("replay: exit %d, stderr:\n%s", code, errOut)
	}
}
