package batchfetcher

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// maxSnapshots bounds ISS's snapshot requests not answered yet (queued
// behind slots, or asked of the application): ISS asks for the snapshot
// after epoch e+ConfigOffset+1 only once it has the one after epoch e (it
// needs its membership to start the epochs between), so ConfigOffset+1 at
// most; twice that across a RestoreState, after which the application
// still answers the requests it had (ISS drops those answers).
const maxSnapshots = 2 * (iss.MaxConfigOffset + 1)

// Module is the batch fetcher, a passive module: ISS's application in
// Trantor. See the package documentation.
type Module struct {
	mc     ModuleConfig
	params ModuleParams
	logger *logging.Logger

	// clients are the clients' watermarks: the replicated state that
	// makes a retried transaction execute once.
	clients clients
	// nextDeliver is the slot ISS delivers next; nextHandOn the first
	// slot not handed on to the application (at most nextDeliver).
	nextDeliver stdtypes.SeqNr
	nextHandOn  stdtypes.SeqNr
	// queue holds, in the order of the log, the slots from nextHandOn
	// on and ISS's snapshot requests between them: what is not handed
	// on yet. At most MaxPendingSlots slots.
	queue []*entry
	// slots counts the slots in queue, queuedSnapshots its snapshot
	// requests.
	slots           int
	queuedSnapshots int
	// waiting are the slots of queue whose transactions were asked of
	// availability (RequestTxs, with the slot as Ref) and have not come.
	waiting map[stdtypes.SeqNr]*entry
	// asked are the snapshots asked of the application, oldest first;
	// with queuedSnapshots, at most maxSnapshots.
	asked []askedSnapshot
	// stable is the latest stable checkpoint beyond nextHandOn, held
	// until the slots below it are handed on: availability deletes the
	// batches it covers, which the fetcher may still have to ask for.
	stable *iss.StableCheckpoint

	stats     Stats
	published atomic.Pointer[Stats]
}

// entry is a slot of the log, or one of ISS's snapshot requests.
type entry struct {
	// snapshot is ISS's request, for a snapshot entry; nil for a slot.
	snapshot *iss.SnapshotRequest
	epoch    stdtypes.EpochNr
	sn       stdtypes.SeqNr
	// buckets are the buckets of the slot's leader (shared with ISS's
	// Deliver, not modified).
	buckets []int
	// waiting: the slot's transactions were asked for and did not come.
	waiting bool
	txs     []mempool.Tx
}

// askedSnapshot is a snapshot asked of the application: the fetcher's
// part of it, encoded when asked, waits for the application's.
type askedSnapshot struct {
	epoch   stdtypes.EpochNr
	replyTo stdtypes.ModuleID
	prefix  []byte
}

// NewModule returns a batch fetcher of node self with no client and no
// slot: the log starts at slot 0, or at the slot of the first
// RestoreState.
func NewModule(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, logger *logging.Logger) (*Module, error) {
	if self == "" {
		return nil, errors.New("batchfetcher: empty node ID")
	}
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("batchfetcher: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("batchfetcher: %w", err)
	}
	m := &Module{
		mc:      mc,
		params:  params,
		logger:  logger.With("node", self, "module", mc.Self),
		clients: make(clients),
		waiting: make(map[stdtypes.SeqNr]*entry),
	}
	m.publish()
	return m, nil
}

// Stats returns the module's counters; safe to call from any goroutine.
func (m *Module) Stats() Stats { return *m.published.Load() }

// ReportStats implements modules.StatsReporter.
func (m *Module) ReportStats() any { return m.Stats() }

func (m *Module) publish() {
	s := m.stats
	s.PendingSlots = m.slots
	s.Clients = len(m.clients)
	m.published.Store(&s)
}

// ApplyEvents implements modules.PassiveModule.
func (m *Module) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	defer m.publish()
	return modules.ApplyAllFunc(events, m.apply)
}

func (m *Module) apply(ev stdtypes.Event) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	var err error
	switch ev := ev.(type) {
	case *stdevents.Init:
	case *iss.Deliver:
		err = m.deliver(ev, out)
	case *availability.ProvideTxs:
		err = m.provideTxs(ev, out)
	case *iss.SnapshotRequest:
		err = m.snapshotRequest(ev, out)
	case *AppSnapshot:
		err = m.appSnapshot(ev, out)
	case *iss.RestoreState:
		err = m.restoreState(ev, out)
	case *iss.StableCheckpoint:
		m.stableCheckpoint(ev, out)
	case nil:
		return nil, errors.New("batchfetcher: nil event")
	default:
		return nil, fmt.Errorf("batchfetcher: unexpected event %s", stdtypes.TypeName(ev))
	}
	if err != nil {
		return nil, fmt.Errorf("batchfetcher: %s: %w", stdtypes.TypeName(ev), err)
	}
	return out, nil
}

