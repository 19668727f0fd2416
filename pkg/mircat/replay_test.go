package mircat

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// recordPingPong runs nodes 0 and 1 of the ping-pong protocol until node 0
// has 5 pongs, recording both with newRecorder.
func recordPingPong(t *testing.T, newRecorder func(id stdtypes.NodeID, meta map[string]string) (*eventlog.Recorder, error)) {
	t.Helper()
	ids := []stdtypes.NodeID{"0", "1"}
	network, err := local.NewNetwork(ids, local.Options{Logger: logging.NilLogger})
	if err != nil {
		t.Fatal(err)
	}
	defer network.Stop()
	mc := protocol.DefaultModuleConfig()
	finished := make(chan struct{})
	var once sync.Once
	var nodes []*mir.Node
	var recorders []*eventlog.Recorder
	for i, id := range ids {
		params := protocol.DefaultModuleParams([]stdtypes.NodeID{ids[1-i]})
		params.Count, params.Interval = 5, 2*time.Millisecond
		if i == 1 {
			params.Targets = nil
		}
		p, err := protocol.New(mc, params)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := network.Transport(id)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Start(); err != nil {
			t.Fatal(err)
		}
		mods := modules.Modules{mc.Self: p, mc.Timer: stdmodules.NewTimer(mc.Timer, logging.NilLogger), mc.Net: tr}
		if i == 0 {
			mods[mc.Reporter] = modules.NewMockActive(1, func(_ context.Context, evs *stdtypes.EventList) error {
				for _, ev := range evs.Slice() {
					if _, ok := ev.(*protocol.Finished); ok {
						once.Do(func() { close(finished) })
					}
				}
				return nil
			})
		}
		meta, err := protocol.Replay.Meta(protocol.ReplayParams{Config: mc, Params: params, Reporter: i == 0})
		if err != nil {
			t.Fatal(err)
		}
		rec, err := newRecorder(id, meta)
		if err != nil {
			t.Fatal(err)
		}
		recorders = append(recorders, rec)
		node, err := mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(logging.NilLogger), mods, rec)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, node)
	}
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- n.Run(context.Background()) }()
	}
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("node 0 did not get its pongs")
	}
	for _, n := range nodes {
		n.Stop()
	}
	for range nodes {
		if err := <-errs; !errors.Is(err, mir.ErrStopped) {
			t.Fatal(err)
		}
	}
	for _, r := range recorders {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func streamPingPong(t *testing.T) string {
	dir := t.TempDir()
	recordPingPong(t, func(id stdtypes.NodeID, meta map[string]string) (*eventlog.Recorder, error) {
		return eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{Meta: meta}, eventlog.RecorderOptions{})
	})
	return dir
}

// pongAnswerer is the ping-pong protocol changed to answer every ping with
// the pong of the ping before.
type pongAnswerer struct{ modules.PassiveModule }

func (m pongAnswerer) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out, err := m.PassiveModule.ApplyEvents(evs)
	if err != nil || out == nil {
		return out, err
	}
	for i, ev := range out.Slice() {
		if send, ok := ev.(*stdevents.SendMessage); ok {
			if pong, ok := send.Msg.(*protocol.Pong); ok && pong.Seq == 3 {
				altered := *send
				altered.Msg = &protocol.Pong{Seq: 2}
				out.Slice()[i] = &altered
			}
		}
	}
	return out, nil
}

// alteredBuilder rebuilds a ping-pong node with pongAnswerer in place of
// the protocol.
var alteredBuilder = replay.Builder{Name: "mircattest-altered", Build: func(node stdtypes.NodeID, params []byte) (modules.Modules, error) {
	mods, err := protocol.Replay.Builder().Build(node, params)
	if err != nil {
		return nil, err
	}
	self := protocol.DefaultModuleConfig().Self
	mods[self] = pongAnswerer{mods[self].(modules.PassiveModule)}
	return mods, nil
}}

