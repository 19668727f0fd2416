package bcb

import "github.com/mirframework/mir/stdtypes"

// Sizes returns how much state the module holds: the instances it leads
// and retransmits, the slots of every leader's window, the queued
// Broadcasts and the outstanding crypto requests.
func (m *Module) Sizes() (own, slots, queued, requests int) {
	s := m.s
	for _, ls := range s.leaders {
		slots += len(ls.slots)
	}
	return len(s.own), slots, len(s.queued), s.signing.Len() + s.verifying.Len()
}

// Low returns the low end of the node's window of leader's instances.
func (m *Module) Low(leader string) uint64 { return m.s.leaders[stdtypes.NodeID(leader)].low }