// deliver takes the next slot of the log.
//
// "For each delivered certificate it asks availability for the batch."
func (m *Module) deliver(ev *iss.Deliver, out *stdtypes.EventList) error {
	switch {
	case ev.SeqNr != m.nextDeliver:
		return fmt.Errorf("slot %d delivered, the next is %d: a gap or a slot delivered twice", ev.SeqNr, m.nextDeliver)
	case ev.Aborted && len(ev.Value) > 0:
		return fmt.Errorf("slot %d is ⊥ with a value of %d bytes", ev.SeqNr, len(ev.Value))
	case m.slots >= m.params.MaxPendingSlots:
		return fmt.Errorf("slot %d: %d slots not handed on already, MaxPendingSlots: ISS delivers further ahead than the parameters allow", ev.SeqNr, m.slots)
	}
	m.nextDeliver++
	m.stats.Slots++
	e := &entry{epoch: ev.Epoch, sn: ev.SeqNr, buckets: ev.Buckets}
	if len(ev.Value) == 0 {
		m.stats.EmptySlots++
	} else {
		e.waiting = true
		m.waiting[e.sn] = e
		out.PushBack(&availability.RequestTxs{
			Header:  stdtypes.NewHeader(m.mc.Availability),
			ReplyTo: m.mc.Self,
			Ref:     uint64(e.sn),
			Cert:    ev.Value,
		})
	}
	m.queue = append(m.queue, e)
	m.slots++
	m.drain(out)
	return nil
}

// provideTxs takes the transactions of a slot, in whatever order
// availability finds them.
//
// "It keeps the order of the log: the batch of slot sn is handed on only
// after those of every slot before it."
func (m *Module) provideTxs(ev *availability.ProvideTxs, out *stdtypes.EventList) error {
	e := m.waiting[stdtypes.SeqNr(ev.Ref)]
	if e == nil {
		if ev.Ref < uint64(m.nextHandOn) {
			// A slot a RestoreState skipped: the restored state holds it.
			m.stats.Stale++
			return nil
		}
		return fmt.Errorf("no slot waits for the transactions of Ref %d", ev.Ref)
	}
	delete(m.waiting, e.sn)
	e.waiting, e.txs = false, ev.Txs
	m.drain(out)
	return nil
}

// snapshotRequest queues ISS's request behind the slots before it.
//
// "It is also where ISS's snapshot requests and restores pass, in order
// with the deliveries."
func (m *Module) snapshotRequest(ev *iss.SnapshotRequest, out *stdtypes.EventList) error {
	if err := ev.ReplyTo.Validate(); err != nil {
		return fmt.Errorf("ReplyTo: %w", err)
	}
	if ev.SeqNr != m.nextDeliver {
		return fmt.Errorf("snapshot of epoch %d before slot %d asked, but the next slot is %d", ev.Epoch, ev.SeqNr, m.nextDeliver)
	}
	if m.queuedSnapshots+len(m.asked) >= maxSnapshots {
		return fmt.Errorf("snapshot of epoch %d: %d not answered yet, more than ISS asks for", ev.Epoch, m.queuedSnapshots+len(m.asked))
	}
	m.queue = append(m.queue, &entry{snapshot: ev})
	m.queuedSnapshots++
	m.drain(out)
	return nil
}

// drain hands on the queue's head while it has what it needs, and then
// the stable checkpoint it held back, if the slots below it are handed on.
func (m *Module) drain(out *stdtypes.EventList) {
	for len(m.queue) > 0 && !m.queue[0].waiting {
		e := m.queue[0]
		m.queue[0] = nil
		m.queue = m.queue[1:]
		if e.snapshot != nil {
			m.queuedSnapshots--
			m.epochExecuted(e.snapshot.Epoch, out)
			m.askSnapshot(e.snapshot, out)
		} else {
			m.slots--
			m.handOn(e, out)
		}
	}
	if len(m.queue) == 0 {
		m.queue = nil // let the array go
	}
	if m.stable != nil && m.stable.SeqNr <= m.nextHandOn {
		m.forwardStable(m.stable, out)
		m.stable = nil
	}
}

