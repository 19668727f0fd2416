package pbft

import (
	"fmt"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// NewFactory returns the factory of node self's orderers, with ID
// mc.Self: a stdevents.NewSubmodule for iss.OrdererID(mc.Self, epoch,
// segment) with an iss.Segment as its Params (and the epoch as its
// retention index) creates the orderer of that segment, and a
// stdevents.GarbageCollect removes those of older epochs. A logger may be
// nil. opts are the factory's: an ISS node gives it
// stdmodules.WithEarlyMessages(iss.EarlyOrdererMessages(...)), so that the
// messages of an epoch the node has not reached wait for its orderers.
func NewFactory(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, logger *logging.Logger, opts ...stdmodules.FactoryOption) (*Factory, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("pbft: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("pbft: %w", err)
	}
	sum := new(counters)
	return &Factory{
		Factory: stdmodules.NewFactory(mc.Self, generator(self, mc, params, logger, sum), logger, opts...),
		sum:     sum,
	}, nil
}

// Factory is the factory of a node's orderers: a stdmodules.Factory that
// also sums the counters of every orderer it created, those it has
// garbage-collected included, so that a node's statistics show its
// orderers' work (view changes, ⊥ deliveries, drops) over its whole run
// through one module with a fixed ID, not one per segment.
type Factory struct {
	*stdmodules.Factory
	sum *counters
}

var _ modules.StatsReporter = (*Factory)(nil)

// Stats returns the sums of the counters of the orderers the factory
// created. UnknownMessages is 0: package dsl counts those per orderer,
// and they end with it. It is safe to call from any goroutine.
func (f *Factory) Stats() Stats { return f.sum.stats(dsl.Stats{}) }

// ReportStats returns Stats, so that a node includes them in its own.
func (f *Factory) ReportStats() any { return f.Stats() }

// generator returns the function that builds an orderer from the Params
// of a NewSubmodule: an iss.Segment (or a pointer to one), whose epoch and
// index must be those of the submodule's ID.
func generator(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, logger *logging.Logger, sum *counters) stdmodules.Generator {
	return func(id stdtypes.ModuleID, p any) (modules.PassiveModule, error) {
		var seg iss.Segment
		switch v := p.(type) {
		case iss.Segment:
			seg = v
		case *iss.Segment:
			if v == nil {
				return nil, fmt.Errorf("pbft: orderer %q: nil *iss.Segment", id)
			}
			seg = *v
		default:
			return nil, fmt.Errorf("pbft: orderer %q: Params of type %T; want an iss.Segment", id, p)
		}
		if want := iss.OrdererID(mc.Self, seg.Epoch, seg.Index); id != want {
			return nil, fmt.Errorf("pbft: orderer %q for segment %d of epoch %d; its ID must be %q", id, seg.Index, seg.Epoch, want)
		}
		omc := mc
		omc.Self = id
		o, err := NewOrderer(self, omc, params, seg, logger)
		if err != nil {
			return nil, err
		}
		o.s.counters.sum = sum
		return o, nil
	}
}
