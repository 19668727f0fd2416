package reliablenet

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Module is the reliable links of one node: a passive module, written with
// package dsl, that takes the data and acknowledgements of the other
// nodes' reliable links. Its Stats are this package's (Stats), safe to
// read from any goroutine; a node reports them with its own. Build it with
// NewModule.
type Module struct {
	*dsl.ModuleWithStats[Stats]
}

var _ modules.StatsReporter = (*Module)(nil)

// state is the module's state. The handlers NewModule registers share it.
type state struct {
	self   stdtypes.NodeID
	mc     ModuleConfig
	params ModuleParams
	m      *dsl.Module

	// The sending side. nextSeq numbers the next DataMsg. Every message
	// in flight is in bySeq, for acknowledgments, in byName, for
	// cancellation, and in order, by sequence number, for retransmission:
	// order also holds entries removed since its last compaction (done),
	// at most as many as live ones.
	nextSeq      uint64
	bySeq        map[uint64]*entry
	byName       map[name]*entry
	order        []*entry
	removed      int
	pendingBytes int
	// scratch is the buffer messages are encoded into to learn their size.
	scratch []byte

	// The receiving side: the acknowledgments of the current batch, sent
	// at its end, one AckMsg per sender and incarnation (in the order they
	// first came, so that the output does not depend on map order).
	acks     map[ackKey][]uint64
	ackOrder []ackKey

	counters counters
}

// name is how a protocol names a message in flight.
type name struct {
	dest stdtypes.ModuleID
	id   MsgID
}

// ackKey names the sender of DataMsgs to acknowledge.
type ackKey struct {
	from        stdtypes.NodeID
	incarnation uint64
}

// entry is a message in flight.
type entry struct {
	name name
	data *DataMsg
	// dests are the destinations; acked[i] tells whether dests[i]
	// acknowledged (or no longer needs) the message, remaining how many
	// have not.
	dests     []stdtypes.NodeID
	acked     []bool
	remaining int
	bytes     int
	// backoffTicks is the current wait between transmissions, waitTicks
	// the ticks left until the next.
	backoffTicks, waitTicks int
	done                    bool
}

// maxScratchBytes bounds the encoding buffer the module keeps between
// messages: one large message should not keep its size allocated.
const maxScratchBytes = 64 << 10

// NewModule returns the reliablenet module of node self. A nil logger logs
// nothing; with one, every dropped message is logged at LevelDebug.
func NewModule(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, logger *logging.Logger) (*Module, error) {
	if self == "" {
		return nil, fmt.Errorf("reliablenet: empty node ID")
	}
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("reliablenet: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("reliablenet: %w", err)
	}
	mc.Users = slices.Clone(mc.Users)
	s := &state{
		self:   self,
		mc:     mc,
		params: params,
		bySeq:  make(map[uint64]*entry),
		byName: make(map[name]*entry),
		acks:   make(map[ackKey][]uint64),
	}
	s.m = dsl.NewModule(mc.Self, dsl.WithLogger(logger))
	s.register()
	return &Module{ModuleWithStats: dsl.NewModuleWithStats(s.m, s.counters.stats)}, nil
}

// register registers the handlers.
func (s *state) register() {
	m := s.m
	dsl.UponInit(m, s.onInit)

	// The sending side: send, retransmit until acknowledged or cancelled.
	dsl.UponEvent(m, s.onSend)
	dsl.UponEvent(m, s.onTick)
	dsl.UponMessageReceived(m, s.onAck)
	dsl.UponEvent(m, s.onMarkReceived)
	dsl.UponEvent(m, s.onCancel)
	dsl.UponEvent(m, s.onCancelPrefix)

	// The receiving side: deliver every copy, acknowledge every copy at
	// the end of the batch.
	dsl.UponMessageReceived(m, s.onData)
	dsl.UponCondition(m, s.flushAcks)
}

// onInit starts the ticks, the module's clock.
func (s *state) onInit() error {
	dsl.EmitEvent(s.m, stdevents.NewTimerRepeat(s.mc.Timer, s.params.TickPeriod, 0, NewTick(s.mc.Self)))
	return nil
}

// drop counts a dropped message and returns the error that makes package
// dsl drop and log it.
func (s *state) drop(c counter, format string, args ...any) error {
	s.counters.inc(c)
	return dsl.Drop(format, args...)
}

