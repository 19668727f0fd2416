// Package replay re-runs a node's recorded events and checks that its
// passive modules produce exactly what the recording holds.
//
// Passive modules are deterministic: what they output follows from their
// state and their inputs. A recording made with an eventlog.Recorder marks
// every event as an input of the passive modules (emitted by an active
// module, injected, an Init) or as an output (produced by a passive module).
// Replay rebuilds the node's modules with a Builder, named by the
// recording, then walks the recording batch by batch, in the order the node
// dispatched them: every batch recorded for a passive module is handed to
// that module again, with the node's core in debug mode (outputs are
// collected instead of routed), and every recorded output is compared, byte
// for byte in its codec encoding, with the next output the replay produced
// for the same module. Active modules (transports, timers) are not run:
// their inputs come from the recording.
//
// The first difference is reported as a Divergence: the event's sequence
// number, what was recorded and what the replay produced.
//
// A protocol exports its Builder as a value (bcb.Replay.Builder()) and
// records the metadata naming it (MetaBuilder, MetaParams); a JSON makes
// both for parameters kept as JSON. A tool replays with the builders its
// caller gives it, never with ones that importing a package made appear:
//
//	builders := replay.Builders{bcb.Replay.Builder(), myproto.Replay.Builder()}
//	mods, err := builders.Build(meta[replay.MetaBuilder], node, []byte(meta[replay.MetaParams]))
//	...
//	res, err := replay.Run(src, mods)
package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// Meta keys a recording carries (eventlog.StreamOptions.Meta) so that a
// tool can replay it without being told how: the name of the Builder and
// the parameters to pass it.
const (
	MetaBuilder = "replay.builder"
	MetaParams  = "replay.params"
)

// A BuildFunc builds the modules of node for a replay, from the parameters
// recorded with the run. It must build the passive modules exactly as the
// recorded run did; active modules are never run in a replay, so any
// ActiveModule may stand in for them (modules.NullActive), but every module
// the recording dispatched events to must exist.
type BuildFunc func(node stdtypes.NodeID, params []byte) (modules.Modules, error)

// A Builder is a BuildFunc with the name recordings know it by (MetaBuilder).
// A protocol exports its builder as a value (bcb.Replay.Builder()), and a
// tool that replays takes the builders it is given (Builders): there is no
// registry that importing a package fills, so a program replays exactly
// the protocols it names, and a test can make builders of its own as often
// as it runs.
type Builder struct {
	// Name is what a recording names the builder by, in its MetaBuilder.
	Name string
	// Build builds a node's modules.
	Build BuildFunc
}

// Builders are the builders a tool can rebuild nodes with, found by name.
type Builders []Builder

// ErrNoBuilder is returned by Builders.Build for a name none of the
// builders has.
var ErrNoBuilder = errors.New("no replay builder of this name")

// Validate reports a builder without a name or a build function, and two
// builders of one name (which one a recording meant could not be told).
func (bs Builders) Validate() error {
	seen := make(map[string]bool, len(bs))
	for _, b := range bs {
		switch {
		case b.Name == "":
			return errors.New("replay: a builder without a name")
		case b.Build == nil:
			return fmt.Errorf("replay: builder %q has no build function", b.Name)
		case seen[b.Name]:
			return fmt.Errorf("replay: two builders named %q", b.Name)
		}
		seen[b.Name] = true
	}
	return nil
}

// Lookup returns the first builder named name.
func (bs Builders) Lookup(name string) (Builder, bool) {
	for _, b := range bs {
		if b.Name == name {
			return b, true
		}
	}
	return Builder{}, false
}

