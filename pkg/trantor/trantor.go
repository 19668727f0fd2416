package trantor

import (
	"fmt"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/iss/issnode"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// New returns the modules of Trantor node self: the mempool, availability,
// the batch fetcher and the application module (MempoolID, AvailabilityID,
// BatchFetcherID, AppID), and ISS with its orderers, checkpoints,
// reliablenet and hasher (package issnode's IDs). ISS's proposer and
// validator are availability, its application the batch fetcher. The
// caller adds the transport, the timer, the WAL, the signing module and
// the client server under the IDs deps names.
func New(self stdtypes.NodeID, p Params, deps Deps) (modules.Modules, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("trantor: %w", err)
	}
	if deps.Clients == "" {
		deps.Clients = ClientsID
	}
	numBuckets := p.ISS.NumBuckets
	p.Availability.BucketOf = func(tx mempool.Tx) int { return mempool.BucketOf(tx.TxID, numBuckets) }
	msgs, bytes := p.Availability.ReliableNetNeeds()

	mods, err := issnode.NewModules(self, issnode.Config{
		Params: p.ISS, Transport: deps.Transport, Timer: deps.Timer, WAL: deps.WAL, Crypto: deps.Crypto,
		App: BatchFetcherID, Proposer: AvailabilityID, Validator: AvailabilityID,
		RNetUsers: []stdtypes.ModuleID{AvailabilityID}, RNetMessages: msgs, RNetBytes: bytes,
		Incarnation: deps.Incarnation, MaxStateBytes: p.MaxStateBytes, Logger: deps.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("trantor: %w", err)
	}

	mp, err := mempool.NewModule(self, mempool.ModuleConfig{Self: MempoolID, Timer: deps.Timer}, p.Mempool, deps.Logger)
	if err != nil {
		return nil, fmt.Errorf("trantor: %w", err)
	}
	amc := availability.ModuleConfig{
		Self: AvailabilityID, ReliableNet: issnode.RNetID, Net: deps.Transport, Crypto: deps.Crypto,
		WAL: deps.WAL, Timer: deps.Timer, Mempool: MempoolID,
	}
	av, err := availability.NewModule(self, amc, p.Availability, deps.Logger)
	if err != nil {
		return nil, fmt.Errorf("trantor: %w", err)
	}
	bmc := batchfetcher.ModuleConfig{
		Self: BatchFetcherID, ISS: issnode.ISSID, Availability: AvailabilityID, Mempool: MempoolID, App: AppID,
	}
	bf, err := batchfetcher.NewModule(self, bmc, p.BatchFetcher, deps.Logger)
	if err != nil {
		return nil, fmt.Errorf("trantor: %w", err)
	}
	app, err := NewAppModule(deps.App, AppModuleConfig{Self: AppID, Clients: deps.Clients}, deps.Logger)
	if err != nil {
		return nil, err
	}
	mods[MempoolID], mods[AvailabilityID], mods[BatchFetcherID], mods[AppID] = mp, av, bf, app
	return mods, nil
}
