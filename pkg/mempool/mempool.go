package mempool

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Module is the mempool of one node: a passive module, written with package
// dsl. Build it with NewModule.
type Module struct {
	m *dsl.Module
	s *state
}

var (
	_ modules.PassiveModule = (*Module)(nil)
	_ modules.StatsReporter = (*Module)(nil)
)

// ApplyEvents handles a batch of events (see package dsl).
func (m *Module) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	return m.m.ApplyEvents(evs)
}

// Stats returns the module's counters. It is safe to call from any
// goroutine.
func (m *Module) Stats() Stats { return m.s.counters.stats() }

// ReportStats returns Stats, so that a node includes them in its own.
func (m *Module) ReportStats() any { return m.Stats() }

// ErrBadRequest marks the errors about a RequestBatch a local module got
// wrong (a bucket out of range or named twice, a Ref already held, more
// than MaxRequests held): they stop the node.
var ErrBadRequest = errors.New("bad RequestBatch")

// state is the mempool's state; the handlers NewModule registers share it.
type state struct {
	mc     ModuleConfig
	params ModuleParams
	m      *dsl.Module
	logger *logging.Logger

	// clients are the clients the mempool keeps state for, at most
	// MaxClients; idle are those of them that hold no transaction.
	clients map[string]*client
	idle    idleList
	// buckets are the queues of waiting transactions, one per bucket.
	buckets []queue
	// heldTxs and heldBytes sum what the mempool holds, waiting or out.
	heldTxs, heldBytes int
	// arrivals is the arrival number of the last transaction accepted;
	// every transaction with arrival number up to waited has waited
	// BatchTimeout (TxsWaited); timed is the arrival number of the last
	// TxsWaited timer set.
	arrivals, waited, timed uint64
	// requests are the RequestBatch events not answered yet, in the order
	// they came; lastRequest numbers them.
	requests    []*request
	lastRequest uint64
	// changed is set when a held request may have become answerable.
	changed bool
	// nextEpoch is the latest epoch whose requests may be answered: every
	// slot of the epochs before it was executed (EpochExecuted), so that
	// this mempool holds none of their transactions any more.
	nextEpoch stdtypes.EpochNr

	// Scratch space, reused: the queues of a request, the heap that
	// merges them, the transactions handed back.
	queues   []*queue
	merge    merger
	returned []*entry

	counters counters
}

// request is a RequestBatch the mempool holds.
type request struct {
	no      uint64
	replyTo stdtypes.ModuleID
	ref     uint64
	buckets []int
	epoch   stdtypes.EpochNr
	// waited is set once the request has waited BatchTimeout.
	waited bool
	// epochWait is set once the request was held because the epochs
	// before its own were not executed yet (counted once).
	epochWait bool
}

// NewModule returns the mempool of node self (for logs). A nil logger logs
// nothing; with one, every dropped transaction is logged at LevelDebug.
func NewModule(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, logger *logging.Logger) (*Module, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("mempool: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("mempool: %w", err)
	}
	if self == "" {
		return nil, fmt.Errorf("mempool: empty node ID")
	}
	if logger != nil {
		logger = logger.With("node", string(self))
	}
	s := &state{
		mc:      mc,
		params:  params,
		logger:  logger,
		clients: map[string]*client{},
		buckets: make([]queue, params.NumBuckets),
	}
	s.m = dsl.NewModule(mc.Self, dsl.WithLogger(logger))
	s.register()
	return &Module{m: s.m, s: s}, nil
}

// register registers the handlers, each under the line of docs/trantor.md
// (section 1, hop 2) or of the events' documentation it implements.
func (s *state) register() {
	m := s.m

	// Keep the transactions received, per client, until they are
	// executed; drop one already held, one below the client's low
	// watermark (or executed above it), one beyond what a client may hold.
	dsl.UponEvent(m, s.onNewTxs)
	dsl.UponCondition(m, s.setTimer)

	// Cut a batch of the requested buckets by size, count or a timeout:
	// at once if the buckets hold a full batch, else once the oldest
	// waiting transaction has waited BatchTimeout, or as soon as one comes
	// after the request has waited that long. Never empty.
	dsl.UponEvent(m, s.onRequestBatch)
	dsl.UponEvent(m, s.onCancelBatch)
	dsl.UponEvent(m, s.onTxsWaited)
	dsl.UponEvent(m, s.onRequestWaited)
	dsl.UponCondition(m, s.answerRequests)

	// A batch's transactions are not given out again until they are
	// handed back (their proposal was not ordered) or executed.
	dsl.UponEvent(m, s.onReturnTxs)

	// Forget executed transactions: the clients' low watermarks remember
	// them.
	dsl.UponEvent(m, s.onExecuted)
	dsl.UponEvent(m, s.onWatermarks)

	// Give out nothing for a proposal of epoch e before every slot of the
	// epochs before e is executed here: until then, transactions another
	// leader ordered in them still wait here, in buckets this node leads
	// in epoch e.
	dsl.UponEvent(m, s.onEpochExecuted)
}

