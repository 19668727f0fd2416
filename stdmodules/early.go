package stdmodules

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/messagebuffer"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// EarlyMessages configures a Factory (see WithEarlyMessages) to keep the
// messages from other nodes that arrive for a submodule it has not created
// yet, and to hand them to the submodule once it exists. Protocols with one
// instance per epoch need it: a node that is a little behind receives the
// next epoch's messages before it creates the epoch's instance, and
// dropping them would cost a retransmission or a view change.
//
// When the submodule is created, after its Init, the factory emits the kept
// messages, in the order they arrived, as output addressed to the
// submodule: the node routes them back to the factory behind the events
// already queued for it. So the events the creator sent right after the
// NewSubmodule (a restarted instance's records from the write-ahead log)
// reach the submodule before any early message, however the node cuts its
// queue into batches; the submodule only sees messages from other nodes
// later than they arrived, which the network may do anyway.
type EarlyMessages struct {
	// Index maps a submodule's name (the path segment below the factory)
	// to the retention index the submodule will be created with, or
	// reports false for a name no submodule will ever have (made up by a
	// peer): such messages are dropped. Messages whose index is below the
	// factory's garbage-collection index are dropped too: their submodule
	// is gone or will never be created. Required.
	Index func(name stdtypes.ModuleID) (stdtypes.RetentionIndex, bool)
	// Limits bound what is kept per sender: a sender that sends too much
	// evicts its own oldest messages, never another's.
	Limits messagebuffer.Limits
	// MaxSenders bounds the number of senders kept at once. Senders are
	// learned as their messages arrive (a factory knows no membership);
	// each costs a share of Limits, so this bounds the whole buffer to
	// MaxSenders × Limits. Messages from further senders are dropped. The
	// senders are forgotten whenever the buffer empties.
	MaxSenders int
	// SizeBytes measures a message against Limits.BytesPerSenderMax; nil
	// uses messagebuffer.EncodedSize, which fits any message but encodes
	// it once more. A message it fails on is dropped.
	SizeBytes func(stdtypes.Message) (int, error)
}

// ErrInvalidEarlyMessages is wrapped by EarlyMessages.Validate's errors.
var ErrInvalidEarlyMessages = errors.New("invalid early-message configuration")

// Validate checks that the configuration can keep at least one message.
func (c EarlyMessages) Validate() error {
	var errs []error
	if c.Index == nil {
		errs = append(errs, errors.New("EarlyMessages.Index is nil"))
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxSenders < 1 {
		errs = append(errs, fmt.Errorf("MaxSenders is %d; it must be at least 1", c.MaxSenders))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidEarlyMessages, errors.Join(errs...))
	}
	return nil
}

// FactoryOption changes how NewFactory builds a Factory.
type FactoryOption func(*Factory) error

// WithEarlyMessages makes the factory keep early messages as c says. c is
// checked by NewFactory, which panics if it is invalid: check it with
// c.Validate first where it comes from a user.
func WithEarlyMessages(c EarlyMessages) FactoryOption {
	return func(f *Factory) error {
		if err := c.Validate(); err != nil {
			return err
		}
		if c.SizeBytes == nil {
			c.SizeBytes = messagebuffer.EncodedSize
		}
		f.early = &earlyBuffer{config: c}
		return nil
	}
}

// EarlyStats counts what a Factory did with early messages.
type EarlyStats struct {
	// Buffered is the number of messages kept now.
	Buffered int
	// Buffer holds the counters of the buffer (Stored, Evicted, Processed
	// = handed to a new submodule, Dropped = garbage-collected), summed
	// over every buffer the factory has had.
	Buffer messagebuffer.Stats
	// Refused counts messages not kept: too large, from a sender beyond
	// MaxSenders, unmeasurable.
	Refused uint64
}

// EarlyStats returns the counters of early messages; zeros for a factory
// without WithEarlyMessages.
func (f *Factory) EarlyStats() EarlyStats {
	if f.early == nil {
		return EarlyStats{}
	}
	return f.early.stats()
}

// earlyBuffer keeps early messages for a factory.
type earlyBuffer struct {
	config EarlyMessages
	// buf holds the messages, nil while there are none: it is created
	// with its first sender and dropped when it empties, which forgets
	// the senders.
	buf *messagebuffer.Buffer[*stdevents.MessageReceived]
	// senders is the number of senders of buf.
	senders int
	// past sums the counters of the buffers dropped so far.
	past    messagebuffer.Stats
	refused uint64
}

