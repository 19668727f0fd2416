// Package issnode builds the modules of an ISS node in one call: the ISS
// orchestrator (pkg/iss), the factory of its PBFT orderers
// (pkg/orderers/pbft), the checkpoint module (pkg/checkpoint), the
// reliablenet module that carries their messages (pkg/reliablenet) and
// the hasher. The caller adds what is its own: the transport, the timer,
// the WAL, the signing module, and the application (which is also the
// proposer and the validator: see pkg/iss/isstest for one).
//
// The module IDs are those of docs/iss.md section 7 and of each package's
// DefaultModuleConfig, so that every node of a deployment uses the same:
// messages go to the same module on every node.
package issnode

import (
	"fmt"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// Config is what a node's ISS modules are built from.
type Config struct {
	// Params are ISS's parameters, the same on every node.
	Params iss.Params
	// Transport, Timer and WAL are the IDs of the node's transport, timer
	// and write-ahead log (pkg/wal) modules, which the caller adds. An
	// empty WAL runs without one: a node that restarts then forgets what
	// it promised, which only a deployment whose nodes never restart may
	// do.
	Transport, Timer, WAL stdtypes.ModuleID
	// Crypto is the ID of the signing module (pkg/crypto, keyed by node
	// IDs), App that of the application, proposer and validator.
	Crypto, App stdtypes.ModuleID
	// Proposer and Validator, if set, are the IDs of the modules that
	// propose and validate values in App's place (in Trantor,
	// availability, while ISS's App is the batch fetcher).
	Proposer, Validator stdtypes.ModuleID
	// RNetUsers are the modules besides the orderers and the checkpoint
	// module that send through the reliablenet module (in Trantor,
	// availability); RNetMessages and RNetBytes are what they may have in
	// flight at once, added to the room the module has for ISS.
	RNetUsers               []stdtypes.ModuleID
	RNetMessages, RNetBytes int
	// Incarnation tells this start of the node from its earlier ones
	// (reliablenet.ModuleParams.Incarnation): higher at every start.
	Incarnation uint64
	// MaxValueBytes bounds a value ISS orders (pbft.ModuleParams); 0
	// keeps the orderers' default.
	MaxValueBytes int
	// MaxStateBytes bounds a checkpointed state
	// (checkpoint.ModuleParams); 0 keeps the checkpoint module's default.
	MaxStateBytes int
	// Logger may be nil.
	Logger *logging.Logger
}

// Module IDs of the modules NewModules builds.
const (
	ISSID        stdtypes.ModuleID = "iss"
	OrderingID   stdtypes.ModuleID = "ordering"
	CheckpointID stdtypes.ModuleID = "checkpoint"
	RNetID       stdtypes.ModuleID = "rnet"
	HasherID     stdtypes.ModuleID = "hasher"
)

// NewModules returns the ISS modules of node self: ISSID, OrderingID,
// CheckpointID, RNetID and HasherID.
func NewModules(self stdtypes.NodeID, c Config) (modules.Modules, error) {
	p := c.Params
	if c.Proposer == "" {
		c.Proposer = c.App
	}
	if c.Validator == "" {
		c.Validator = c.App
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("issnode: %w", err)
	}

	imc := iss.ModuleConfig{
		Self: ISSID, Ordering: OrderingID, Checkpoint: CheckpointID, App: c.App, WAL: c.WAL,
		ReliableNet: RNetID, Proposer: c.Proposer, Validator: c.Validator, Net: c.Transport,
		// Timer stays empty: the timer is shared with reliablenet and the
		// checkpoint module, whose repeating ticks do not count in epochs
		// (see iss.ModuleConfig.Timer).
	}
	issMod, err := iss.New(self, imc, p, c.Logger)
	if err != nil {
		return nil, err
	}

	omc := pbft.ModuleConfig{
		Self: OrderingID, ISS: ISSID, Proposer: c.Proposer, Validator: c.Validator, ReliableNet: RNetID,
		Crypto: c.Crypto, Timer: c.Timer, WAL: c.WAL,
	}
	op := pbft.DefaultModuleParams()
	op.MaxProposeDelay, op.ViewChangeTimeout, op.MaxViewChangeTimeout = p.MaxProposeDelay, p.ViewChangeTimeout, p.MaxViewChangeTimeout
	op.MsgBufferCount, op.MsgBufferBytes = p.MsgBufferCount, p.MsgBufferBytes
	if c.MaxValueBytes != 0 {
		op.MaxValueBytes = c.MaxValueBytes
	}
	ordering, err := pbft.NewFactory(self, omc, op, c.Logger, stdmodules.WithEarlyMessages(iss.EarlyOrdererMessages(p)))
	if err != nil {
		return nil, err
	}

	cmc := checkpoint.ModuleConfig{
		Self: CheckpointID, ISS: ISSID, ReliableNet: RNetID, Net: c.Transport,
		Crypto: c.Crypto, Hasher: HasherID, Timer: c.Timer,
	}
	cp := checkpoint.DefaultModuleParams(p.Voters)
	cp.ConfigOffset = p.ConfigOffset
	cp.RetainedCheckpoints = max(cp.RetainedCheckpoints, p.RetainedEpochs)
	if c.MaxStateBytes != 0 {
		cp.MaxStateBytes = c.MaxStateBytes
	}
	ckpt, err := checkpoint.NewModule(self, cmc, cp, c.Logger)
	if err != nil {
		return nil, err
	}

	users := append([]stdtypes.ModuleID{OrderingID, CheckpointID}, c.RNetUsers...)
	rmc := reliablenet.ModuleConfig{Self: RNetID, Net: c.Transport, Timer: c.Timer, Users: users}
	rp := reliablenet.DefaultModuleParams(c.Incarnation)
	rp.MaxPendingMessages += c.RNetMessages
	rp.MaxPendingBytes += c.RNetBytes
	rnet, err := reliablenet.NewModule(self, rmc, rp, c.Logger)
	if err != nil {
		return nil, err
	}

	hasher, err := crypto.NewHasher(crypto.SHA256)
	if err != nil {
		return nil, err
	}

	return modules.Modules{
		ISSID: issMod, OrderingID: ordering, CheckpointID: ckpt, RNetID: rnet, HasherID: hasher,
	}, nil
}
