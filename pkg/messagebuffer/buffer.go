package messagebuffer

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Errors of Store, Iterate and New. Store's are about the message, which
// came from another node: the caller drops it.
var (
	// ErrUnknownSender: the sender is not one of the buffer's senders.
	ErrUnknownSender = errors.New("message from an unknown sender")
	// ErrTooLarge: the message alone is larger than a sender's byte limit.
	ErrTooLarge = errors.New("message larger than a sender's byte limit")
	// ErrInvalidSize: the size given is negative.
	ErrInvalidSize = errors.New("negative message size")
	// ErrIterating: Store or Iterate was called from Iterate's decide
	// function, which must not change the buffer.
	ErrIterating = errors.New("buffer changed while deciding in Iterate")
	// ErrInvalidAction: decide returned a value that is not an Action.
	ErrInvalidAction = errors.New("invalid action")
	// ErrInvalidLimits: New was given limits that hold no message.
	ErrInvalidLimits = errors.New("invalid message buffer limits")
)

// Limits bound what a Buffer holds per sender. Both are required: the
// count bounds the bookkeeping of many small messages, the bytes bound the
// memory of a few large ones.
type Limits struct {
	// MessagesPerSenderMax is the most messages kept per sender. It must be
	// at least 1.
	MessagesPerSenderMax int
	// BytesPerSenderMax is the most bytes, summed over a sender's messages
	// as given to Store, kept per sender. It must be at least 1; a message
	// larger than it is never stored.
	BytesPerSenderMax int
}

// Validate reports whether the limits allow at least one message.
func (l Limits) Validate() error {
	var errs []error
	if l.MessagesPerSenderMax < 1 {
		errs = append(errs, fmt.Errorf("MessagesPerSenderMax is %d; it must be at least 1", l.MessagesPerSenderMax))
	}
	if l.BytesPerSenderMax < 1 {
		errs = append(errs, fmt.Errorf("BytesPerSenderMax is %d; it must be at least 1", l.BytesPerSenderMax))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidLimits, errors.Join(errs...))
	}
	return nil
}

// Action is what Iterate's decide function says about a message.
type Action int