// onSend sends a message for the first time and keeps it for
// retransmission.
func (s *state) onSend(ev *SendMessage) error {
	dests, toSelf, size, err := s.admit(ev)
	if err != nil {
		return fmt.Errorf("SendMessage %q to %q: %w", ev.MsgID, ev.MsgDest, err)
	}
	s.counters.inc(cSent)
	if toSelf {
		// To this node: delivered at once, never lost.
		s.counters.inc(cDelivered)
		dsl.EmitEvent(s.m, stdevents.NewMessageReceived(ev.MsgDest, s.self, ev.Msg))
	}
	if len(dests) == 0 {
		s.counters.inc(cCompleted)
		return nil
	}
	e := &entry{
		name:         name{ev.MsgDest, ev.MsgID},
		data:         &DataMsg{Incarnation: s.params.Incarnation, Seq: s.nextSeq, MsgDest: ev.MsgDest, Msg: ev.Msg},
		dests:        dests,
		acked:        make([]bool, len(dests)),
		remaining:    len(dests),
		bytes:        size,
		backoffTicks: s.params.MinBackoffTicks,
		waitTicks:    s.params.MinBackoffTicks,
	}
	s.nextSeq++
	s.bySeq[e.data.Seq] = e
	s.byName[e.name] = e
	s.order = append(s.order, e)
	s.pendingBytes += size
	s.gauges()
	dsl.SendMessage(s.m, s.mc.Net, e.data, dests...)
	return nil
}

