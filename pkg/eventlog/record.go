package eventlog

import (
	"errors"
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Entry is one event of a Batch.
type Entry struct {
	// Seq is the event's position in the node's dispatch order, counting
	// from 0. Filtered-out events keep their numbers, so gaps show them.
	Seq uint64
	// Input tells whether the event is an input of the node's passive
	// modules (see InputInterceptor).
	Input bool
	// Event is the event itself.
	Event stdtypes.Event
}

// Batch is what a Sink receives: the events a node dispatched to one
// module at once, after the recorder's filter.
type Batch struct {
	// Node is the node that dispatched the batch.
	Node stdtypes.NodeID
	// Number is the batch's position among the node's batches, from 0.
	Number uint64
	// Time is when the node dispatched the batch: the wall time, or the
	// time the node's driver gave (a simulation's, see TimedInterceptor).
	Time time.Time
	// Entries are the batch's events that passed the filter, in order.
	Entries []Entry
}

// Record is one recorded event, as a Source returns it. The event is kept
// in its encoded form and decoded only on demand (Decode), so scanning a
// log is cheap.
type Record struct {
	// Node is the node that dispatched the event.
	Node stdtypes.NodeID
	// Run tells the node's runs apart: a node restarted with a new
	// recorder numbers its events from 0 again, in a new run. Stream logs
	// use the recorder's start time (Unix ns); SQLite logs their run ID.
	Run int64
	// Seq is the event's position in the node's dispatch order, from 0.
	Seq uint64
	// Batch is the number of the batch the event was dispatched in: events
	// with the same Node and Batch reached their module together.
	Batch uint64
	// Time is when the event was dispatched: the wall time, or, in a
	// recording of a simulation, the simulated time (package testsim
	// records simulated time d as the Unix epoch plus d).
	Time time.Time
	// Dest is the path of the module the event was for.
	Dest stdtypes.ModuleID
	// Type is the name the event's type is registered under with package
	// codec, or, if it was not registered when recorded (Unencodable), its
	// Go type name.
	Type string
	// Input tells whether the event was an input of the node's passive
	// modules (see InputInterceptor); false for their outputs, and for
	// logs recorded without that information.
	Input bool
	// Unencodable tells that the event's type was not registered with
	// package codec when it was recorded: Data then holds the encoding
	// error's text, not the event.
	Unencodable bool
	// Data is the event's encoding (package codec).
	Data []byte
	// File is where the record was read from.
	File string
}

// ErrUnencodable is returned by Record.Decode for events that could not be
// encoded when they were recorded.
var ErrUnencodable = errors.New("event was not encodable when recorded")

// Decode decodes the event. It fails for events whose type is not
// registered in this binary (errors.Is codec.ErrUnknownType), and for
// Unencodable records (ErrUnencodable).
func (r *Record) Decode() (stdtypes.Event, error) {
	if r.Unencodable {
		return nil, fmt.Errorf("%s: %w: %s", r.Type, ErrUnencodable, r.Data)
	}
	ev, err := codec.DecodeEvent(r.Data)
	if err != nil {
		return nil, fmt.Errorf("decode %s (node %s, seq %d): %w", r.Type, r.Node, r.Seq, err)
	}
	return ev, nil
}

// Clone returns a copy of r that does not share Data: a Source may reuse
// the Record it returns.
func (r *Record) Clone() *Record {
	c := *r
	c.Data = append([]byte(nil), r.Data...)
	return &c
}