const (
	// Keep leaves the message in the buffer, for a later Iterate.
	Keep Action = iota
	// Process removes the message and hands it to the process function.
	Process
	// Drop removes the message: it is stale and will never be processed.
	Drop
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case Keep:
		return "Keep"
	case Process:
		return "Process"
	case Drop:
		return "Drop"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// Stats counts what happened to the messages given to a Buffer.
type Stats struct {
	// Stored counts messages Store accepted.
	Stored uint64
	// Rejected counts messages Store refused: unknown sender, too large,
	// negative size.
	Rejected uint64
	// Evicted counts messages removed to make room for a newer one of the
	// same sender.
	Evicted uint64
	// Processed and Dropped count messages Iterate removed, by the action
	// decided.
	Processed uint64
	Dropped   uint64
}

// item is one buffered message. It is on two doubly linked lists: all
// messages in the order they were stored, and its sender's messages in the
// same order.
type item[M any] struct {
	msg        M
	sizeBytes  int
	sender     *sender[M]
	prev, next *item[M] // In the buffer's list.
	sPrev      *item[M] // In the sender's list.
	sNext      *item[M]
}

// sender is the queue of one sender's messages, oldest first.
type sender[M any] struct {
	id         stdtypes.NodeID
	head, tail *item[M]
	count      int
	bytes      int
}

// Buffer keeps early messages of type M (usually stdtypes.Message or a
// concrete message type) from a fixed set of senders, within Limits per
// sender. Create it with New.
type Buffer[M any] struct {
	limits Limits
	// senders is only looked up, never iterated, so its order reaches
	// nothing.
	senders map[stdtypes.NodeID]*sender[M]
	// head and tail are the oldest and newest message of all senders.
	head, tail *item[M]
	count      int
	bytes      int
	// deciding is set while Iterate calls decide.
	deciding bool
	stats    Stats
}

// New returns an empty buffer for messages from senders (typically the
// other members), each held within limits. The set of senders is fixed: a
// message from anyone else is refused.
func New[M any](senders []stdtypes.NodeID, limits Limits) (*Buffer[M], error) {
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	if len(senders) == 0 {
		return nil, errors.New("message buffer: no senders")
	}
	b := &Buffer[M]{limits: limits, senders: make(map[stdtypes.NodeID]*sender[M], len(senders))}
	for _, id := range senders {
		if _, ok := b.senders[id]; ok {
			return nil, fmt.Errorf("message buffer: sender %q listed twice", id)
		}
		b.senders[id] = &sender[M]{id: id}
	}
	return b, nil
}

// AddSender makes id one of the buffer's senders, with limits of its own,
// for a buffer whose senders are learned as their messages arrive (a
// factory that buffers for submodules it has not created yet knows no
// membership). It reports whether id is new. Bounding how many senders are
// added is the caller's task: each costs a little memory even when idle.
func (b *Buffer[M]) AddSender(id stdtypes.NodeID) bool {
	if _, ok := b.senders[id]; ok {
		return false
	}
	b.senders[id] = &sender[M]{id: id}
	return true
}

// HasSender reports whether id is one of the buffer's senders.
func (b *Buffer[M]) HasSender(id stdtypes.NodeID) bool {
	_, ok := b.senders[id]
	return ok
}

// Store keeps msg from sender from, which costs sizeBytes of the sender's
// byte limit, evicting the sender's oldest messages as needed to stay
// within its limits. It returns an error, and changes nothing, if from is
// not a sender of the buffer (ErrUnknownSender), if msg alone exceeds the
// byte limit (ErrTooLarge), if sizeBytes is negative (ErrInvalidSize), or if
// called from Iterate's decide function (ErrIterating). The caller drops a
// message Store refuses.
func (b *Buffer[M]) Store(from stdtypes.NodeID, msg M, sizeBytes int) error {
	if b.deciding {
		return ErrIterating
	}
	s, ok := b.senders[from]
	switch {
	case !ok:
		b.stats.Rejected++
		return fmt.Errorf("%w: %q", ErrUnknownSender, from)
	case sizeBytes < 0:
		b.stats.Rejected++
		return fmt.Errorf("%w: %d", ErrInvalidSize, sizeBytes)
	case sizeBytes > b.limits.BytesPerSenderMax:
		b.stats.Rejected++
		return fmt.Errorf("%w: %d bytes from %q, limit %d", ErrTooLarge, sizeBytes, from, b.limits.BytesPerSenderMax)
	}
	// Written as a subtraction, the byte test cannot overflow.
	for s.count >= b.limits.MessagesPerSenderMax || sizeBytes > b.limits.BytesPerSenderMax-s.bytes {
		b.unlink(s.head)
		b.stats.Evicted++
	}
	b.link(&item[M]{msg: msg, sizeBytes: sizeBytes, sender: s})
	b.stats.Stored++
	return nil
}

// Iterate goes over the buffered messages in the order they were stored
// and calls decide for each. Messages decided Keep stay; Drop removes the
// message; Process removes it and, once decide has seen every message,
// hands it to process, in the same order. Iterate returns how many
// messages it handed to process.
//
// decide must not change the buffer (Store and Iterate return ErrIterating
// meanwhile); process may, for example to store a message again. An error
// from process stops Iterate, which returns it: the messages decided
// Process after it are removed and never processed. A value from decide
// other than Keep, Process and Drop keeps the message, and Iterate returns
// an error wrapping ErrInvalidAction once it has processed the others.
func (b *Buffer[M]) Iterate(decide func(from stdtypes.NodeID, msg M) Action, process func(from stdtypes.NodeID, msg M) error) (int, error) {
	if b.deciding {
		return 0, ErrIterating
	}
	if decide == nil || process == nil {
		return 0, errors.New("message buffer: Iterate needs a decide and a process function")
	}
	var ready []*item[M]
	var badAction error
	b.deciding = true
	for it := b.head; it != nil; {
		next := it.next // Read before it is unlinked.
		switch a := decide(it.sender.id, it.msg); a {
		case Keep:
		case Process:
			b.unlink(it)
			ready = append(ready, it)
		case Drop:
			b.unlink(it)
			b.stats.Dropped++
		default:
			if badAction == nil {
				badAction = fmt.Errorf("message buffer: %w %v from decide", ErrInvalidAction, a)
			}
		}
		it = next
	}
	b.deciding = false
	for i, it := range ready {
		b.stats.Processed++
		if err := process(it.sender.id, it.msg); err != nil {
			return i + 1, err
		}
	}
	return len(ready), badAction
}

// Len returns the number of messages buffered.
func (b *Buffer[M]) Len() int { return b.count }

// Bytes returns the bytes of all messages buffered, as given to Store.
func (b *Buffer[M]) Bytes() int { return b.bytes }

// SenderLen returns the number and bytes of the messages buffered from
// sender from; zeros for a sender the buffer does not know.
func (b *Buffer[M]) SenderLen(from stdtypes.NodeID) (count, bytes int) {
	if s, ok := b.senders[from]; ok {
		return s.count, s.bytes
	}
	return 0, 0
}

// Senders returns the buffer's senders, sorted.
func (b *Buffer[M]) Senders() []stdtypes.NodeID {
	ids := make([]stdtypes.NodeID, 0, len(b.senders))
	for id := range b.senders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Limits returns the buffer's limits.
func (b *Buffer[M]) Limits() Limits { return b.limits }

// Stats returns the buffer's counters.
func (b *Buffer[M]) Stats() Stats { return b.stats }

// link appends it, whose sender is set, to both lists.
func (b *Buffer[M]) link(it *item[M]) {
	it.prev = b.tail
	if b.tail != nil {
		b.tail.next = it
	} else {
		b.head = it
	}
	b.tail = it

	s := it.sender
	it.sPrev = s.tail
	if s.tail != nil {
		s.tail.sNext = it
	} else {
		s.head = it
	}
	s.tail = it

	s.count++
	s.bytes += it.sizeBytes
	b.count++
	b.bytes += it.sizeBytes
}

// unlink removes it from both lists.
func (b *Buffer[M]) unlink(it *item[M]) {
	if it.prev != nil {
		it.prev.next = it.next
	} else {
		b.head = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		b.tail = it.prev
	}

	s := it.sender
	if it.sPrev != nil {
		it.sPrev.sNext = it.sNext
	} else {
		s.head = it.sNext
	}
	if it.sNext != nil {
		it.sNext.sPrev = it.sPrev
	} else {
		s.tail = it.sPrev
	}
	it.prev, it.next, it.sPrev, it.sNext = nil, nil, nil, nil

	s.count--
	s.bytes -= it.sizeBytes
	b.count--
	b.bytes -= it.sizeBytes
}

// EncodedSize returns the size of msg encoded by package codec, which is
// what a transport sends and receives for it: a size for Store that needs
// no knowledge of the message. It encodes the message, which costs about
// as much as the transport's own encoding; a caller that knows a cheaper
// measure (the payload's length) should use that.
func EncodedSize(msg stdtypes.Message) (int, error) {
	data, err := codec.EncodeMessage(msg)
	if err != nil {
		return 0, fmt.Errorf("message buffer: size of %s: %w", stdtypes.TypeName(msg), err)
	}
	return len(data), nil
}