// admit checks a SendMessage, and that there is room for it. It returns
// the destinations other than this node, whether this node is one, and
// the message's size.
func (s *state) admit(ev *SendMessage) (dests []stdtypes.NodeID, toSelf bool, size int, err error) {
	if err := ev.validate(); err != nil {
		return nil, false, 0, fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	switch {
	case !s.mc.allowed(ev.MsgDest):
		return nil, false, 0, fmt.Errorf("%w: the module is not one of ModuleConfig.Users %q", ErrInvalidEvent, s.mc.Users)
	case s.byName[name{ev.MsgDest, ev.MsgID}] != nil:
		return nil, false, 0, fmt.Errorf("%w: a message with this ID is in flight", ErrInvalidEvent)
	}
	dests = ev.Destinations
	if i := slices.Index(dests, s.self); i >= 0 {
		toSelf = true
		dests = slices.Delete(slices.Clone(dests), i, i+1)
	} else {
		dests = slices.Clone(dests)
	}
	if len(dests) == 0 {
		return nil, toSelf, 0, nil
	}
	if size, err = s.size(ev.Msg); err != nil {
		return nil, false, 0, err
	}
	switch {
	case len(s.bySeq) >= s.params.MaxPendingMessages:
		return nil, false, 0, fmt.Errorf("%w: %d messages in flight (MaxPendingMessages)", ErrFull, len(s.bySeq))
	case s.pendingBytes+size > s.params.MaxPendingBytes:
		return nil, false, 0, fmt.Errorf("%w: %d bytes, and %d in flight (MaxPendingBytes %d)", ErrFull, size, s.pendingBytes, s.params.MaxPendingBytes)
	}
	return dests, toSelf, size, nil
}

// size returns the size of msg as the codec encodes it.
func (s *state) size(msg stdtypes.Message) (int, error) {
	data, err := codec.AppendMessage(s.scratch[:0], msg)
	if err != nil {
		return 0, fmt.Errorf("%w: the message cannot be encoded: %w", ErrInvalidEvent, err)
	}
	if cap(data) <= maxScratchBytes {
		s.scratch = data
	}
	return len(data), nil
}

// gauges updates the counters of what is in flight.
func (s *state) gauges() {
	s.counters.set(cPending, uint64(len(s.bySeq)))
	s.counters.set(cPendingBytes, uint64(s.pendingBytes))
}

// onTick retransmits each message whose wait is over to the destinations
// that have not acknowledged it, and doubles its wait.
func (s *state) onTick(*Tick) error {
	for _, e := range s.order {
		if e.done {
			continue
		}
		if e.waitTicks--; e.waitTicks > 0 {
			continue
		}
		e.backoffTicks = min(2*e.backoffTicks, s.params.MaxBackoffTicks)
		e.waitTicks = e.backoffTicks
		to := make([]stdtypes.NodeID, 0, e.remaining)
		for i, d := range e.dests {
			if !e.acked[i] {
				to = append(to, d)
			}
		}
		s.counters.add(cRetransmitted, uint64(len(to)))
		dsl.SendMessage(s.m, s.mc.Net, e.data, to...)
	}
	return nil
}

// onAck notes the destinations that acknowledged, and forgets the messages
// all acknowledged.
func (s *state) onAck(from stdtypes.NodeID, msg *AckMsg) error {
	switch {
	case len(msg.Seqs) > MaxAcksPerMessage:
		return s.drop(cMalformed, "AckMsg of %d numbers; at most %d", len(msg.Seqs), MaxAcksPerMessage)
	case msg.Incarnation != s.params.Incarnation:
		s.counters.add(cAcksStale, uint64(len(msg.Seqs)))
		return nil
	}
	for _, seq := range msg.Seqs {
		e := s.bySeq[seq]
		i := -1
		if e != nil {
			i = slices.Index(e.dests, from)
		}
		switch {
		case i < 0:
			s.counters.inc(cAcksUnknown)
		case e.acked[i]:
			s.counters.inc(cAcksDuplicate)
		default:
			s.markAcked(e, i)
			if e.remaining == 0 {
				s.counters.inc(cCompleted)
			}
		}
	}
	return nil
}

// markAcked marks e's destination i done, and forgets e when all are.
func (s *state) markAcked(e *entry, i int) {
	e.acked[i] = true
	e.remaining--
	if e.remaining == 0 {
		s.remove(e)
	}
}

// remove forgets a message in flight.
func (s *state) remove(e *entry) {
	e.done = true
	delete(s.bySeq, e.data.Seq)
	delete(s.byName, e.name)
	s.pendingBytes -= e.bytes
	s.removed++
	if s.removed > len(s.order)/2 {
		s.order = slices.DeleteFunc(s.order, func(e *entry) bool { return e.done })
		s.removed = 0
		if len(s.order) == 0 {
			s.order = nil // Let a large backing array go.
		}
	}
	s.gauges()
}

// onMarkReceived stops retransmitting a message to some destinations.
func (s *state) onMarkReceived(ev *MarkReceived) error {
	if err := ev.validate(); err != nil {
		return fmt.Errorf("MarkReceived %q: %w: %w", ev.MsgID, ErrInvalidEvent, err)
	}
	e := s.byName[name{ev.MsgDest, ev.MsgID}]
	if e == nil {
		return nil
	}
	for _, d := range ev.Destinations {
		if i := slices.Index(e.dests, d); i >= 0 && !e.acked[i] {
			s.markAcked(e, i)
			if e.remaining == 0 {
				s.counters.inc(cCancelled)
				return nil
			}
		}
	}
	return nil
}

// onCancel forgets a message.
func (s *state) onCancel(ev *Cancel) error {
	if err := validateName(ev.MsgDest, ev.MsgID); err != nil {
		return fmt.Errorf("Cancel %q: %w: %w", ev.MsgID, ErrInvalidEvent, err)
	}
	if e := s.byName[name{ev.MsgDest, ev.MsgID}]; e != nil {
		s.counters.inc(cCancelled)
		s.remove(e)
	}
	return nil
}

// onCancelPrefix forgets the messages of a group.
func (s *state) onCancelPrefix(ev *CancelPrefix) error {
	if err := ev.MsgDest.Validate(); err != nil {
		return fmt.Errorf("CancelPrefix %q: %w: destination module: %w", ev.Prefix, ErrInvalidEvent, err)
	}
	if len(ev.Prefix) > MaxMsgIDBytes {
		return fmt.Errorf("CancelPrefix: %w: prefix of %d bytes; at most %d", ErrInvalidEvent, len(ev.Prefix), MaxMsgIDBytes)
	}
	// remove may compact s.order: iterate over a snapshot of it.
	var victims []*entry
	for _, e := range s.order {
		if !e.done && e.name.dest == ev.MsgDest && strings.HasPrefix(string(e.name.id), string(ev.Prefix)) {
			victims = append(victims, e)
		}
	}
	for _, e := range victims {
		s.counters.inc(cCancelled)
		s.remove(e)
	}
	return nil
}

// onData delivers a message a peer sent reliably to its destination
// module, and acknowledges it at the end of the batch. Every copy is
// delivered and acknowledged: the acknowledgment of an earlier one may
// have been lost.
func (s *state) onData(from stdtypes.NodeID, msg *DataMsg) error {
	switch {
	case msg.Msg == nil:
		return s.drop(cMalformed, "DataMsg %d without a message", msg.Seq)
	case msg.MsgDest.Validate() != nil:
		return s.drop(cMalformed, "DataMsg %d for module %.64q: %v", msg.Seq, msg.MsgDest, msg.MsgDest.Validate())
	case !s.mc.allowed(msg.MsgDest):
		// Not acknowledged either: the sender sees that the message
		// does not get through.
		return s.drop(cForbidden, "DataMsg %d for module %.64q, which is not a user", msg.Seq, msg.MsgDest)
	}
	key := ackKey{from, msg.Incarnation}
	seqs, ok := s.acks[key]
	if !ok {
		s.ackOrder = append(s.ackOrder, key)
	}
	s.acks[key] = append(seqs, msg.Seq)
	s.counters.inc(cDelivered)
	dsl.EmitEvent(s.m, stdevents.NewMessageReceived(msg.MsgDest, from, msg.Msg))
	return nil
}

// flushAcks sends the acknowledgments of the batch.
func (s *state) flushAcks() error {
	for _, key := range s.ackOrder {
		seqs := s.acks[key]
		for len(seqs) > 0 {
			n := min(len(seqs), MaxAcksPerMessage)
			s.counters.inc(cAcksSent)
			dsl.SendMessage(s.m, s.mc.Net, &AckMsg{Incarnation: key.incarnation, Seqs: seqs[:n:n]}, key.from)
			seqs = seqs[n:]
		}
	}
	if len(s.ackOrder) > 0 {
		clear(s.acks)
		s.ackOrder = s.ackOrder[:0]
	}
	return nil
}
