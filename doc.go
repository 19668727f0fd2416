// Package mir is the engine of the Mir framework: a Node runs named modules
// and routes the events they exchange.
//
// A node hosts passive modules, deterministic functions from input events to
// output events where all protocol logic lives, and active modules (network
// transport, timers, clients) that also emit events on their own. The node's
// event loop buffers events, hands each module batches of the events
// addressed to it, releases follow-up events once their parent event has
// been processed, stops reading from active modules while its buffer is
// full (backpressure), and can show every dispatched event to an
// interceptor that records it.
//
// Messages from other nodes reach only the modules that declare they take
// them (modules.MessageReceiver); the node drops and counts one for any
// other module (ModuleStats.DroppedMessages), since the sender chose its
// destination.
//
// Passive modules run one batch at a time on the event loop's goroutine, so
// a node's protocol logic is single-threaded and its output depends only on
// the order of its input. Work that takes long (signature verification,
// disk writes) belongs in active modules, which run on goroutines of their
// own.
//
//	node, err := mir.NewNode("1", mir.DefaultNodeConfig(), modules.Modules{
//		"app":   app,   // a passive module
//		"timer": timer, // an active module
//	}, nil)
//	if err != nil { ... }
//	err = node.Run(ctx) // until node.Stop(), ctx ends, or a module fails
package mir
