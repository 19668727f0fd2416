package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// recordRun runs the sample with -record and returns the directory.
func recordRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-count", "5", "-interval", "2ms", "-record", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	return dir
}

// builders are the builders the tests replay with: the protocol's, and
// alteredBuilder.
var builders = replay.Builders{protocol.Replay.Builder(), alteredBuilder}

// replayNode replays node id's log in dir with the builder named in it, or
// with builder if not empty.
func replayNode(t *testing.T, dir string, id stdtypes.NodeID, builder string) *replay.Result {
	t.Helper()
	path := filepath.Join(dir, string(id)+".000000"+eventlog.StreamExt)
	r, err := eventlog.OpenStream(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	meta := r.Header().Meta
	if builder == "" {
		builder = meta[replay.MetaBuilder]
	}
	mods, err := builders.Build(builder, id, []byte(meta[replay.MetaParams]))
	if err != nil {
		t.Fatal(err)
	}
	res, err := replay.Run(r, mods)
	if err != nil {
		t.Fatal(err)
	}
	if w := r.Warnings(); len(w) > 0 {
		t.Errorf("warnings reading %s: %v", path, w)
	}
	return res
}

func TestRecordAndReplayIdentical(t *testing.T) {
	dir := recordRun(t)
	for _, id := range ids {
		res := replayNode(t, dir, id, "")
		if !res.Identical() {
			t.Errorf("node %s: %s", id, res.Divergence)
		}
		// Node 1 sends at least 5 pongs, node 0 at least 5 pings.
		if res.Compared < 5 || res.Inputs == 0 {
			t.Errorf("node %s: compared %d outputs of %d events, %d inputs: the replay did not check much",
				id, res.Compared, res.Events, res.Inputs)
		}
	}
}

// alteredPingPong is the ping-pong protocol with one change: it answers its
// second ping with a Pong numbered one more than asked.
type alteredPingPong struct {
	modules.PassiveModule
	pings int
}

func (m *alteredPingPong) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out, err := m.PassiveModule.ApplyEvents(evs)
	if err != nil || out == nil {
		return out, err
	}
	for i, ev := range out.Slice() {
		send, ok := ev.(*stdevents.SendMessage)
		if !ok {
			continue
		}
		if pong, ok := send.Msg.(*protocol.Pong); ok {
			m.pings++
			if m.pings == 2 {
				altered := *send
				altered.Msg = &protocol.Pong{Seq: pong.Seq + 1}
				out.Slice()[i] = &altered
			}
		}
	}
	return out, nil
}

// alteredBuilder rebuilds a node as the protocol's builder does, with
// alteredPingPong in place of the protocol.
var alteredBuilder = replay.Builder{Name: "pingpong-altered", Build: func(node stdtypes.NodeID, params []byte) (modules.Modules, error) {
	mods, err := protocol.Replay.Builder().Build(node, params)
	if err != nil {
		return nil, err
	}
	self := protocol.DefaultModuleConfig().Self
	mods[self] = &alteredPingPong{PassiveModule: mods[self].(modules.PassiveModule)}
	return mods, nil
}}

func TestReplayReportsFirstDivergence(t *testing.T) {
	dir := recordRun(t)
	// Node 1 answers; find the second Pong it sent in the recording.
	path := filepath.Join(dir, "1.000000"+eventlog.StreamExt)
	r, err := eventlog.OpenStream(path)
	if err != nil {
		t.Fatal(err)
	}
	var want uint64
	pongs := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type != "mir.SendMessage" {
			continue
		}
		ev, err := rec.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ev.(*stdevents.SendMessage).Msg.(*protocol.Pong); ok {
			if pongs++; pongs == 2 {
				want = rec.Seq
				break
			}
		}
	}
	r.Close()
	if pongs < 2 {
		t.Fatalf("the recording of node 1 has %d pongs", pongs)
	}

	res := replayNode(t, dir, "1", "pingpong-altered")
	d := res.Divergence
	if d == nil {
		t.Fatal("the altered module's replay was reported identical")
	}
	if d.Seq != want || d.Dest != "net" || d.ExpectedType != "mir.SendMessage" {
		t.Errorf("divergence at seq %d for %s (%s), want seq %d for net (mir.SendMessage)\n%s", d.Seq, d.Dest, d.ExpectedType, want, d)
	}
	if d.Expected == d.Produced || d.Produced == "" || d.ProducedBy == "" {
		t.Errorf("divergence does not show both events and the producer:\n%s", d)
	}
	// Node 0 is unaffected.
	if res := replayNode(t, dir, "0", "pingpong-altered"); !res.Identical() {
		t.Errorf("node 0 (which never answers a ping) diverged: %s", res.Divergence)
	}
	_ = os.RemoveAll(dir)
}