// onNewTxs keeps the transactions it may.
func (s *state) onNewTxs(ev *NewTxs) error {
	before := s.arrivals
	for i := range ev.Txs {
		if r, ok := s.addTx(&ev.Txs[i]); !ok {
			s.drop(r, &ev.Txs[i])
		}
	}
	if s.arrivals != before {
		s.changed = true
	}
	return nil
}

// setTimer has the timer tell, at the end of each batch of events that
// brought transactions, when they have waited BatchTimeout: one timer per
// batch, however many NewTxs it had.
func (s *state) setTimer() error {
	if s.arrivals == s.timed {
		return nil
	}
	s.timed = s.arrivals
	dsl.EmitEvent(s.m, stdevents.NewTimerDelay(s.mc.Timer, s.params.BatchTimeout,
		&TxsWaited{Header: stdtypes.NewHeader(s.mc.Self), Arrival: s.arrivals}))
	return nil
}

// addTx keeps tx if it may, and otherwise says why not.
func (s *state) addTx(tx *Tx) (reason, bool) {
	p := &s.params
	if len(tx.ClientID) > p.MaxClientIDBytes {
		return rBadClientID, false
	}
	if len(tx.Data) > p.MaxTxBytes {
		return rOversize, false
	}
	c := s.clients[tx.ClientID]
	var low uint64
	if c != nil {
		low = c.low
	}
	switch {
	case tx.TxNo < low || c != nil && tx.TxNo-low < p.ClientWindow && c.executed(tx.TxNo, p.ClientWindow):
		return rReplay, false
	case tx.TxNo-low >= p.ClientWindow:
		return rBeyondWindow, false
	case c != nil && c.held[tx.TxNo] != nil:
		return rDuplicate, false
	case c != nil && len(c.held) >= p.MaxTxsPerClient:
		return rClientFull, false
	}
	bytes := len(tx.ClientID) + len(tx.Data)
	if s.heldTxs >= p.MaxTxs || bytes > p.MaxBytes-s.heldBytes {
		return rFull, false
	}
	if c == nil {
		if c = s.newClient(tx.ClientID); c == nil {
			return rTooManyClients, false
		}
	}
	s.arrivals++
	e := &entry{tx: *tx, arrival: s.arrivals, bucket: BucketOf(tx.TxID, p.NumBuckets), bytes: bytes}
	if c.idle {
		s.idle.drop(c)
	}
	c.held[tx.TxNo] = e
	s.buckets[e.bucket].push(e)
	s.hold(e, +1)
	s.counters.add(rAccepted, 1)
	return 0, true
}

// hold counts e in (sign +1) or out of (-1) what the mempool holds.
func (s *state) hold(e *entry, sign int) {
	s.heldTxs += sign
	s.heldBytes += sign * e.bytes
	s.counters.heldTxs.Store(uint64(s.heldTxs))
	s.counters.heldBytes.Store(uint64(s.heldBytes))
}

// newClient returns new state for client id, making room for it by
// forgetting the client idle the longest if MaxClients are kept, or nil if
// every client kept holds transactions.
func (s *state) newClient(id string) *client {
	if len(s.clients) >= s.params.MaxClients {
		old := s.idle.head
		if old == nil {
			return nil
		}
		s.idle.drop(old)
		delete(s.clients, old.id)
		s.counters.add(rForgottenClients, 1)
	}
	c := &client{id: id, held: map[uint64]*entry{}}
	s.clients[id] = c
	s.idle.add(c)
	s.counters.clients.Store(uint64(len(s.clients)))
	return c
}

// drop counts and logs a dropped transaction.
func (s *state) drop(r reason, tx *Tx) {
	s.counters.add(r, 1)
	if s.logger.Enabled(logging.LevelDebug) {
		s.logger.LogAttrs(logging.LevelDebug, "dropped transaction", slog.String("module", string(s.mc.Self)),
			slog.String("client", tx.ClientID), slog.Uint64("txNo", tx.TxNo), slog.String("reason", reasonNames[r]))
	}
}