// Names returns the builders' names, sorted.
func (bs Builders) Names() []string {
	names := make([]string, 0, len(bs))
	for _, b := range bs {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Build builds node's modules with params, with the builder named name.
func (bs Builders) Build(name string, node stdtypes.NodeID, params []byte) (modules.Modules, error) {
	b, ok := bs.Lookup(name)
	if !ok || b.Build == nil {
		there := "there are none"
		if len(bs) > 0 {
			there = "there are: " + strings.Join(bs.Names(), ", ")
		}
		return nil, fmt.Errorf("replay: %q: %w (%s)", name, ErrNoBuilder, there)
	}
	mods, err := b.Build(node, params)
	if err != nil {
		return nil, fmt.Errorf("replay: builder %q for node %s: %w", name, node, err)
	}
	return mods, nil
}

// Divergence is the first difference between a recording and its replay.
type Divergence struct {
	// Node is the node replayed.
	Node stdtypes.NodeID
	// Seq is the sequence number of the recorded event that differs (or,
	// if the recording lacks an event the replay produced, of the first
	// recorded event after it).
	Seq uint64
	// Dest is the module the event is for.
	Dest stdtypes.ModuleID
	// Expected is the recorded event, as JSON; empty if the recording has
	// no event where the replay produced one.
	Expected string
	// ExpectedType is the recorded event's type.
	ExpectedType string
	// Produced is what the replay produced instead, as JSON; empty if it
	// produced nothing.
	Produced string
	// ProducedType is the produced event's type.
	ProducedType string
	// ProducedBy tells which recorded batch made the replay produce its
	// event: the module and the sequence numbers of the batch.
	ProducedBy string
}

func (d *Divergence) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "node %s diverges at seq %d (event for %s)\n", d.Node, d.Seq, d.Dest)
	if d.Expected != "" {
		fmt.Fprintf(&b, "  recorded: %s %s\n", d.ExpectedType, d.Expected)
	} else {
		b.WriteString("  recorded: nothing\n")
	}
	if d.Produced != "" {
		fmt.Fprintf(&b, "  replayed: %s %s\n", d.ProducedType, d.Produced)
		if d.ProducedBy != "" {
			fmt.Fprintf(&b, "  produced by: %s\n", d.ProducedBy)
		}
	} else {
		b.WriteString("  replayed: nothing\n")
	}
	return b.String()
}

// Result is the outcome of a replay.
type Result struct {
	// Node is the node replayed.
	Node stdtypes.NodeID
	// Events counts the recorded events walked; Inputs those handed to
	// passive modules; Compared the outputs checked.
	Events, Inputs, Compared uint64
	// Divergence is the first difference, or nil if the replay produced
	// exactly what was recorded.
	Divergence *Divergence
	// Pending counts outputs the replay produced that the recording never
	// dispatched: normal when the node stopped with events still queued.
	Pending int
}

// Identical reports whether the replay found no divergence.
func (r *Result) Identical() bool { return r.Divergence == nil }

// produced is an output of the replay waiting to be compared.
type produced struct {
	ev   stdtypes.Event
	data []byte
	err  error
	by   batchRef
}

// batchRef names a recorded batch: its module and the sequence numbers of
// its first and last events. It is formatted only for a report, not for
// every batch replayed.
type batchRef struct {
	module      stdtypes.ModuleID
	first, last uint64
}

func (b batchRef) String() string {
	return fmt.Sprintf("%s handling seq %d-%d", b.module, b.first, b.last)
}

// Run replays the records of one run of one node from src (which must hold
// only that run's records, in order, from a recording with input marks and
// no filter) on mods, the node's modules as a Builder made them. It stops at
// the first divergence. An error means the replay could not be carried out
// (a record that does not decode, a module missing, a module failing, a
// gap in the recording), not that it diverged.
func Run(src eventlog.Source, mods modules.Modules) (*Result, error) {
	if err := mods.Validate(); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	ids := make([]stdtypes.ModuleID, 0, len(mods))
	for id := range mods {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	specs := make([]engine.Spec, 0, len(ids))
	for _, id := range ids {
		spec := engine.Spec{ID: id}
		if p, ok := mods[id].(modules.PassiveModule); ok {
			spec.Passive = p
		}
		specs = append(specs, spec)
	}
	core := engine.New(specs, math.MaxInt, nil)
	core.SetBusyTiming(false)

	rp := &replayer{core: core, pending: map[stdtypes.ModuleID][]produced{}}
	core.Divert(rp.collect)
	return rp.run(src)
}

type replayer struct {
	core    *engine.Core
	pending map[stdtypes.ModuleID][]produced
	by      batchRef
	res     Result

	batch    []*eventlog.Record
	batchNo  uint64
	nextSeq  uint64
	started  bool
	lastNode stdtypes.NodeID
	lastRun  int64
}

// collect is the core's divert function: what a passive module produced.
func (rp *replayer) collect(evs []stdtypes.Event) error {
	for _, ev := range evs {
		p := produced{ev: ev, by: rp.by}
		p.data, p.err = codec.EncodeEvent(ev)
		top := ev.Dest().Top()
		rp.pending[top] = append(rp.pending[top], p)
	}
	return nil
}

func (rp *replayer) run(src eventlog.Source) (*Result, error) {
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		if rp.started && rec.Node != rp.lastNode {
			return nil, fmt.Errorf("replay: the log holds events of nodes %s and %s; replay one node at a time", rp.lastNode, rec.Node)
		}
		if rp.started && rec.Run != rp.lastRun {
			return nil, fmt.Errorf("replay: the log holds two runs of node %s (a restart); replay one run at a time", rec.Node)
		}
		if !rp.started {
			rp.res.Node = rec.Node
			if rec.Seq != 0 {
				return nil, fmt.Errorf("replay: node %s: the log starts at seq %d, not 0: a replay needs the whole run", rec.Node, rec.Seq)
			}
		} else if rec.Seq != rp.nextSeq {
			return nil, fmt.Errorf("replay: node %s: seq %d follows %d: the log has a gap (a filtered recording, dropped events, or logs of two runs); a replay needs every event",
				rec.Node, rec.Seq, rp.nextSeq-1)
		}
		if rp.started && rec.Batch != rp.batchNo {
			if err := rp.flushBatch(); err != nil {
				return nil, err
			}
			if rp.res.Divergence != nil {
				return &rp.res, nil
			}
		}
		rp.started = true
		rp.lastNode = rec.Node
		rp.lastRun = rec.Run
		rp.nextSeq = rec.Seq + 1
		rp.batchNo = rec.Batch
		rp.batch = append(rp.batch, rec.Clone())
		rp.res.Events++
	}
	if len(rp.batch) > 0 {
		if err := rp.flushBatch(); err != nil {
			return nil, err
		}
	}
	for _, q := range rp.pending {
		rp.res.Pending += len(q)
	}
	return &rp.res, nil
}

