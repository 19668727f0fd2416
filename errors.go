package mir

import "github.com/mirframework/mir/internal/engine"

// ErrUnknownModule is wrapped by the error Run returns when an event is
// addressed to a module the node does not have.
var ErrUnknownModule = engine.ErrUnknownModule

// ModuleError is the error Run returns when a module fails: it returned an
// error or panicked while applying a batch of events, or produced an
// invalid event. Its fields are Module (the module that failed), Events (a
// description of the batch), Panicked (whether it panicked; Err then holds
// the panic value and the stack) and Err (what the module returned).
type ModuleError = engine.ModuleError
