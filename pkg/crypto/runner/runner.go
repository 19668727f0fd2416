package runner

import (
	"fmt"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Job is the work one request event asks for.
type Job struct {
	// Items is the number of independent items in the request. A job of
	// zero items needs no work: its Response is emitted as it is.
	Items int
	// Run computes items [lo, hi) and writes their results into Response.
	// Calls for disjoint ranges may run concurrently, each on its own
	// goroutine, so Run must write only to the results of its own range.
	// Bad input, such as a signature from another node that does not
	// verify, is a result, never an error or a panic. An error means a
	// local fault (say, no private key to sign with): it stops the node.
	Run func(lo, hi int) error
	// MinChunk is the smallest number of items worth handing to a worker on
	// their own: per-item work of a few microseconds needs bigger chunks
	// than a pairing, and batch verification gains from them. Values below
	// 1 count as 1.
	MinChunk int
	// MaxChunk is the most items a worker takes at once; 0 means no limit.
	// When the workers are busy, a Pool hands out whole requests up to
	// this size, which keeps batch verification efficient; a bound keeps
	// one huge request from holding one worker while others idle. Values
	// below MinChunk count as MinChunk.
	MaxChunk int
	// Finish, if not nil, is called once every item has been computed and
	// before Response is emitted, to set what depends on all the items
	// (such as whether they are all valid). It is called on the goroutine
	// that computed the last chunk, which sees every chunk's results.
	Finish func()
	// Response is the event emitted once every item has been computed. It
	// must not be nil.
	Response stdtypes.Event
}

// Planner turns a request event into a Job. It returns an error for an
// event the module does not handle or an invalid one; such an event comes
// from a local module, so the error, which stops the node, names a bug.
// Planners never see stdevents.Init, which the runtimes ignore, nor a
// stdevents.MessageReceived, which they drop and count (see skip).
//
// A planner used by a Pool is called on the node's goroutine, one event at
// a time; the functions it returns may run on several goroutines at once.
type Planner func(ev stdtypes.Event) (Job, error)

// skip reports whether a runtime passes ev by without planning it: an Init,
// which needs nothing, and a message from another node, which a crypto
// module takes none of and drops, counting it in stray. A node never hands
// a runtime a message (it is no modules.MessageReceiver); whatever drives
// it otherwise, a message's destination is a peer's choice, so it must not
// be an error.
func skip(ev stdtypes.Event, stray *modules.StrayMessages) bool {
	if _, ok := ev.(*stdevents.Init); ok {
		return true
	}
	return stray.Drop(ev)
}

// plan calls p and checks the job it returns.
func plan(p Planner, ev stdtypes.Event) (Job, error) {
	job, err := p(ev)
	if err != nil {
		return Job{}, err
	}
	switch {
	case job.Response == nil:
		return Job{}, fmt.Errorf("runner: planner returned no response for %s", stdtypes.TypeName(ev))
	case job.Items < 0:
		return Job{}, fmt.Errorf("runner: planner returned %d items for %s", job.Items, stdtypes.TypeName(ev))
	case job.Items > 0 && job.Run == nil:
		return Job{}, fmt.Errorf("runner: planner returned no Run function for %s", stdtypes.TypeName(ev))
	}
	return job, nil
}

// Sync is a passive module: it computes the response to each request on
// the caller's goroutine and returns the responses in the order of the
// requests. It starts no goroutine and reads no clock, so given the same
// requests it gives the same responses, which is what simulation and
// replay need.
type Sync struct {
	plan  Planner
	stray modules.StrayMessages
}

// NewSync returns a passive module that runs the jobs p makes.
func NewSync(p Planner) *Sync { return &Sync{plan: p} }

// DroppedMessages returns how many messages from other nodes the module
// got and dropped.
func (s *Sync) DroppedMessages() uint64 { return s.stray.Count() }

// ApplyEvents answers each request with its response, in order. Init
// events are ignored; messages from other nodes are dropped and counted
// (DroppedMessages).
func (s *Sync) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	var out *stdtypes.EventList
	for _, ev := range events.Slice() {
		if skip(ev, &s.stray) {
			continue
		}
		job, err := plan(s.plan, ev)
		if err != nil {
			return nil, err
		}
		if job.Items > 0 {
			if err := job.Run(0, job.Items); err != nil {
				return nil, fmt.Errorf("%s: %w", stdtypes.TypeName(ev), err)
			}
		}
		if job.Finish != nil {
			job.Finish()
		}
		if out == nil {
			out = stdtypes.EmptyList()
		}
		out.PushBack(job.Response)
	}
	return out, nil
}