func (e *earlyBuffer) stats() EarlyStats {
	s := EarlyStats{Buffer: e.past, Refused: e.refused}
	if e.buf != nil {
		s.Buffered = e.buf.Len()
		addStats(&s.Buffer, e.buf.Stats())
	}
	return s
}

// keep stores ev, a message for submodule name that does not exist, if it
// may still be created; it reports whether it did.
func (f *Factory) keepEarly(name stdtypes.ModuleID, ev *stdevents.MessageReceived) bool {
	e := f.early
	if e == nil || name == "" {
		return false
	}
	if idx, ok := e.config.Index(name); !ok || idx < f.gcIndex {
		return false
	}
	size, err := e.config.SizeBytes(ev.Msg)
	if err != nil || size > e.config.Limits.BytesPerSenderMax {
		e.refused++
		return false
	}
	if e.buf == nil {
		// Cannot fail: the limits are valid and there is a sender.
		e.buf, _ = messagebuffer.New[*stdevents.MessageReceived]([]stdtypes.NodeID{ev.From}, e.config.Limits)
		e.senders = 1
	} else if !e.buf.HasSender(ev.From) {
		if e.senders >= e.config.MaxSenders {
			e.refused++
			return false
		}
		e.buf.AddSender(ev.From)
		e.senders++
	}
	if err := e.buf.Store(ev.From, ev, size); err != nil {
		e.refused++
		return false
	}
	return true
}

// releaseEarly removes the messages kept for submodule name and returns
// them, in the order they arrived, for the node to route to sub, which has
// just had its Init (see EarlyMessages for why they are not applied at
// once).
func (f *Factory) releaseEarly(name stdtypes.ModuleID, sub modules.PassiveModule) (*stdtypes.EventList, error) {
	e := f.early
	if e == nil || e.buf == nil {
		return nil, nil
	}
	var evs []stdtypes.Event
	if _, err := e.buf.Iterate(
		func(_ stdtypes.NodeID, ev *stdevents.MessageReceived) messagebuffer.Action {
			if seg, _ := modules.SubmoduleOf(f.id, ev.Dest()); seg == name {
				return messagebuffer.Process
			}
			return messagebuffer.Keep
		},
		func(_ stdtypes.NodeID, ev *stdevents.MessageReceived) error {
			evs = append(evs, ev)
			return nil
		},
	); err != nil {
		return nil, fmt.Errorf("factory %q: early messages: %w", f.id, err)
	}
	e.forgetIfEmpty()
	if len(evs) == 0 {
		return nil, nil
	}
	if !modules.ReceivesMessages(sub) {
		// The router would drop them too; counted the same way.
		f.dropped.Add(uint64(len(evs)))
		return nil, nil
	}
	f.logger.LogAttrs(logging.LevelDebug, "factory: handing early messages to new submodule",
		slog.String("factory", string(f.id)),
		slog.String("submodule", string(f.id.Then(name))),
		slog.Int("messages", len(evs)))
	return stdtypes.ListOf(evs...), nil
}

// collectEarly drops the messages kept for submodules below the garbage
// collection index.
func (f *Factory) collectEarly() error {
	e := f.early
	if e == nil || e.buf == nil {
		return nil
	}
	if _, err := e.buf.Iterate(
		func(_ stdtypes.NodeID, ev *stdevents.MessageReceived) messagebuffer.Action {
			seg, _ := modules.SubmoduleOf(f.id, ev.Dest())
			if idx, ok := e.config.Index(seg); !ok || idx < f.gcIndex {
				return messagebuffer.Drop
			}
			return messagebuffer.Keep
		},
		func(stdtypes.NodeID, *stdevents.MessageReceived) error { return nil },
	); err != nil {
		return fmt.Errorf("factory %q: early messages: %w", f.id, err)
	}
	e.forgetIfEmpty()
	return nil
}

// forgetIfEmpty drops an empty buffer, and with it its senders, so that
// senders that left the membership do not count against MaxSenders for
// ever.
func (e *earlyBuffer) forgetIfEmpty() {
	if e.buf == nil || e.buf.Len() > 0 {
		return
	}
	addStats(&e.past, e.buf.Stats())
	e.buf, e.senders = nil, 0
}

// addStats adds the counters of s to sum.
func addStats(sum *messagebuffer.Stats, s messagebuffer.Stats) {
	sum.Stored += s.Stored
	sum.Rejected += s.Rejected
	sum.Evicted += s.Evicted
	sum.Processed += s.Processed
	sum.Dropped += s.Dropped
}
