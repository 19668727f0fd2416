package mir

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mirframework/mir/stdtypes"
)

// ErrUnknownModule is wrapped by the error Run returns when an event is
// addressed to a module the node does not have.
var ErrUnknownModule = errors.New("no such module")

// ModuleError is the error Run returns when a module fails: it returned an
// error or panicked while applying a batch of events.
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

// describeEventsMax is how many events an error message names one by one.
const describeEventsMax = 4

// describeEvents names the events of a batch for an error message: the
// event itself if it is alone, else the first few.
func describeEvents(evs []stdtypes.Event) string {
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
		b.WriteString(describeEvent(ev))
	}
	b.WriteByte(']')
	return b.String()
}

// describeEvent names an event by type and destination.
func describeEvent(ev stdtypes.Event) string {
	if ev == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s to %q", stdtypes.TypeName(ev), ev.Dest())
}
