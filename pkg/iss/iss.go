package iss

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// ErrLocalBug is wrapped by the errors ApplyEvents returns for events that
// a correct local module never sends: an SBDeliver twice or outside its
// segment, a Snapshot nobody asked for, a record after the start. They stop
// the node: the module that sent it is broken.
var ErrLocalBug = errors.New("iss: invalid event from a local module")

// Module is the ISS orchestrator (docs/iss.md): a deterministic passive
// module that cuts the log into epochs and segments, creates an orderer per
// segment, delivers the log in order, changes epochs, and garbage-collects
// at stable checkpoints. Create it with New.
type Module struct {
	self   stdtypes.NodeID
	mc     ModuleConfig
	params Params
	logger *logging.Logger
	policy LeaderPolicy

	// started is set once RecoveryDone arrived: before it, ISS only
	// collects what the WAL hands back.
	started bool
	// recStable is the latest stable checkpoint the WAL handed back.
	recStable *StableRecord
	// recEpochs are the epochs the WAL says this node started.
	recEpochs map[stdtypes.EpochNr]*EpochRecord
	// recOrderer are the orderers' records the WAL handed back, by
	// segment, in the order appended, until ISS creates the orderer again.
	recOrderer map[segmentKey][]stdtypes.Event
	// earlyStable is the Stable of the highest epoch that came before
	// RecoveryDone.
	earlyStable *checkpoint.Stable

	// voters are the memberships decided so far, by epoch, from the
	// oldest still needed on.
	voters map[stdtypes.EpochNr]membership.Voters
	// epochs are the epochs started and not garbage-collected.
	epochs map[stdtypes.EpochNr]*epoch
	// current is the latest epoch started: the one being ordered, unless
	// it ended and the next waits for its membership.
	current stdtypes.EpochNr
	// nextSN is the next slot to deliver.
	nextSN stdtypes.SeqNr
	// snapshots are the SnapshotRequests not answered yet, oldest first:
	// the application answers them in order.
	snapshots []pendingSnapshot
	// staleBelow: events about epochs below it that ISS no longer has (a
	// state transfer skipped or dropped them) are stale, not bugs.
	staleBelow stdtypes.EpochNr
	// stableEpoch is the epoch of the latest stable checkpoint, if
	// hasStable.
	stableEpoch stdtypes.EpochNr
	hasStable   bool
	// gcIndex is the lowest epoch not garbage-collected.
	gcIndex stdtypes.EpochNr

	// out collects the output of one ApplyEvents.
	out   []stdtypes.Event
	stats Stats
	// published is a copy of the statistics as of the end of the last
	// ApplyEvents, for Stats, which may be called from any goroutine
	// (a metrics scrape) while the node runs the module.
	published atomic.Pointer[Stats]
}

// segmentKey names a segment: an epoch and an index.
type segmentKey struct {
	epoch stdtypes.EpochNr
	index int
}

// epoch is what ISS keeps of an epoch it started.
type epoch struct {
	nr    stdtypes.EpochNr
	first stdtypes.SeqNr
	// endSN is the first slot after the epoch.
	endSN stdtypes.SeqNr
	// segments are the epoch's segments; once the epoch ends, only their
	// leaders are kept (for Proposed and garbage collection).
	segments []Segment
	// outcomes holds, per slot (first + i), what its segment delivered,
	// until the epoch ends; then nil.
	outcomes []outcome
	// failed tells, per segment, whether it delivered ⊥ in some slot.
	failed []bool
	// hurried is the highest bound ISS sent a Hurry for (the slots below
	// it are hurried); 0 for none.
	hurried stdtypes.SeqNr
	// done is set once every slot is delivered.
	done bool
}

// end returns the first slot after the epoch.
func (ep *epoch) end() stdtypes.SeqNr { return ep.endSN }

// outcome is what a segment delivered for a slot.
type outcome struct {
	set     bool
	aborted bool
	value   []byte
}

// pendingSnapshot is a SnapshotRequest not answered yet, with what the
// checkpoint needs besides the snapshot.
type pendingSnapshot struct {
	epoch stdtypes.EpochNr
	// next is the first slot of the next epoch.
	next stdtypes.SeqNr
	// protocol is the leader policy's state after the epoch.
	protocol []byte
}

