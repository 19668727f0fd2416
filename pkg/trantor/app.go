package trantor

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// App is the replicated state machine a Trantor node runs (docs/trantor.md
// section 2). Its methods are called from the node's event loop, one at a
// time, in the order of the log: Apply for each slot with transactions
// left, Snapshot at the end of each epoch, Restore when the node catches
// up by state transfer (or restarts from one).
//
// An App must be deterministic: the same transactions in the same order
// give the same results and the same snapshots on every node. An error
// from any method stops the node: a replica that cannot execute what the
// others execute must not go on.
type App interface {
	// Apply executes txs, in order, and returns one result per
	// transaction. The transactions share memory with the node's other
	// modules: Apply must not modify them, nor keep them past its
	// return without copying.
	Apply(txs []mempool.Tx) ([][]byte, error)
	// Snapshot returns the state after the last transaction applied, and
	// the membership it decides for a later epoch (nil: unchanged).
	Snapshot() (state []byte, next membership.Voters, err error)
	// Restore replaces the state with a snapshot, one that Snapshot
	// returned on some node (a strong quorum signed its hash).
	Restore(state []byte) error
}

// AppModuleConfig names the modules the application module talks to.
type AppModuleConfig struct {
	// Self is the module's own ID (the batch fetcher's
	// ModuleConfig.App).
	Self stdtypes.ModuleID
	// Clients receives an Executed for each slot applied: the client
	// server, which replies to the clients.
	Clients stdtypes.ModuleID
}

// DefaultAppModuleConfig returns the module IDs of docs/trantor.md.
func DefaultAppModuleConfig() AppModuleConfig {
	return AppModuleConfig{Self: AppID, Clients: ClientsID}
}

// Validate reports whether the configuration can be used.
func (mc AppModuleConfig) Validate() error {
	var errs []error
	if err := mc.Self.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("AppModuleConfig.Self: %w", err))
	}
	if err := mc.Clients.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("AppModuleConfig.Clients: %w", err))
	}
	return errors.Join(errs...)
}

// AppModule is the passive module that adapts an App to the batch
// fetcher's events: it applies each batchfetcher.Execute and tells the
// client server the results (Executed), answers each
// batchfetcher.SnapshotRequest with a batchfetcher.AppSnapshot, and
// restores the App on batchfetcher.RestoreApp. It holds no state of its
// own: the App is the state.
type AppModule struct {
	mc     AppModuleConfig
	app    App
	logger *logging.Logger
}

// NewAppModule returns the module that runs app. The logger may be nil.
func NewAppModule(app App, mc AppModuleConfig, logger *logging.Logger) (*AppModule, error) {
	if app == nil {
		return nil, errors.New("trantor: NewAppModule: nil App")
	}
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("trantor: %w", err)
	}
	return &AppModule{mc: mc, app: app, logger: logger}, nil
}

// ApplyEvents implements modules.PassiveModule.
func (m *AppModule) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(events, m.apply)
}

func (m *AppModule) apply(ev stdtypes.Event) (*stdtypes.EventList, error) {
	var out stdtypes.Event
	var err error
	switch ev := ev.(type) {
	case *stdevents.Init:
		return stdtypes.EmptyList(), nil
	case *batchfetcher.Execute:
		out, err = m.execute(ev)
	case *batchfetcher.SnapshotRequest:
		out, err = m.snapshot(ev)
	case *batchfetcher.RestoreApp:
		err = m.app.Restore(ev.Data)
	case nil:
		return nil, errors.New("trantor: app: nil event")
	default:
		return nil, fmt.Errorf("trantor: app: unexpected event %s", stdtypes.TypeName(ev))
	}
	if err != nil {
		return nil, fmt.Errorf("trantor: app: %s: %w", stdtypes.TypeName(ev), err)
	}
	if out == nil {
		return stdtypes.EmptyList(), nil
	}
	return stdtypes.ListOf(out), nil
}

// execute applies the transactions of one slot.
//
// "It applies each batch of transactions and returns a result per
// transaction, which goes back to the client."
func (m *AppModule) execute(ev *batchfetcher.Execute) (stdtypes.Event, error) {
	results, err := m.app.Apply(ev.Txs)
	if err != nil {
		return nil, fmt.Errorf("slot %d of epoch %d: %w", ev.SeqNr, ev.Epoch, err)
	}
	if len(results) != len(ev.Txs) {
		return nil, fmt.Errorf("slot %d of epoch %d: Apply returned %d results for %d transactions",
			ev.SeqNr, ev.Epoch, len(results), len(ev.Txs))
	}
	return &Executed{Header: stdtypes.NewHeader(m.mc.Clients), Epoch: ev.Epoch, SeqNr: ev.SeqNr, Txs: ev.Txs, Results: results}, nil
}

// snapshot answers a snapshot request with the App's state and the
// membership it decides.
func (m *AppModule) snapshot(ev *batchfetcher.SnapshotRequest) (stdtypes.Event, error) {
	state, next, err := m.app.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("epoch %d: %w", ev.Epoch, err)
	}
	return &batchfetcher.AppSnapshot{Header: stdtypes.NewHeader(ev.ReplyTo), Epoch: ev.Epoch, Data: state, NextVoters: next}, nil
}