// handOn executes a slot whose turn came.
//
// "It drops the transactions that were executed already (a client's
// retry, proposed by two leaders across epochs) and those outside the
// slot's leader's buckets, and hands the rest to the application."
func (m *Module) handOn(e *entry, out *stdtypes.EventList) {
	m.nextHandOn = e.sn + 1
	var txs []mempool.Tx
	for _, tx := range e.txs {
		if r, ok := m.admit(tx.TxID, e.buckets); !ok {
			m.stats.Dropped[r]++
			m.logger.LogAttrs(logging.LevelDebug, "transaction dropped", slog.Uint64("slot", uint64(e.sn)),
				slog.String("client", tx.ClientID), slog.Uint64("txNo", tx.TxNo), slog.String("reason", r.String()))
			continue
		}
		m.clients.Execute(tx.ClientID, tx.TxNo)
		txs = append(txs, tx)
	}
	if len(txs) == 0 {
		return
	}
	m.stats.Executed += uint64(len(txs))
	ids := make([]mempool.TxID, len(txs))
	for i, tx := range txs {
		ids[i] = tx.TxID
	}
	out.PushBack(&Execute{Header: stdtypes.NewHeader(m.mc.App), Epoch: e.epoch, SeqNr: e.sn, Txs: txs})
	out.PushBack(&mempool.Executed{Header: stdtypes.NewHeader(m.mc.Mempool), Txs: ids})
}

// admit reports whether transaction id executes in a slot whose leader
// has buckets, and why not if not. Every correct node decides the same:
// the decision depends on the replicated state only.
func (m *Module) admit(id mempool.TxID, buckets []int) (DropReason, bool) {
	switch {
	case len(id.ClientID) > m.params.MaxClientIDBytes:
		return DropClientID, false
	case !inBuckets(mempool.BucketOf(id, m.params.NumBuckets), buckets):
		return DropBucket, false
	case m.clients.Executed(id.ClientID, id.TxNo):
		return DropExecuted, false
	case id.TxNo > MaxTxNo || !m.clients.InWindow(id.ClientID, id.TxNo, m.params.ClientWindow):
		return DropWindow, false
	case m.clients[id.ClientID] == nil && len(m.clients) >= m.params.MaxClients:
		return DropTooManyClients, false
	}
	return 0, true
}

// inBuckets reports whether b is one of buckets, which ISS gives in
// increasing order.
func inBuckets(b int, buckets []int) bool {
	_, found := slices.BinarySearch(buckets, b)
	return found
}

// epochExecuted tells the mempool that the slots of epoch e and before are
// executed (handed on, or held by a restored state), after the Executed
// and Watermarks that named their transactions.
//
// The mempool gives out nothing for a proposal of the next epoch before:
// until then it still holds, waiting, what the earlier leaders of the
// buckets ordered, and would give it out to be ordered again.
func (m *Module) epochExecuted(e stdtypes.EpochNr, out *stdtypes.EventList) {
	out.PushBack(&mempool.EpochExecuted{Header: stdtypes.NewHeader(m.mc.Mempool), Epoch: e})
}

// askSnapshot asks the application for its snapshot, now that every slot
// before ISS's request is handed on, and keeps the fetcher's part as it is
// now: the slots handed on after it change the clients.
func (m *Module) askSnapshot(req *iss.SnapshotRequest, out *stdtypes.EventList) {
	m.asked = append(m.asked, askedSnapshot{
		epoch:   req.Epoch,
		replyTo: req.ReplyTo,
		prefix:  encodeFetcherPart(m.nextHandOn, m.clients),
	})
	out.PushBack(&SnapshotRequest{Header: stdtypes.NewHeader(m.mc.App), ReplyTo: m.mc.Self, Epoch: req.Epoch, SeqNr: req.SeqNr})
}

