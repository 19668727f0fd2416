package replay_test

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// num is the event the tests replay: the "double" module answers num N
// with num 2N for "sink".
type num struct {
	stdtypes.Header
	N int
}

var _ = codec.Register[num]("replaytest.Num")

func doubler() modules.PassiveModule {
	return modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if n, ok := ev.(*num); ok {
			return stdtypes.ListOf(&num{Header: stdtypes.NewHeader("sink"), N: 2 * n.N}), nil
		}
		return nil, nil
	})
}

// sliceSource is a Source over records made in the test.
type sliceSource struct{ recs []*eventlog.Record }

func (s *sliceSource) Next() (*eventlog.Record, error) {
	if len(s.recs) == 0 {
		return nil, io.EOF
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, nil
}
func (s *sliceSource) Warnings() []string { return nil }
func (s *sliceSource) Close() error       { return nil }

// rec makes a record of ev; seqs and batches are set by log.
func rec(t *testing.T, ev stdtypes.Event, input bool) *eventlog.Record {
	t.Helper()
	data, err := codec.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := codec.Name(ev)
	return &eventlog.Record{Node: "n", Dest: ev.Dest(), Type: name, Input: input, Data: data}
}

// log numbers batches of records as a node would have dispatched them.
func log(batches ...[]*eventlog.Record) *sliceSource {
	var all []*eventlog.Record
	seq := uint64(0)
	for b, batch := range batches {
		for _, r := range batch {
			r.Seq, r.Batch = seq, uint64(b)
			seq++
			all = append(all, r)
		}
	}
	return &sliceSource{recs: all}
}

func mods() modules.Modules {
	return modules.Modules{"double": doubler(), "sink": modules.NullActive{}}
}

func numEv(dest stdtypes.ModuleID, n int) *num { return &num{Header: stdtypes.NewHeader(dest), N: n} }

func TestIdentical(t *testing.T) {
	src := log(
		[]*eventlog.Record{rec(t, stdevents.NewInit("double"), true), rec(t, numEv("double", 1), true), rec(t, numEv("double", 5), true)},
		[]*eventlog.Record{rec(t, numEv("sink", 2), false), rec(t, numEv("sink", 10), false)},
	)
	res, err := replay.Run(src, mods())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Identical() || res.Compared != 2 || res.Inputs != 3 || res.Events != 5 || res.Pending != 0 {
		t.Errorf("result %+v, divergence %v", res, res.Divergence)
	}
}

func TestDivergences(t *testing.T) {
	cases := map[string]struct {
		src      *sliceSource
		seq      uint64
		recorded string
		replayed string
	}{
		"different event": {
			log([]*eventlog.Record{rec(t, numEv("double", 1), true)}, []*eventlog.Record{rec(t, numEv("sink", 3), false)}),
			1, `"N":3`, `"N":2`,
		},
		"recorded output never produced": {
			log([]*eventlog.Record{rec(t, numEv("sink", 3), false)}),
			0, `"N":3`, "",
		},
		"produced output missing from the recording": {
			log(
				[]*eventlog.Record{rec(t, numEv("double", 1), true), rec(t, numEv("double", 2), true)},
				[]*eventlog.Record{rec(t, numEv("sink", 4), false)}, // 2 was skipped
			),
			2, `"N":4`, `"N":2`,
		},
	}
	for name, c := range cases {
		res, err := replay.Run(c.src, mods())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d := res.Divergence
		if d == nil {
			t.Errorf("%s: reported identical", name)
			continue
		}
		if d.Seq != c.seq || !strings.Contains(d.Expected, c.recorded) || !strings.Contains(d.Produced, c.replayed) ||
			(c.replayed == "") != (d.Produced == "") {
			t.Errorf("%s: got\n%s\nwant seq %d, recorded %s, replayed %q", name, d, c.seq, c.recorded, c.replayed)
		}
		if !strings.Contains(d.String(), "diverges at seq") {
			t.Errorf("%s: String() = %q", name, d.String())
		}
	}
}

func TestCannotReplay(t *testing.T) {
	gap := log([]*eventlog.Record{rec(t, numEv("double", 1), true), rec(t, numEv("double", 2), true)})
	gap.recs[1].Seq = 5
	late := log([]*eventlog.Record{rec(t, numEv("double", 1), true)})
	late.recs[0].Seq = 3
	other := log([]*eventlog.Record{rec(t, numEv("double", 1), true), rec(t, numEv("double", 2), true)})
	other.recs[1].Node = "m"
	restart := log([]*eventlog.Record{rec(t, numEv("double", 1), true), rec(t, numEv("double", 2), true)})
	restart.recs[1].Run = 1
	missing := log([]*eventlog.Record{rec(t, numEv("elsewhere", 1), true)})
	undecodable := log([]*eventlog.Record{rec(t, numEv("double", 1), true)})
	undecodable.recs[0].Data = []byte{0xff}
	cases := map[string]struct {
		src  *sliceSource
		want string
	}{
		"gap":         {gap, "gap"},
		"late start":  {late, "starts at seq 3"},
		"two nodes":   {other, "nodes n and m"},
		"no module":   {missing, `module "elsewhere"`},
		"two runs":    {restart, "two runs"},
		"undecodable": {undecodable, "decode"},
	}
	for name, c := range cases {
		_, err := replay.Run(c.src, mods())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, c.want)
		}
	}
}

