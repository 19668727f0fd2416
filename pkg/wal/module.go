package wal

import (
	"context"
	"fmt"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// Module is the WAL module of a real node: an active module that persists
// the Appends and Truncates protocol modules send it, in a Log, and hands
// the records back when the node starts (modules.Recoverer). Its twin in a
// simulation is SimModule; they share all but the disk.
//
// ApplyEvents appends the records of a batch as one group and returns
// once the last is durable, one fsync for the batch: the node releases
// the follow-ups of the batch's events then, and the batches that queue
// meanwhile form the next group. A failed write or sync returns an error,
// which stops the node: the log takes no record after one (see Log). A
// Truncate is made durable before the segments it frees are deleted.
//
// It takes no messages from other nodes: one that reaches it is dropped
// and counted; any event other than Init, Append and Truncate is an error.
type Module struct {
	log *Log
	j   journal
}

var _ modules.ActiveModule = (*Module)(nil)

// NewModule opens the log in dir with opts (see Open: a new directory
// gets an empty log) and reads its records, which the node's start hands
// back to their owners. A record that does not decode (a log of another
// program, an event type no longer registered) is an error: the node must
// not start without state its modules relied on. Close the module once
// the node has stopped.
func NewModule(dir string, opts Options) (*Module, error) {
	log, err := Open(dir, opts)
	if err != nil {
		return nil, err
	}
	m := &Module{log: log, j: newJournal()}
	if err := m.j.open(log.Records(0), log.LastIndex(), log.opts.MaxRecordBytes); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("wal: %s: %w", dir, err)
	}
	return m, nil
}

// Recovered returns the events of the records the log held when the
// module was made, in the order they were appended, without those their
// owners truncated; the node's start routes them right after the Init
// events. The module keeps them until the first call only.
func (m *Module) Recovered() []stdtypes.Event { return m.j.takeRecovered() }

// ApplyEvents persists the batch's Appends and Truncates and returns once
// they are durable, or when ctx ends.
func (m *Module) ApplyEvents(ctx context.Context, events *stdtypes.EventList) error {
	var last Pending
	truncated, err := m.j.apply(events.Slice(), func(data []byte) (uint64, error) {
		p, err := m.log.AppendAsync(data)
		if err != nil {
			return 0, err
		}
		last = p
		return p.Index(), nil
	})
	if err != nil {
		return err
	}
	if last.g != nil {
		select {
		case <-last.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := last.Wait(); err != nil {
			return err
		}
	}
	if truncated {
		if err := m.log.TruncateBefore(m.j.firstLive()); err != nil {
			return err
		}
	}
	return nil
}

// EventsOut returns nil: the module emits nothing on its own. What it
// recovered enters the node through Recovered.
func (m *Module) EventsOut() <-chan *stdtypes.EventList { return nil }

// Stats returns the module's counters and its log's. It is safe to call
// at any time.
func (m *Module) Stats() ModuleStats {
	s := m.j.stats()
	s.Log = m.log.Stats()
	return s
}

// ReportStats returns the module's counters for the node's statistics
// (modules.StatsReporter).
func (m *Module) ReportStats() any { return m.Stats() }

// Log returns the module's log, for its counters (Log.Stats) and for
// tests; appending to it directly would put records in it that the module
// does not know.
func (m *Module) Log() *Log { return m.log }

// Close makes what was appended durable, closes the log and releases its
// directory. Call it once the node has stopped.
func (m *Module) Close() error { return m.log.Close() }