// onRequestBatch answers the request at once if it can, and holds it
// otherwise, with a timer for when it has waited BatchTimeout.
func (s *state) onRequestBatch(ev *RequestBatch) error {
	if err := s.checkRequest(ev); err != nil {
		return err
	}
	s.lastRequest++
	r := &request{no: s.lastRequest, replyTo: ev.ReplyTo, ref: ev.Ref, buckets: slices.Clone(ev.Buckets), epoch: ev.Epoch}
	if s.answer(r) {
		return nil
	}
	s.requests = append(s.requests, r)
	s.counters.reqs.Store(uint64(len(s.requests)))
	dsl.EmitEvent(s.m, stdevents.NewTimerDelay(s.mc.Timer, s.params.BatchTimeout,
		&RequestWaited{Header: stdtypes.NewHeader(s.mc.Self), Request: r.no}))
	return nil
}

// checkRequest returns an error if a local module got ev wrong.
func (s *state) checkRequest(ev *RequestBatch) error {
	if err := ev.ReplyTo.Validate(); err != nil {
		return fmt.Errorf("%w %d: ReplyTo: %w", ErrBadRequest, ev.Ref, err)
	}
	if s.find(ev.Ref) >= 0 {
		return fmt.Errorf("%w %d: a request with this Ref is held already", ErrBadRequest, ev.Ref)
	}
	if len(s.requests) >= s.params.MaxRequests {
		return fmt.Errorf("%w %d: %d requests held already (MaxRequests)", ErrBadRequest, ev.Ref, len(s.requests))
	}
	sorted := slices.Clone(ev.Buckets)
	slices.Sort(sorted)
	for i, b := range sorted {
		if b < 0 || b >= s.params.NumBuckets {
			return fmt.Errorf("%w %d: bucket %d of %d", ErrBadRequest, ev.Ref, b, s.params.NumBuckets)
		}
		if i > 0 && b == sorted[i-1] {
			return fmt.Errorf("%w %d: bucket %d named twice", ErrBadRequest, ev.Ref, b)
		}
	}
	return nil
}

// find returns the index of the held request with Ref ref, -1 if none.
func (s *state) find(ref uint64) int {
	return slices.IndexFunc(s.requests, func(r *request) bool { return r.ref == ref })
}

// onCancelBatch forgets the request, if it is still held.
func (s *state) onCancelBatch(ev *CancelBatch) error {
	if i := s.find(ev.Ref); i >= 0 {
		s.requests = slices.Delete(s.requests, i, i+1)
		s.counters.reqs.Store(uint64(len(s.requests)))
	}
	return nil
}

// onTxsWaited notes which transactions have waited BatchTimeout.
func (s *state) onTxsWaited(ev *TxsWaited) error {
	// An arrival number above the last is not one this mempool set a
	// timer for (a timer of an earlier run): it can vouch only for the
	// transactions that came before.
	if a := min(ev.Arrival, s.arrivals); a > s.waited {
		s.waited = a
		s.changed = true
	}
	return nil
}

// onRequestWaited notes that a request has waited BatchTimeout, if it is
// still held.
func (s *state) onRequestWaited(ev *RequestWaited) error {
	for _, r := range s.requests {
		if r.no == ev.Request {
			r.waited = true
			s.changed = true
		}
	}
	return nil
}

// answerRequests answers, at the end of each batch of events, the held
// requests that can be answered, in the order they came.
func (s *state) answerRequests() error {
	if !s.changed {
		return nil
	}
	s.changed = false
	kept := s.requests[:0]
	for _, r := range s.requests {
		if !s.answer(r) {
			kept = append(kept, r)
		}
	}
	clear(s.requests[len(kept):])
	s.requests = kept
	s.counters.reqs.Store(uint64(len(s.requests)))
	return nil
}

// answer sends r its batch and returns true if it can be answered now:
// the epochs before its own are executed, and its buckets hold a full
// batch, or their oldest transaction has waited BatchTimeout, or r has and
// they hold any.
func (s *state) answer(r *request) bool {
	if r.epoch > s.nextEpoch {
		if !r.epochWait {
			r.epochWait = true
			s.counters.add(rEpochWaits, 1)
		}
		return false
	}
	s.queues = s.queues[:0]
	txs, bytes := 0, 0
	oldest := uint64(0)
	for _, b := range r.buckets {
		q := &s.buckets[b]
		s.queues = append(s.queues, q)
		txs += q.txs
		bytes += q.bytes
		if q.head != nil && (oldest == 0 || q.head.arrival < oldest) {
			oldest = q.head.arrival
		}
	}
	p := &s.params
	if txs == 0 || txs < p.MaxBatchTxs && bytes < p.MaxBatchBytes && oldest > s.waited && !r.waited {
		return false
	}
	s.merge.reset(s.queues)
	var batch []Tx
	bytes = 0
	for e := s.merge.peek(); e != nil && len(batch) < p.MaxBatchTxs && e.bytes <= p.MaxBatchBytes-bytes; e = s.merge.peek() {
		s.buckets[e.bucket].take(e)
		s.merge.fix()
		e.out = true
		batch = append(batch, e.tx)
		bytes += e.bytes
	}
	s.counters.add(rBatches, 1)
	s.counters.add(rBatchedTxs, uint64(len(batch)))
	dsl.EmitEvent(s.m, &NewBatch{Header: stdtypes.NewHeader(r.replyTo), Ref: r.ref, Txs: batch})
	return true
}