// flushBatch compares the outputs of the gathered batch with what the
// replay produced so far, then applies the batch if its module is passive.
func (rp *replayer) flushBatch() error {
	batch := rp.batch
	rp.batch = rp.batch[:0]
	defer clear(batch)
	evs := make([]stdtypes.Event, len(batch))
	for i, rec := range batch {
		if !rec.Input {
			if d := rp.compare(rec); d != nil {
				rp.res.Divergence = d
				return nil
			}
			rp.res.Compared++
		}
		ev, err := rec.Decode()
		if err != nil {
			return fmt.Errorf("replay: node %s, seq %d: %w", rec.Node, rec.Seq, err)
		}
		evs[i] = ev
	}
	top := batch[0].Dest.Top()
	m := rp.core.Module(top)
	if m == nil {
		return fmt.Errorf("replay: node %s, seq %d: the recording dispatched events to module %q, which the rebuilt node lacks",
			batch[0].Node, batch[0].Seq, top)
	}
	if !m.Passive() {
		return nil
	}
	if err := rp.core.Route(evs, nil, nil); err != nil {
		return fmt.Errorf("replay: node %s, seq %d: %w", batch[0].Node, batch[0].Seq, err)
	}
	next := rp.core.Next()
	if next != m {
		return fmt.Errorf("replay: node %s, seq %d: a batch for %q holds events for other modules: not a recording of one node's dispatches",
			batch[0].Node, batch[0].Seq, top)
	}
	rp.by = batchRef{module: top, first: batch[0].Seq, last: batch[len(batch)-1].Seq}
	rp.res.Inputs += uint64(len(evs))
	if err := rp.core.ApplyPassive(m); err != nil {
		return fmt.Errorf("replay: node %s, %s: %w", batch[0].Node, rp.by, err)
	}
	return nil
}

// compare checks the recorded output rec against the next output the
// replay produced for its module.
func (rp *replayer) compare(rec *eventlog.Record) *Divergence {
	top := rec.Dest.Top()
	d := &Divergence{Node: rec.Node, Seq: rec.Seq, Dest: rec.Dest, ExpectedType: rec.Type, Expected: recordJSON(rec)}
	q := rp.pending[top]
	if len(q) == 0 {
		return d
	}
	p := q[0]
	rp.pending[top] = q[1:]
	if len(rp.pending[top]) == 0 {
		delete(rp.pending, top)
	}
	if p.err == nil && !rec.Unencodable && bytes.Equal(p.data, rec.Data) {
		return nil
	}
	d.ProducedType = typeName(p.ev)
	d.Produced = string(eventlog.EventJSON(p.ev))
	if p.err != nil {
		d.Produced += " (not encodable: " + p.err.Error() + ")"
	}
	d.ProducedBy = p.by.String()
	return d
}

// recordJSON renders a recorded event, or says why it cannot.
func recordJSON(rec *eventlog.Record) string {
	ev, err := rec.Decode()
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(eventlog.EventJSON(ev))
}

func typeName(ev stdtypes.Event) string {
	if name, ok := codec.Name(ev); ok {
		return name
	}
	return stdtypes.TypeName(ev)
}
