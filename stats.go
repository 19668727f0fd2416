package mir

import (
	"context"
	"sync"
	"time"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleStats are the statistics of one module since the node started.
type ModuleStats struct {
	// EventsIn is the number of events handed to the module.
	EventsIn uint64
	// EventsOut is the number of events the module produced (as output or,
	// for active modules, emitted).
	EventsOut uint64
	// Batches is the number of ApplyEvents calls.
	Batches uint64
	// Busy is the time spent in ApplyEvents.
	Busy time.Duration
	// DroppedUnknown is the number of events this active module emitted
	// for modules the node does not have, which the node dropped: such
	// destinations can come from the network, so they must not stop it.
	DroppedUnknown uint64
	// DroppedMessages is the number of messages from other nodes
	// (stdevents.MessageReceived) addressed to this module, which does not
	// take any (it does not implement modules.MessageReceiver), and which
	// the node dropped: a peer names the module its message is for, and
	// must not be able to stop the node with a module that has no use for
	// messages. The node logs the first of them, for each module, as a
	// warning: a protocol module that lacks the marker method by mistake
	// loses all its messages.
	DroppedMessages uint64
}

// NodeStats is a snapshot of a node's statistics.
type NodeStats struct {
	// Modules holds each module's statistics.
	Modules map[stdtypes.ModuleID]ModuleStats
	// BufferedEvents is the number of events waiting in the node's buffer.
	BufferedEvents int
	// InputPaused tells whether reading from active modules is paused
	// because the buffer is above PauseInputThreshold.
	InputPaused bool
	// InputPauses is the number of times reading from active modules was
	// paused since the node started: InputPaused alone, read now and
	// then, misses the pauses that ended in between.
	InputPauses uint64
	// Reports holds what each module that implements
	// modules.StatsReporter reports, such as a transport's per-peer
	// counters.
	Reports map[stdtypes.ModuleID]any
}

// Stats returns a snapshot of the node's statistics. It is safe to call
// from any goroutine at any time.
func (n *Node) Stats() NodeStats {
	s := NodeStats{
		Modules:        make(map[stdtypes.ModuleID]ModuleStats, len(n.moduleIDs)),
		BufferedEvents: int(n.bufferedEvents.Load()),
		InputPaused:    n.inputPaused.Load(),
		InputPauses:    n.inputPauses.Load(),
	}
	for i, id := range n.moduleIDs {
		if r, ok := n.modules[id].(modules.StatsReporter); ok {
			if s.Reports == nil {
				s.Reports = make(map[stdtypes.ModuleID]any)
			}
			s.Reports[id] = r.ReportStats()
		}
		ms := n.stats[i]
		s.Modules[id] = ModuleStats{
			EventsIn:        ms.EventsIn.Load(),
			EventsOut:       ms.EventsOut.Load(),
			Batches:         ms.Batches.Load(),
			Busy:            time.Duration(ms.BusyNs.Load()),
			DroppedUnknown:  ms.DroppedUnknown.Load(),
			DroppedMessages: ms.DroppedMessages.Load(),
		}
	}
	return s
}

// startStatsLogger logs the statistics every Config.Stats.Period until ctx
// ends, if the period is positive.
func (n *Node) startStatsLogger(ctx context.Context, wg *sync.WaitGroup) {
	cfg := n.Config.Stats
	if cfg.Period <= 0 {
		return
	}
	logger := cfg.Logger
	if logger == nil {
		logger = n.Config.Logger
	}
	logger = logger.With("node", string(n.ID))
	if !logger.Enabled(cfg.LogLevel) {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		ticker := time.NewTicker(cfg.Period)
		defer ticker.Stop()
		prev := n.Stats()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			cur := n.Stats()
			n.logStats(logger, cfg.LogLevel, prev, cur, cfg.Period)
			prev = cur
		}
	}()
}

// logStats writes one line per module with its counters and rates over the
// last period, and one for the buffer.
func (n *Node) logStats(logger *logging.Logger, level logging.Level, prev, cur NodeStats, period time.Duration) {
	logger.Log(level, "node stats", "buffered", cur.BufferedEvents, "inputPaused", cur.InputPaused, "inputPauses", cur.InputPauses)
	secs := period.Seconds()
	for _, id := range n.moduleIDs {
		p, c := prev.Modules[id], cur.Modules[id]
		logger.Log(level, "module stats",
			"module", string(id),
			"eventsIn", c.EventsIn,
			"eventsOut", c.EventsOut,
			"batches", c.Batches,
			"busy", c.Busy,
			"inPerSec", float64(c.EventsIn-p.EventsIn)/secs,
			"outPerSec", float64(c.EventsOut-p.EventsOut)/secs,
			"busyShare", float64(c.Busy-p.Busy)/float64(period),
			"droppedUnknown", c.DroppedUnknown,
			"droppedMessages", c.DroppedMessages,
		)
		if report, ok := cur.Reports[id]; ok {
			logger.Log(level, "module report", "module", string(id), "report", report)
		}
	}
}
