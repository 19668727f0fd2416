package iss

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// recoveringWAL stands in for the WAL module in the node's core: it hands
// back preset records at the start and takes Appends and Truncates.
type recoveringWAL struct {
	modules.NullPassive
	records []stdtypes.Event
}

func (w *recoveringWAL) Recovered() []stdtypes.Event { return w.records }

// TestRestartInTheNodesCore runs ISS, the orderers' factory (with early
// messages) and a WAL that hands back records, in the node's core, one
// event per batch so that nothing relies on batches: the restarted
// orderer gets its Init, then its records, then the message that arrived
// for it before ISS created it.
func TestRestartInTheNodesCore(t *testing.T) {
	params := testParams()
	seen := make(map[stdtypes.ModuleID][]string)
	gen := func(id stdtypes.ModuleID, _ any) (modules.PassiveModule, error) {
		return modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			s := stdtypes.TypeName(ev)
			if h, ok := ev.(*Hurry); ok {
				s = fmt.Sprintf("record %d", h.SeqNr)
			}
			seen[id] = append(seen[id], s)
			return nil, nil
		}), nil
	}
	ordering := stdmodules.NewFactory("ordering", gen, nil, stdmodules.WithEarlyMessages(EarlyOrdererMessages(params)))
	m, err := New("n0", DefaultModuleConfig(), params, nil)
	if err != nil {
		t.Fatal(err)
	}
	record := func(sn stdtypes.SeqNr) *OrdererRecord {
		return &OrdererRecord{Header: stdtypes.NewHeader("iss"), Epoch: 0, Segment: 1,
			Event: &Hurry{Header: stdtypes.NewHeader("ordering/0.1"), SeqNr: sn}}
	}
	w := &recoveringWAL{records: []stdtypes.Event{
		&EpochRecord{Header: stdtypes.NewHeader("iss"), Epoch: 0, First: 0, Leaders: fourVoters.IDs()},
		record(100), record(101),
	}}
	mods := modules.Modules{"iss": m, "ordering": ordering, "wal": w,
		"app": modules.NullPassive{}, "checkpoint": modules.NullPassive{}, "rnet": modules.NullPassive{}}
	var specs []engine.Spec
	for _, id := range []stdtypes.ModuleID{"iss", "ordering", "wal", "app", "checkpoint", "rnet"} {
		specs = append(specs, engine.Spec{ID: id, Passive: mods[id].(modules.PassiveModule)})
	}
	core := engine.New(specs, 1, nil)
	core.SetBusyTiming(false)
	core.EnqueueInit()
	if err := core.EnqueueRecovered(mods); err != nil {
		t.Fatal(err)
	}
	// A message for the orderer arrives before ISS creates it.
	early := stdevents.NewMessageReceived("ordering/0.1", "n2", &reliablenet.AckMsg{Seqs: []uint64{1}})
	if err := core.Route([]stdtypes.Event{early}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for core.Ready() {
		if err := core.ApplyPassive(core.Next()); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"stdevents.Init", "record 100", "record 101", "stdevents.MessageReceived"}
	if got := seen["ordering/0.1"]; !slices.Equal(got, want) {
		t.Errorf("orderer 0.1 saw %v, want %v", got, want)
	}
	if got := ordering.Submodules(); len(got) != 4 {
		t.Errorf("orderers %v", got)
	}
}