// Stats counts what ISS did. Read it between calls to ApplyEvents (the
// node's goroutine owns the module).
type Stats struct {
	// Epoch is the latest epoch started; NextSeqNr the next slot to deliver.
	Epoch     stdtypes.EpochNr
	NextSeqNr stdtypes.SeqNr
	// StableEpoch is the epoch of the latest stable checkpoint, if
	// HasStable; GCIndex the lowest epoch not garbage-collected.
	StableEpoch stdtypes.EpochNr
	HasStable   bool
	GCIndex     stdtypes.EpochNr
	// Delivered counts slots delivered, Aborted those of them that were ⊥.
	Delivered uint64
	Aborted   uint64
	// EpochsStarted counts epochs started (again after a restart).
	EpochsStarted uint64
	// StateTransfers counts the stable checkpoints of epochs this node had
	// not ended that it adopted.
	StateTransfers uint64
	// BadStates counts the stable checkpoints dropped because their state
	// did not decode (memberships, leader policy).
	BadStates uint64
	// Stale counts events about epochs ISS no longer has (garbage-collected
	// or skipped by a state transfer), ignored.
	Stale uint64
	// Leaders are the leaders of Epoch, sorted by node ID: the nodes
	// whose segments the epoch orders (the leader policy left the others
	// out). Empty before the first epoch starts.
	Leaders []stdtypes.NodeID
}

// New returns ISS for node self. It checks the configuration and the
// parameters. logger may be nil.
func New(self stdtypes.NodeID, mc ModuleConfig, params Params, logger *logging.Logger) (*Module, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("iss: %w", err)
	}
	if mc.Self.Sub() != "" {
		// The WAL truncates by module: ISS's records and its orderers'
		// must have an owner of their own.
		return nil, fmt.Errorf("iss: ModuleConfig.Self %q is not a module of the node (one path segment)", mc.Self)
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if !params.Voters.Contains(self) {
		// A node outside the first membership may join later; it orders
		// nothing until then, but learns the log by state transfer.
		logger.LogAttrs(logging.LevelInfo, "iss: this node is not a voter of epoch 0", slog.String("node", string(self)))
	}
	policy, err := NewLeaderPolicy(params)
	if err != nil {
		return nil, err
	}
	params.Voters = slices.Clone(params.Voters)
	m := &Module{
		self:       self,
		mc:         mc,
		params:     params,
		logger:     logger,
		policy:     policy,
		recEpochs:  make(map[stdtypes.EpochNr]*EpochRecord),
		recOrderer: make(map[segmentKey][]stdtypes.Event),
		voters:     make(map[stdtypes.EpochNr]membership.Voters),
		epochs:     make(map[stdtypes.EpochNr]*epoch),
	}
	m.publish()
	return m, nil
}

var (
	_ modules.PassiveModule = (*Module)(nil)
	_ modules.StatsReporter = (*Module)(nil)
)

// Stats returns ISS's counters and position as of the end of the last
// ApplyEvents. It is safe to call from any goroutine, and the caller owns
// what it returns (Leaders is a copy).
func (m *Module) Stats() Stats {
	s := *m.published.Load()
	s.Leaders = slices.Clone(s.Leaders)
	return s
}

// ReportStats returns Stats, for the node's statistics
// (modules.StatsReporter).
func (m *Module) ReportStats() any { return m.Stats() }

// publish makes the current statistics those Stats returns.
func (m *Module) publish() {
	s := m.stats
	s.Epoch, s.NextSeqNr = m.current, m.nextSN
	s.StableEpoch, s.HasStable, s.GCIndex = m.stableEpoch, m.hasStable, m.gcIndex
	m.published.Store(&s)
}

// ApplyEvents handles each event in turn.
func (m *Module) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	defer m.publish()
	m.out = m.out[:0]
	for _, ev := range events.Slice() {
		if err := m.apply(ev); err != nil {
			m.out = m.out[:0]
			return nil, err
		}
	}
	if len(m.out) == 0 {
		return nil, nil
	}
	out := stdtypes.ListOf(m.out...)
	clear(m.out) // Keep no references to the events handed out.
	m.out = m.out[:0]
	return out, nil
}