// onReturnTxs puts the transactions handed back, those out in a batch, in
// their queues again, in their places by arrival: they are the oldest.
func (s *state) onReturnTxs(ev *ReturnTxs) error {
	s.returned = s.returned[:0]
	for _, id := range ev.Txs {
		if e := s.lookup(id); e != nil && e.out {
			e.out = false
			s.returned = append(s.returned, e)
		}
	}
	if len(s.returned) == 0 {
		return nil
	}
	slices.SortFunc(s.returned, func(a, b *entry) int { return cmp.Compare(a.arrival, b.arrival) })
	// Each queue is searched once, from the last entry put back in it.
	hints := map[int]*entry{}
	for _, e := range s.returned {
		s.buckets[e.bucket].insert(e, hints[e.bucket])
		hints[e.bucket] = e
	}
	s.counters.add(rReturned, uint64(len(s.returned)))
	clear(s.returned)
	s.changed = true
	return nil
}

// lookup returns the entry of transaction id, nil if the mempool does not
// hold it.
func (s *state) lookup(id TxID) *entry {
	if c := s.clients[id.ClientID]; c != nil {
		return c.held[id.TxNo]
	}
	return nil
}

// onExecuted retires the executed transactions and moves their clients'
// watermarks.
func (s *state) onExecuted(ev *Executed) error {
	for _, id := range ev.Txs {
		s.executed(id)
	}
	return nil
}

// executed retires transaction id, if held, and records that it was
// executed.
func (s *state) executed(id TxID) {
	c := s.executedClient(id.ClientID)
	if c == nil {
		return
	}
	s.markExecuted(c, id.TxNo)
	s.touched(c)
}

// executedClient returns the state of client id, which has executed
// transactions, new if need be; nil, counted, if the mempool cannot keep
// it.
func (s *state) executedClient(id string) *client {
	if len(id) > s.params.MaxClientIDBytes {
		// No such transaction is held, nor ever will be.
		s.counters.add(rUnrecordedExecutions, 1)
		return nil
	}
	c := s.clients[id]
	if c == nil {
		if c = s.newClient(id); c == nil {
			s.counters.add(rUnrecordedExecutions, 1)
			return nil
		}
	}
	return c
}

// markExecuted retires c's transaction txNo, if held, and records that it
// was executed.
func (s *state) markExecuted(c *client, txNo uint64) {
	switch {
	case txNo < c.low:
		return // Known already.
	case txNo-c.low >= s.params.ClientWindow:
		// No such transaction is held (it would be beyond the window).
		s.counters.add(rUnrecordedExecutions, 1)
		return
	}
	s.retire(c, txNo)
	c.markExecuted(txNo, s.params.ClientWindow)
}

// retire forgets c's transaction txNo, if held, waiting or out.
func (s *state) retire(c *client, txNo uint64) {
	e := c.held[txNo]
	if e == nil {
		return
	}
	if !e.out {
		s.buckets[e.bucket].take(e)
	}
	delete(c.held, txNo)
	s.hold(e, -1)
	s.counters.add(rRetired, 1)
}

// touched moves c, whose transactions were executed, to the end of the
// idle list if it holds none: it is the last to be forgotten.
func (s *state) touched(c *client) {
	if c.idle {
		s.idle.drop(c)
	}
	if len(c.held) == 0 {
		s.idle.add(c)
	}
}

// onEpochExecuted lets the requests of the epoch after ev's be answered.
func (s *state) onEpochExecuted(ev *EpochExecuted) error {
	if ev.Epoch >= s.nextEpoch {
		s.nextEpoch = ev.Epoch + 1
		s.counters.nextEpoch.Store(uint64(s.nextEpoch))
		s.changed = true
	}
	return nil
}

// onWatermarks retires what a restored state executed: below each
// client's watermark, and above it.
func (s *state) onWatermarks(ev *Watermarks) error {
	for _, w := range ev.Clients {
		c := s.executedClient(w.ClientID)
		if c == nil {
			continue
		}
		if w.Low > c.low {
			for _, no := range slices.Sorted(maps.Keys(c.held)) {
				if no < w.Low {
					s.retire(c, no)
				}
			}
			c.raiseLow(w.Low, s.params.ClientWindow)
		}
		for _, no := range w.Above {
			s.markExecuted(c, no)
		}
		s.touched(c)
	}
	return nil
}