// doubleBuilder rebuilds the test's node, if its parameters are "ok".
var doubleBuilder = replay.Builder{Name: "replaytest", Build: func(node stdtypes.NodeID, params []byte) (modules.Modules, error) {
	if string(params) != "ok" {
		return nil, errors.New("bad params")
	}
	return mods(), nil
}}

func TestBuilders(t *testing.T) {
	other := replay.Builder{Name: "other", Build: func(stdtypes.NodeID, []byte) (modules.Modules, error) { return nil, nil }}
	bs := replay.Builders{doubleBuilder, other}
	if err := bs.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := bs.Names(); !slices.Equal(got, []string{"other", "replaytest"}) {
		t.Errorf("names %q", got)
	}
	if _, err := bs.Build("replaytest", "n", []byte("ok")); err != nil {
		t.Error(err)
	}
	if _, err := bs.Build("replaytest", "n", []byte("no")); err == nil || !strings.Contains(err.Error(), "bad params") {
		t.Errorf("builder error: %v", err)
	}
	if _, err := bs.Build("nobody", "n", nil); !errors.Is(err, replay.ErrNoBuilder) || !strings.Contains(err.Error(), "other, replaytest") {
		t.Errorf("unknown builder: %v", err)
	}
	if _, err := (replay.Builders{}).Build("replaytest", "n", []byte("ok")); !errors.Is(err, replay.ErrNoBuilder) || !strings.Contains(err.Error(), "there are none") {
		t.Errorf("builder found in no builders: %v", err)
	}
	for name, bad := range map[string]replay.Builders{
		"twice":    {doubleBuilder, other, doubleBuilder},
		"no name":  {{Build: doubleBuilder.Build}},
		"no build": {{Name: "x"}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %v", name, bad.Names())
		}
	}
}

// jsonParams are the parameters of the JSON builder under test.
type jsonParams struct {
	Factor int
	Sink   stdtypes.ModuleID
}

// TestJSON: what JSON.Meta records, its Builder decodes for its build
// function, and it refuses what P cannot hold.
func TestJSON(t *testing.T) {
	var got jsonParams
	var gotNode stdtypes.NodeID
	j := replay.JSON[jsonParams]{Name: "json", Build: func(node stdtypes.NodeID, p jsonParams) (modules.Modules, error) {
		got, gotNode = p, node
		return mods(), nil
	}}
	b := j.Builder()
	want := jsonParams{Factor: 3, Sink: "sink"}
	meta, err := j.Meta(want)
	if err != nil {
		t.Fatal(err)
	}
	if meta[replay.MetaBuilder] != "json" || b.Name != "json" || len(meta) != 2 {
		t.Errorf("metadata %v, builder %q", meta, b.Name)
	}
	if _, err := (replay.Builders{b}).Build(meta[replay.MetaBuilder], "n", []byte(meta[replay.MetaParams])); err != nil {
		t.Fatal(err)
	}
	if got != want || gotNode != "n" {
		t.Errorf("build got %+v for node %q, want %+v for n", got, gotNode, want)
	}
	for _, bad := range []string{``, `{`, `[]`, `{"Factor":"x"}`, `{"Factor":1,"Unknown":2}`, `{"Factor":1} {}`, `{"Factor":1} x`} {
		got = jsonParams{}
		if _, err := b.Build("n", []byte(bad)); err == nil || !strings.Contains(err.Error(), "json: replay parameters") {
			t.Errorf("parameters %q: %v, want an error about the replay parameters", bad, err)
		} else if got != (jsonParams{}) {
			t.Errorf("parameters %q: build called with %+v", bad, got)
		}
	}
	if _, err := (replay.JSON[func()]{Name: "json"}).Meta(func() {}); err == nil {
		t.Error("Meta encoded a function")
	}
}