// emit appends events to the output.
func (m *Module) emit(evs ...stdtypes.Event) { m.out = append(m.out, evs...) }

// apply handles one event.
func (m *Module) apply(ev stdtypes.Event) error {
	switch ev := ev.(type) {
	case *stdevents.Init:
		// The WAL's records are queued behind the Init; RecoveryDone
		// comes after them.
		m.emit(&RecoveryDone{Header: stdtypes.NewHeader(m.mc.Self)})
		return nil
	case *StableRecord, *EpochRecord, *OrdererRecord:
		return m.applyRecord(ev)
	case *RecoveryDone:
		if m.started {
			return fmt.Errorf("%w: RecoveryDone twice", ErrLocalBug)
		}
		return m.start()
	case *checkpoint.Stable:
		if !m.started {
			if m.earlyStable == nil || ev.Cert.Epoch > m.earlyStable.Cert.Epoch {
				m.earlyStable = ev
			}
			return nil
		}
		return m.applyStable(ev)
	}
	if !m.started {
		return fmt.Errorf("%w: %s before ISS started", ErrLocalBug, stdtypes.TypeName(ev))
	}
	switch ev := ev.(type) {
	case *SBDeliver:
		return m.applySBDeliver(ev)
	case *Proposed:
		return m.applyProposed(ev)
	case *Snapshot:
		return m.applySnapshot(ev)
	}
	return fmt.Errorf("%w: unexpected event %s", ErrLocalBug, stdtypes.TypeName(ev))
}

// ---------------------------------------------------------------------------
// Restart (docs/iss.md, section 6)

// applyRecord keeps a record the WAL hands back at the start.
//
// "The WAL hands back, before any message, the records each module
// appended: ISS its latest stable checkpoint and the epochs it started
// since; the orderers' records."
func (m *Module) applyRecord(ev stdtypes.Event) error {
	if m.started {
		return fmt.Errorf("%w: %s after the start: only the WAL hands records back, at the start", ErrLocalBug, stdtypes.TypeName(ev))
	}
	switch ev := ev.(type) {
	case *StableRecord:
		if ev.Cert.Epoch != ev.State.Epoch || ev.Cert.SeqNr != ev.State.SeqNr {
			return fmt.Errorf("%w: StableRecord of epoch %d with a state of epoch %d", ErrLocalBug, ev.Cert.Epoch, ev.State.Epoch)
		}
		if m.recStable == nil || ev.Cert.Epoch > m.recStable.Cert.Epoch {
			m.recStable = ev
		}
	case *EpochRecord:
		m.recEpochs[ev.Epoch] = ev
	case *OrdererRecord:
		if ev.Event == nil || ev.Segment < 0 || !ev.Event.Dest().IsSubOf(OrdererID(m.mc.Ordering, ev.Epoch, ev.Segment)) {
			return fmt.Errorf("%w: OrdererRecord of segment %d.%d holds no event for its orderer", ErrLocalBug, ev.Epoch, ev.Segment)
		}
		k := segmentKey{ev.Epoch, ev.Segment}
		m.recOrderer[k] = append(m.recOrderer[k], ev.Event)
	}
	return nil
}

