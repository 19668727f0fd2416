package wal

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// The events of the WAL module are registered with the codec, so that an
// event log can record them. The names are part of every recording.
var (
	_ = codec.Register[Append]("wal.Append")
	_ = codec.Register[Truncate]("wal.Truncate")
)

// Append asks the WAL module (its destination) to persist Event. The
// follow-ups of the Append are released once the record is durable: that
// is how a protocol module writes "persist this, then send that":
//
//	stdtypes.WithFollowUps(wal.NewAppend(walID, persisted, epoch), send)
//
// At every start of the node, before any input, the WAL module hands
// Event back to its destination, right after the Init events, unless its
// owner truncated it away (see Truncate). The owner of the record is the
// module Event is for: the first segment of its destination.
type Append struct {
	stdtypes.Header
	// Event is what is persisted and handed back. It must be addressed to
	// a module of the node other than the WAL module, and registered with
	// the codec.
	Event stdtypes.Event
	// RetentionIndex tells the owner's Truncate when the record may go:
	// a Truncate of the owner with a higher index drops it. An Append
	// below the owner's last Truncate is not persisted (the record would
	// be dropped at once), and its follow-ups are released at once; the
	// module counts it (ModuleStats.Ignored).
	RetentionIndex stdtypes.RetentionIndex
}

// NewAppend returns an Append asking the WAL module wal to persist ev,
// with a retention index. Add what must wait for it to be durable with
// stdtypes.WithFollowUps.
func NewAppend(wal stdtypes.ModuleID, ev stdtypes.Event, retentionIndex stdtypes.RetentionIndex) *Append {
	return &Append{Header: stdtypes.NewHeader(wal), Event: ev, RetentionIndex: retentionIndex}
}

// Validate checks what a module hands the WAL module: an event to
// persist, with a valid destination that is not the WAL module itself
// (wal), whose record would otherwise append itself again at every start.
func (a *Append) Validate(wal stdtypes.ModuleID) error {
	if a.Event == nil {
		return errors.New("wal: Append of no event")
	}
	dest := a.Event.Dest()
	if err := dest.Validate(); err != nil {
		return fmt.Errorf("wal: Append of %s: %w", stdtypes.TypeName(a.Event), err)
	}
	if dest.Top() == wal.Top() {
		return fmt.Errorf("wal: Append of %s for the WAL module itself (%q)", stdtypes.TypeName(a.Event), dest)
	}
	return nil
}

// Truncate asks the WAL module (its destination) to drop the records
// that Owner's Appends persisted with a retention index below
// RetentionIndex: it makes the Truncate durable, then deletes the
// segments of the log that hold no record still needed, by any owner. A
// module sends it once the state those records rebuild is stored some
// other way (a stable checkpoint), so that the log takes bounded disk. Its
// follow-ups are released once the Truncate is durable. A Truncate with a
// retention index no higher than the owner's last one does nothing.
type Truncate struct {
	stdtypes.Header
	// Owner is the module whose records go: a module of the node, one
	// path segment (a module's submodules share its records).
	Owner stdtypes.ModuleID
	// RetentionIndex is the lowest retention index kept.
	RetentionIndex stdtypes.RetentionIndex
}

// NewTruncate returns a Truncate asking the WAL module wal to drop the
// records of owner with a retention index below retentionIndex.
func NewTruncate(wal, owner stdtypes.ModuleID, retentionIndex stdtypes.RetentionIndex) *Truncate {
	return &Truncate{Header: stdtypes.NewHeader(wal), Owner: owner, RetentionIndex: retentionIndex}
}

// Validate checks that the owner is a module of one path segment.
func (t *Truncate) Validate() error {
	if err := t.Owner.Validate(); err != nil {
		return fmt.Errorf("wal: Truncate: owner: %w", err)
	}
	if t.Owner.Sub() != "" {
		return fmt.Errorf("wal: Truncate: owner %q is not a module of the node (one path segment): %q owns its submodules' records",
			t.Owner, t.Owner.Top())
	}
	return nil
}
