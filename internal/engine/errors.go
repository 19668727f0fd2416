package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mirframework/mir/stdtypes"
)

// ErrUnknownModule is wrapped by the error returned when an event is
// addressed to a module the node does not have.
var ErrUnknownModule = errors.New("no such module")

// ModuleError tells that a module failed: it returned an error or panicked
// while applying a batch of events, or produced an invalid event.
type ModuleError struct {
	// Module is the module that failed.
	Module stdtypes.ModuleID
	// Events describes the batch the module was applying.
	Events string
	// Panicked tells whether the module panicked; Err then holds the panic
	// value and the stack.
	Panicked bool
	// Err is what the module returned, or the panic.
	Err error
}

func (e *ModuleError) Error() string {
	verb := "failed"
	if e.Panicked {
		verb = "panicked"
	}
	return fmt.Sprintf("module %q %s applying %s: %v", e.Module, verb, e.Events, e.Err)
}

func (e *ModuleError) Unwrap() error { return e.Err }

// PanicError carries a module's panic value and the stack where it
// happened.
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string { return fmt.Sprintf("%v\n%s", p.Value, p.Stack) }

// NewModuleError wraps err, which module m returned or raised while
// applying evs, with the module and a description of the batch.
func NewModuleError(m *Module, evs []stdtypes.Event, err error) error {
	_, panicked := err.(*PanicError)
	return &ModuleError{Module: m.ID, Events: DescribeEvents(evs), Panicked: panicked, Err: err}
}

// describeEventsMax is how many events an error message names one by one.
const describeEventsMax = 4

// DescribeEvents names the events of a batch for an error message: the
// event itself if it is alone, else the first few.
func DescribeEvents(evs []stdtypes.Event) string {
	var b strings.Builder
	if len(evs) == 1 {
		b.WriteString("event ")
	} else {
		fmt.Fprintf(&b, "a batch of %d events ", len(evs))
	}
	b.WriteByte('[')
	for i, ev := range evs {
		if i == describeEventsMax {
			b.WriteString(", ...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(DescribeEvent(ev))
	}
	b.WriteByte(']')
	return b.String()
}

// DescribeEvent names an event by type and destination.
func DescribeEvent(ev stdtypes.Event) string {
	if ev == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s to %q", stdtypes.TypeName(ev), ev.Dest())
}

// describeSource names where events came from, for error messages.
func describeSource(from *Module, parent stdtypes.Event) string {
	switch {
	case parent != nil:
		return "the follow-ups of " + DescribeEvent(parent)
	case from != nil:
		return fmt.Sprintf("module %q", from.ID)
	}
	return "outside the node"
}
