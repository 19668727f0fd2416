package dsl

import (
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleWithStats is a Module whose statistics are a protocol's own, of
// type S: the counters its handlers keep, with what the Module counted
// (Stats) folded in. A protocol package embeds it in its module type, so
// that users get the protocol's Stats, typed, and a node gets them through
// ReportStats. Build it with NewModuleWithStats.
type ModuleWithStats[S any] struct {
	m     *Module
	stats func(Stats) S
}

var (
	_ modules.PassiveModule   = (*ModuleWithStats[Stats])(nil)
	_ modules.MessageReceiver = (*ModuleWithStats[Stats])(nil)
	_ modules.StatsReporter   = (*ModuleWithStats[Stats])(nil)
)

// NewModuleWithStats returns m, whose Stats are stats applied to m's own.
// stats is called from whatever goroutine asks for the Stats, while the
// module runs: what it reads must be safe for that (atomic counters).
func NewModuleWithStats[S any](m *Module, stats func(Stats) S) *ModuleWithStats[S] {
	return &ModuleWithStats[S]{m: m, stats: stats}
}

// ReceivesMessages implements modules.MessageReceiver: like Module, it
// takes the messages of other nodes.
func (m *ModuleWithStats[S]) ReceivesMessages() {}

// ApplyEvents handles a batch of events (Module.ApplyEvents).
func (m *ModuleWithStats[S]) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	return m.m.ApplyEvents(evs)
}

// Stats returns the protocol's counters. It is safe to call from any
// goroutine.
func (m *ModuleWithStats[S]) Stats() S { return m.stats(m.m.Stats()) }

// ReportStats returns Stats, so that a node includes them in its own.
func (m *ModuleWithStats[S]) ReportStats() any { return m.Stats() }