// appSnapshot answers ISS with the application's snapshot and the
// fetcher's part.
//
// "The state it snapshots is the application's, with the clients'
// watermarks."
func (m *Module) appSnapshot(ev *AppSnapshot, out *stdtypes.EventList) error {
	switch {
	case len(m.asked) == 0:
		return fmt.Errorf("snapshot of epoch %d: none was asked", ev.Epoch)
	case ev.Epoch != m.asked[0].epoch:
		return fmt.Errorf("snapshot of epoch %d, the oldest asked is of epoch %d", ev.Epoch, m.asked[0].epoch)
	case len(ev.Data) > m.params.MaxAppStateBytes:
		return fmt.Errorf("snapshot of epoch %d: %d bytes, MaxAppStateBytes is %d", ev.Epoch, len(ev.Data), m.params.MaxAppStateBytes)
	}
	if err := ev.NextVoters.Validate(); len(ev.NextVoters) > 0 && err != nil {
		return fmt.Errorf("snapshot of epoch %d: NextVoters: %w", ev.Epoch, err)
	}
	a := m.asked[0]
	m.asked = m.asked[1:]
	m.stats.Snapshots++
	out.PushBack(&iss.Snapshot{
		Header:     stdtypes.NewHeader(a.replyTo),
		Epoch:      a.epoch,
		Data:       appendApp(a.prefix, ev.Data),
		NextVoters: ev.NextVoters,
	})
	return nil
}

// restoreState replaces the clients with a snapshot's and hands the
// application its part; the slots not handed on are dropped (the state
// holds them).
//
// "It is also where ISS's snapshot requests and restores pass."
func (m *Module) restoreState(ev *iss.RestoreState, out *stdtypes.EventList) error {
	st, err := decodeState(ev.Data, m.params)
	switch {
	case err != nil:
		return fmt.Errorf("epoch %d: %w", ev.Epoch, err)
	case st.next != ev.SeqNr:
		return fmt.Errorf("epoch %d: the state's next slot is %d, the event's %d", ev.Epoch, st.next, ev.SeqNr)
	case st.next < m.nextDeliver:
		return fmt.Errorf("epoch %d: the state's next slot %d is behind the delivered %d: slots would execute twice", ev.Epoch, st.next, m.nextDeliver)
	}
	m.stats.Restores++
	m.stats.SkippedSlots += uint64(m.slots)
	m.clients = st.clients
	m.nextDeliver, m.nextHandOn = st.next, st.next
	m.queue, m.slots, m.queuedSnapshots = nil, 0, 0
	clear(m.waiting)
	// The snapshots asked of the application stay: it answers them, and
	// ISS drops the answers of epochs the state skipped.
	out.PushBack(&RestoreApp{Header: stdtypes.NewHeader(m.mc.App), Epoch: ev.Epoch, SeqNr: st.next, Data: st.app})
	// "After a node restores, the mempool must learn each client's
	// watermark": else it takes and proposes again what the state
	// executed. Before the stable checkpoint held: availability may then
	// hand back batches of slots the state skipped.
	if len(m.clients) > 0 {
		out.PushBack(&mempool.Watermarks{Header: stdtypes.NewHeader(m.mc.Mempool), Clients: watermarks(m.clients)})
	}
	m.epochExecuted(ev.Epoch, out)
	m.drain(out) // the stable checkpoint held, if the state covers it
	return nil
}

// watermarks returns the clients' watermarks and the numbers executed
// above them, in the order of the client IDs.
func watermarks(cs clients) []mempool.ClientWatermark {
	ws := make([]mempool.ClientWatermark, 0, len(cs))
	for _, id := range slices.Sorted(maps.Keys(cs)) {
		c := cs[id]
		ws = append(ws, mempool.ClientWatermark{ClientID: id, Low: c.Low, Above: slices.Sorted(maps.Keys(c.Above))})
	}
	return ws
}

// stableCheckpoint passes a stable checkpoint on to availability, which
// deletes the batches it covers, once the fetcher needs none of them.
//
// "Availability deletes a batch once a stable checkpoint covers the slot
// that delivered it; the batch fetcher keeps only the slots not yet
// handed on."
func (m *Module) stableCheckpoint(ev *iss.StableCheckpoint, out *stdtypes.EventList) {
	m.stats.StableCheckpoints++
	if ev.SeqNr <= m.nextHandOn {
		m.forwardStable(ev, out)
		return
	}
	if m.stable == nil || ev.SeqNr > m.stable.SeqNr {
		m.stable = ev // a later one covers what the one held covers
	}
}

func (m *Module) forwardStable(ev *iss.StableCheckpoint, out *stdtypes.EventList) {
	out.PushBack(&iss.StableCheckpoint{Header: stdtypes.NewHeader(m.mc.Availability), Epoch: ev.Epoch, SeqNr: ev.SeqNr})
}