var identicalLine = regexp.MustCompile(`(?m)^node (\d), run of \S+: identical \((\d+) events; (\d+) inputs replayed, (\d+) outputs compared\)$`)

func TestReplayIdentical(t *testing.T) {
	dir := streamPingPong(t)
	r := mircat(t, "", "replay", dir)
	r.wantCode(t, exitOK)
	m := identicalLine.FindAllStringSubmatch(r.stdout, -1)
	if len(m) != 2 || m[0][1] != "0" || m[1][1] != "1" {
		t.Fatalf("replay output:\n%s", r.stdout)
	}
	r = mircat(t, "", "replay", "--node", "1", dir)
	r.wantCode(t, exitOK)
	if m := identicalLine.FindAllStringSubmatch(r.stdout, -1); len(m) != 1 || m[0][1] != "1" {
		t.Errorf("replay --node 1:\n%s", r.stdout)
	}
}

func TestReplayFromSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.sqlite")
	recordPingPong(t, func(id stdtypes.NodeID, meta map[string]string) (*eventlog.Recorder, error) {
		return sqlitelog.NewRecorder(path, id, sqlitelog.Options{Meta: meta}, eventlog.RecorderOptions{})
	})
	r := mircat(t, "", "replay", path)
	r.wantCode(t, exitOK)
	if m := identicalLine.FindAllStringSubmatch(r.stdout, -1); len(m) != 2 {
		t.Errorf("replay of a SQLite log:\n%s\n%s", r.stdout, r.stderr)
	}
}

func TestReplayReportsDivergence(t *testing.T) {
	dir := streamPingPong(t)
	r := mircat(t, "", "replay", "--builder", "mircattest-altered", dir)
	r.wantCode(t, exitDiverged)
	// Node 0 never answers pings: identical. Node 1's pong 3 differs.
	if !regexp.MustCompile(`(?m)^node 0, .*: identical`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^node 1, .*: DIVERGED after \d+ outputs matched\nnode 1 diverges at seq \d+ \(event for net\)\n  recorded: mir.SendMessage .*"Seq":3.*\n  replayed: mir.SendMessage .*"Seq":2.*\n  produced by: pingpong handling seq \d+-\d+\n`).MatchString(r.stdout) {
		t.Errorf("replay output:\n%s", r.stdout)
	}
}

func TestReplayProblems(t *testing.T) {
	dir := streamPingPong(t)
	noMeta := t.TempDir()
	recordPingPong(t, func(id stdtypes.NodeID, _ map[string]string) (*eventlog.Recorder, error) {
		return eventlog.NewStreamRecorder(noMeta, id, eventlog.StreamOptions{}, eventlog.RecorderOptions{})
	})
	filtered := t.TempDir()
	recordPingPong(t, func(id stdtypes.NodeID, meta map[string]string) (*eventlog.Recorder, error) {
		return eventlog.NewStreamRecorder(filtered, id, eventlog.StreamOptions{Meta: meta},
			eventlog.RecorderOptions{Filter: eventlog.Filter{Modules: []stdtypes.ModuleID{"pingpong"}}})
	})
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"replay", noMeta}, exitFailure, "names no builder"},
		{[]string{"replay", filtered}, exitFailure, "needs the whole run"},
		{[]string{"replay", "--node", "7", dir}, exitFailure, "no recorded run of node 7"},
		{[]string{"replay", "--builder", "nobody", dir}, exitUsage, `no such builder (this mircat has: mircattest-altered, pingpong)`},
		{[]string{"replay", "--params", "{", dir}, exitFailure, "replay parameters"},
		{[]string{"replay", "--params", "@/nonexistent", dir}, exitUsage, "--params"},
		{[]string{"replay"}, exitUsage, "needs at least one log"},
	}
	for _, c := range cases {
		r := mircat(t, "", c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("mircat %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), r.code, r.stderr, c.code, c.want)
		}
	}
	r := mircat(t, "", "replay", "--builders")
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "pingpong\n") {
		t.Errorf("--builders:\n%s", r.stdout)
	}
}