// start begins ordering once the WAL has handed back its records: from the
// latest stable checkpoint if there is one (the application is restored
// from it), from epoch 0 otherwise. The orderers of the epochs after the
// checkpoint are created as the log reaches them again, each followed by
// its records.
func (m *Module) start() error {
	m.started = true
	if rec := m.recStable; rec != nil {
		m.recStable = nil
		if err := m.adopt(rec.Cert, rec.State, false); err != nil {
			// The node's own record: it wrote it, it must read it.
			return fmt.Errorf("iss: restoring the stable checkpoint of epoch %d from the WAL: %w", rec.Cert.Epoch, err)
		}
		// The checkpoint module starts empty: it learns the checkpoint
		// (to serve it, and the memberships its State holds, to verify
		// later certificates) from ISS, which persisted it.
		m.emit(&checkpoint.Stable{Header: stdtypes.NewHeader(m.mc.Checkpoint), Cert: rec.Cert, State: rec.State})
	} else {
		for e := range m.params.ConfigOffset + 1 {
			m.voters[stdtypes.EpochNr(e)] = m.params.Voters
		}
		if err := m.startEpoch(0, 0); err != nil {
			return err
		}
	}
	if st := m.earlyStable; st != nil {
		m.earlyStable = nil
		return m.applyStable(st)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Epochs and segments (docs/iss.md, section 1)

// startEpoch starts epoch e at slot first: its leaders, its segments, one
// orderer each.
//
// "At the start of epoch e, every node computes the same list leaders(e)
// [...] Epoch e has one segment per leader: the slots of leader i are
// first(e) + i, first(e) + i + |leaders|, ... In epoch e, bucket b is
// assigned to leader (b + e) mod |leaders(e)|."
func (m *Module) startEpoch(e stdtypes.EpochNr, first stdtypes.SeqNr) error {
	voters, ok := m.voters[e]
	if !ok {
		return fmt.Errorf("iss: starting epoch %d without its membership", e)
	}
	leaders := m.policy.Leaders(e, voters)
	if err := checkLeaders(leaders, voters); err != nil {
		return fmt.Errorf("iss: leader policy, epoch %d: %w", e, err)
	}
	if rec, ok := m.recEpochs[e]; ok {
		delete(m.recEpochs, e)
		if rec.First != first || !slices.Equal(rec.Leaders, leaders) {
			return fmt.Errorf("iss: epoch %d restarts at slot %d with leaders %v, but started at slot %d with leaders %v before the restart",
				e, first, leaders, rec.First, rec.Leaders)
		}
	} else {
		m.emit(wal.NewAppend(m.mc.WAL, &EpochRecord{
			Header: stdtypes.NewHeader(m.mc.Self), Epoch: e, First: first, Leaders: slices.Clone(leaders),
		}, stdtypes.RetentionIndex(e)))
	}
	segs := Segments(e, first, voters, leaders, m.params.SegmentLength, m.params.NumBuckets)
	ep := &epoch{
		nr:       e,
		first:    first,
		endSN:    first + stdtypes.SeqNr(len(leaders)*m.params.SegmentLength),
		segments: segs,
		outcomes: make([]outcome, len(leaders)*m.params.SegmentLength),
		failed:   make([]bool, len(leaders)),
	}
	m.epochs[e] = ep
	m.current = e
	m.stats.EpochsStarted++
	// A new slice for every epoch, never changed: the published
	// statistics share it, and Stats copies it for its callers.
	m.stats.Leaders = slices.Sorted(slices.Values(leaders))
	if !voters.Contains(m.self) {
		// A node outside the epoch's membership orders nothing in it: no
		// voter sends it the epoch's messages. It waits for a stable
		// checkpoint of a later epoch, which the checkpoint module learns
		// from the voters (state transfer): a node that joins catches up
		// that way, and a removed one stays where it is.
		m.logger.LogAttrs(logging.LevelInfo, "iss: not a voter of the epoch; waiting for a state transfer",
			slog.Uint64("epoch", uint64(e)), slog.String("node", string(m.self)))
		return nil
	}
	for i, seg := range segs {
		m.emit(stdevents.NewNewSubmodule(OrdererID(m.mc.Ordering, e, i), stdtypes.RetentionIndex(e), seg))
		// Right after the orderer's creation, before any message: the
		// factory hands early messages over behind these.
		k := segmentKey{e, i}
		m.emit(m.recOrderer[k]...)
		delete(m.recOrderer, k)
	}
	m.logger.LogAttrs(logging.LevelDebug, "iss: epoch started",
		slog.Uint64("epoch", uint64(e)), slog.Uint64("first", uint64(first)), slog.Int("leaders", len(leaders)))
	return nil
}

// checkLeaders checks what a leader policy returned: at least one leader,
// each a voter, once, in the voters' order.
func checkLeaders(leaders []stdtypes.NodeID, voters membership.Voters) error {
	if len(leaders) == 0 {
		return errors.New("no leaders")
	}
	last := -1
	for _, l := range leaders {
		i := voters.Index(l)
		if i <= last {
			return fmt.Errorf("leaders %v are not distinct voters in the membership's order", leaders)
		}
		last = i
	}
	return nil
}

// ---------------------------------------------------------------------------
// Delivery (docs/iss.md, section 1)

// applySBDeliver takes a segment's outcome for a slot.
//
// "An instance delivers, for every slot of its segment, either a value or
// ⊥." An orderer delivers each slot of its segment once: anything else is a
// bug of the orderer.
func (m *Module) applySBDeliver(ev *SBDeliver) error {
	ep, err := m.liveEpoch("SBDeliver", ev.Epoch)
	if ep == nil {
		return err
	}
	if ep.done {
		return fmt.Errorf("%w: SBDeliver of slot %d of epoch %d, which has ended: every slot was delivered", ErrLocalBug, ev.SeqNr, ev.Epoch)
	}
	i, err := ep.slot(ev.Segment, ev.SeqNr)
	if err != nil {
		return fmt.Errorf("%w: SBDeliver: %w", ErrLocalBug, err)
	}
	o := &ep.outcomes[i]
	switch {
	case o.set:
		return fmt.Errorf("%w: SBDeliver of slot %d of segment %d.%d twice", ErrLocalBug, ev.SeqNr, ev.Epoch, ev.Segment)
	case ev.Aborted && len(ev.Value) > 0:
		return fmt.Errorf("%w: SBDeliver of slot %d: ⊥ with a value", ErrLocalBug, ev.SeqNr)
	}
	*o = outcome{set: true, aborted: ev.Aborted, value: ev.Value}
	if ev.Aborted {
		ep.failed[ev.Segment] = true
	}
	return m.deliverInOrder()
}

// liveEpoch returns the epoch an orderer's event is about, nil and no
// error if the event is stale (its epoch is gone), and an error if the
// epoch has not started.
func (m *Module) liveEpoch(what string, e stdtypes.EpochNr) (*epoch, error) {
	if e > m.current {
		return nil, fmt.Errorf("%w: %s for epoch %d, which has not started (current %d)", ErrLocalBug, what, e, m.current)
	}
	ep, ok := m.epochs[e]
	if !ok {
		// Garbage-collected, or skipped by a state transfer: its
		// orderers' last events may still be on their way.
		m.stats.Stale++
		return nil, nil
	}
	return ep, nil
}

// slot returns the index in outcomes of slot sn, checking that it is in
// segment seg.
func (ep *epoch) slot(seg int, sn stdtypes.SeqNr) (int, error) {
	if seg < 0 || seg >= len(ep.segments) {
		return 0, fmt.Errorf("segment %d of epoch %d, which has %d", seg, ep.nr, len(ep.segments))
	}
	if sn < ep.first || sn >= ep.end() || int(sn-ep.first)%len(ep.segments) != seg {
		return 0, fmt.Errorf("slot %d is not in segment %d.%d", sn, ep.nr, seg)
	}
	return int(sn - ep.first), nil
}

// deliverInOrder delivers the slots of the current epoch that are ready,
// in order, and ends the epoch after its last.
//
// "ISS delivers the log in order: slot sn is handed to the application once
// it and every slot before it are delivered by their segments."
func (m *Module) deliverInOrder() error {
	ep := m.epochs[m.current]
	for m.nextSN < ep.end() {
		o := &ep.outcomes[m.nextSN-ep.first]
		if !o.set {
			return nil
		}
		seg := &ep.segments[int(m.nextSN-ep.first)%len(ep.segments)]
		m.emit(&Deliver{Header: stdtypes.NewHeader(m.mc.App), Epoch: ep.nr, SeqNr: m.nextSN, Value: o.value, Aborted: o.aborted,
			Leader: seg.Leader, Buckets: seg.Buckets})
		o.value = nil
		m.stats.Delivered++
		if o.aborted {
			m.stats.Aborted++
		}
		m.nextSN++
	}
	return m.endEpoch(ep)
}

// applyProposed hurries the segments this node leads.
//
// "When an orderer accepts a non-empty proposal for slot sn (or any
// proposal for its segment's last slot), ISS tells the other orderers of
// that epoch whose segments this node leads to propose their slots below
// sn now, once per higher slot. If sn is in the epoch's last round, they
// propose every slot of the epoch now."
func (m *Module) applyProposed(ev *Proposed) error {
	ep, err := m.liveEpoch("Proposed", ev.Epoch)
	if ep == nil {
		return err
	}
	if _, err := ep.slot(ev.Segment, ev.SeqNr); err != nil {
		return fmt.Errorf("%w: Proposed: %w", ErrLocalBug, err)
	}
	below := ev.SeqNr
	if ev.SeqNr >= ep.end()-stdtypes.SeqNr(len(ep.segments)) {
		// The last round: once the slots below sn are proposed, some
		// segment has none left, and the requests of its buckets wait for
		// the next epoch, which starts only when every slot of this one
		// is delivered. The slots above sn would hold them up to
		// MaxProposeDelay, as nothing later in the epoch can hurry them.
		below = ep.end()
	}
	if ep.done || below <= ep.hurried {
		// Every slot is delivered, or the orderers were hurried that far
		// already: one Hurry per higher slot bounds the output.
		return nil
	}
	ep.hurried = below
	for i, seg := range ep.segments {
		if seg.Leader == m.self && i != ev.Segment {
			m.emit(&Hurry{Header: stdtypes.NewHeader(OrdererID(m.mc.Ordering, ep.nr, i)), SeqNr: below})
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Epoch change and memberships (docs/iss.md, sections 1 and 2)

// endEpoch ends epoch ep, whose every slot is delivered.
//
// "Epoch e ends at a node when all of its slots are delivered. The node then
// asks the application for a snapshot, starts the checkpoint of epoch e and
// starts epoch e + 1 at once."
func (m *Module) endEpoch(ep *epoch) error {
	ep.done = true
	ep.outcomes = nil
	for i := range ep.segments {
		// Until garbage collection, which a partition may hold off for
		// many epochs, an ended epoch keeps only what it still needs.
		ep.segments[i] = Segment{Epoch: ep.nr, Index: i, Leader: ep.segments[i].Leader}
	}
	var failed []stdtypes.NodeID
	for i, f := range ep.failed {
		if f {
			failed = append(failed, ep.segments[i].Leader)
		}
	}
	m.policy.EpochDone(ep.nr, failed)
	protocol, err := m.policy.State()
	if err != nil {
		return fmt.Errorf("iss: leader policy state after epoch %d: %w", ep.nr, err)
	}
	m.snapshots = append(m.snapshots, pendingSnapshot{epoch: ep.nr, next: ep.end(), protocol: protocol})
	m.emit(&SnapshotRequest{Header: stdtypes.NewHeader(m.mc.App), ReplyTo: m.mc.Self, Epoch: ep.nr, SeqNr: ep.end()})
	return m.startNext()
}

// startNext starts the epoch after the current one if the current one has
// ended and the next one's membership is known. With ConfigOffset 0 the
// membership comes with the snapshot of the epoch that just ended.
func (m *Module) startNext() error {
	ep := m.epochs[m.current]
	if !ep.done {
		return nil
	}
	if _, ok := m.voters[m.current+1]; !ok {
		return nil
	}
	return m.startEpoch(m.current+1, ep.end())
}

// applySnapshot takes the application's snapshot after an epoch, with the
// membership it decides, and starts the epoch's checkpoint.
//
// "The membership of epoch e + ConfigOffset + 1 is decided by the
// application when epoch e ends, and returned with its snapshot." "It
// builds the checkpointed state (the snapshot, the memberships decided for
// the next epochs, and the leader policy's state)."
func (m *Module) applySnapshot(ev *Snapshot) error {
	if len(m.snapshots) == 0 || m.snapshots[0].epoch != ev.Epoch {
		if ev.Epoch < m.staleBelow {
			m.stats.Stale++ // asked before a state transfer skipped the epoch
			return nil
		}
		return fmt.Errorf("%w: Snapshot of epoch %d, which is not the oldest one asked for", ErrLocalBug, ev.Epoch)
	}
	p := m.snapshots[0]
	m.snapshots = m.snapshots[1:]
	e := ev.Epoch
	co := stdtypes.EpochNr(m.params.ConfigOffset)
	next := ev.NextVoters
	if len(next) == 0 {
		var ok bool
		if next, ok = m.voters[e+co]; !ok {
			return fmt.Errorf("iss: the membership of epoch %d is missing at the snapshot of epoch %d", e+co, e)
		}
	} else if err := next.Validate(); err != nil {
		return fmt.Errorf("%w: Snapshot of epoch %d: NextVoters: %w", ErrLocalBug, e, err)
	}
	m.voters[e+co+1] = slices.Clone(next)
	if !m.hasStable || e > m.stableEpoch {
		// Not stable yet (through other nodes' signatures): checkpoint it.
		st := checkpoint.State{Epoch: e, SeqNr: p.next, AppData: ev.Data, Protocol: p.protocol}
		for x := e + 1; x <= e+co+1; x++ {
			st.Voters = append(st.Voters, m.voters[x])
		}
		m.emit(&checkpoint.Start{Header: stdtypes.NewHeader(m.mc.Checkpoint), ReplyTo: m.mc.Self, State: st, Voters: m.voters[e]})
	}
	return m.startNext()
}

// ---------------------------------------------------------------------------
// Stable checkpoints and state transfer (docs/iss.md, sections 4 and 5)

// applyStable takes a stable checkpoint: one of an epoch this node ended
// garbage-collects; one beyond is a state transfer.
func (m *Module) applyStable(ev *checkpoint.Stable) error {
	c, st := ev.Cert, ev.State
	if c.Epoch != st.Epoch || c.SeqNr != st.SeqNr {
		return fmt.Errorf("%w: Stable of epoch %d slot %d with a state of epoch %d slot %d", ErrLocalBug, c.Epoch, c.SeqNr, st.Epoch, st.SeqNr)
	}
	if m.hasStable && c.Epoch <= m.stableEpoch {
		return nil // not newer than what ISS has
	}
	if ep, ok := m.epochs[c.Epoch]; ok && ep.done {
		return m.collectStable(ev, ep)
	}
	if c.Epoch < m.current {
		// An epoch this node ended and collected or skipped: the
		// certificate is older than one ISS had, which the check above
		// catches, unless the epoch was skipped by a restart from the WAL.
		m.stats.Stale++
		return nil
	}
	if err := m.adopt(c, st, true); err != nil {
		if errors.Is(err, errBadState) {
			m.stats.BadStates++
			m.logger.LogAttrs(logging.LevelWarn, "iss: dropping a stable checkpoint whose state is invalid",
				slog.Uint64("epoch", uint64(c.Epoch)), slog.String("error", err.Error()))
			return nil
		}
		return err
	}
	m.stats.StateTransfers++
	return nil
}

// collectStable takes the stable checkpoint of epoch ep, which this node
// ended: it persists it and garbage-collects what came before.
//
// "A stable checkpoint lets every node drop what came before it [...] A
// node keeps the last RetainedEpochs epochs' worth to serve others."
func (m *Module) collectStable(ev *checkpoint.Stable, ep *epoch) error {
	if ev.State.SeqNr != ep.end() {
		return fmt.Errorf("iss: stable checkpoint of epoch %d at slot %d, but the epoch ended at slot %d on this node", ep.nr, ev.State.SeqNr, ep.end())
	}
	m.persistStable(ev.Cert, ev.State)
	retained := stdtypes.EpochNr(m.params.RetainedEpochs)
	if ep.nr+1 > retained {
		// Never the current epoch, even if it has ended: the next one
		// starts from it (with ConfigOffset 0, once its snapshot is in).
		m.garbageCollect(min(ep.nr+1-retained, m.current))
	}
	return nil
}

// persistStable records the stable checkpoint (c, st) and appends it to
// the WAL, then truncates ISS's records (and its orderers') of the epochs
// it covers: a restart resumes from it.
func (m *Module) persistStable(c checkpoint.Certificate, st checkpoint.State) {
	m.stableEpoch, m.hasStable = c.Epoch, true
	idx := stdtypes.RetentionIndex(c.Epoch + 1)
	rec := &StableRecord{Header: stdtypes.NewHeader(m.mc.Self), Cert: c, State: st}
	// The application collects only once the checkpoint is durable: a
	// restart must not find the application's history gone and ISS's
	// checkpoint too.
	m.emit(stdtypes.WithFollowUps(wal.NewAppend(m.mc.WAL, rec, idx), wal.NewTruncate(m.mc.WAL, m.mc.Self, idx),
		&StableCheckpoint{Header: stdtypes.NewHeader(m.mc.App), Epoch: c.Epoch, SeqNr: c.SeqNr}))
}

// garbageCollect drops the epochs below idx: their orderers (through the
// factory), their messages still in flight, ISS's own state of them, and
// the repeating timers below idx if ISS has a timer of its own.
func (m *Module) garbageCollect(idx stdtypes.EpochNr) {
	if idx <= m.gcIndex {
		return
	}
	m.gcIndex = idx
	for _, e := range slices.Sorted(maps.Keys(m.epochs)) {
		if e >= idx {
			break
		}
		for i := range m.epochs[e].segments {
			m.emit(reliablenet.NewCancelPrefix(m.mc.ReliableNet, OrdererID(m.mc.Ordering, e, i), ""))
		}
		delete(m.epochs, e)
	}
	m.emit(stdevents.NewGarbageCollect(m.mc.Ordering, stdtypes.RetentionIndex(idx)))
	if m.mc.Timer != "" {
		m.emit(stdevents.NewTimerGarbageCollect(m.mc.Timer, stdtypes.RetentionIndex(idx)))
	}
	// A membership is needed until the snapshots of the epochs before it
	// are in (they may keep it for the next epoch).
	keep := idx
	if len(m.snapshots) > 0 {
		keep = min(keep, m.snapshots[0].epoch)
	}
	for e := range m.voters {
		if e < keep {
			delete(m.voters, e)
		}
	}
	for k := range m.recOrderer {
		if k.epoch < idx {
			delete(m.recOrderer, k)
		}
	}
	for e := range m.recEpochs {
		if e < idx {
			delete(m.recEpochs, e)
		}
	}
}

// maxEpochNr and maxSeqNr bound the epoch and the slot of a checkpoint
// ISS adopts: no log comes near them (2^62 slots at a billion a second
// take a century), and below them the slots and epochs ISS computes from
// the checkpoint cannot overflow.
const (
	maxEpochNr = stdtypes.EpochNr(1) << 62
	maxSeqNr   = stdtypes.SeqNr(1) << 62
)

// errBadState is wrapped by adopt's errors about the state itself.
var errBadState = errors.New("invalid checkpointed state")

// adopt restores the node to the stable checkpoint (c, st) of an epoch it
// has not ended: from another node (state transfer; persist), or from its
// WAL at a restart. It drops every epoch ISS has, restores the application
// and the leader policy, takes the memberships, and starts the epoch after
// the checkpoint. It returns an error wrapping errBadState, and changes
// nothing, if st does not decode.
//
// "ISS hands the application's part to the application, takes the
// memberships and its own state from it, and starts the epoch after it."
func (m *Module) adopt(c checkpoint.Certificate, st checkpoint.State, persist bool) error {
	if len(st.Voters) != m.params.ConfigOffset+1 {
		return fmt.Errorf("%w: %d memberships, want ConfigOffset+1 = %d", errBadState, len(st.Voters), m.params.ConfigOffset+1)
	}
	for i, v := range st.Voters {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("%w: membership of epoch %d: %w", errBadState, st.Epoch+1+stdtypes.EpochNr(i), err)
		}
	}
	if st.Epoch > maxEpochNr || st.SeqNr > maxSeqNr {
		return fmt.Errorf("%w: epoch %d, slot %d: beyond any log", errBadState, st.Epoch, st.SeqNr)
	}
	if st.SeqNr < m.nextSN {
		return fmt.Errorf("%w: the state is at slot %d, this node delivered up to %d", errBadState, st.SeqNr, m.nextSN)
	}
	if err := m.policy.SetState(st.Protocol); err != nil {
		return fmt.Errorf("%w: %w", errBadState, err)
	}
	m.emit(&RestoreState{Header: stdtypes.NewHeader(m.mc.App), Epoch: st.Epoch, SeqNr: st.SeqNr, Data: st.AppData})
	if persist {
		m.persistStable(c, st)
	} else {
		m.stableEpoch, m.hasStable = c.Epoch, true
	}
	m.garbageCollect(st.Epoch + 1)
	clear(m.voters)
	for i, v := range st.Voters {
		m.voters[st.Epoch+1+stdtypes.EpochNr(i)] = slices.Clone(v)
	}
	m.snapshots = nil
	m.staleBelow = st.Epoch + 1
	m.nextSN = st.SeqNr
	return m.startEpoch(st.Epoch+1, st.SeqNr)
}
