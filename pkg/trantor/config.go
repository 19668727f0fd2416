package trantor

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// Module IDs of the modules New builds, besides those of package issnode
// (iss, ordering, checkpoint, rnet, hasher), and the default ID of the
// client server, which the caller adds.
const (
	MempoolID      stdtypes.ModuleID = "mempool"
	AvailabilityID stdtypes.ModuleID = "availability"
	BatchFetcherID stdtypes.ModuleID = "batchfetcher"
	AppID          stdtypes.ModuleID = "app"
	ClientsID      stdtypes.ModuleID = "clients"
)

// Params are a Trantor deployment's protocol parameters: the same on
// every node. The parameters of the parts must agree (Validate checks
// that they do): DefaultParams makes them agree, and a deployment that
// changes one changes those it must agree with.
type Params struct {
	// ISS are the orderer's parameters; ISS.Voters is the membership of
	// epoch 0, and ISS.NumBuckets the number of buckets every part uses.
	ISS iss.Params
	// Mempool, Availability and BatchFetcher are the parameters of those
	// modules. Availability.BucketOf is set by New (to mempool.BucketOf
	// with ISS.NumBuckets): leave it nil.
	Mempool      mempool.ModuleParams
	Availability availability.ModuleParams
	BatchFetcher batchfetcher.ModuleParams
	// MaxStateBytes bounds a checkpointed state (the batch fetcher's
	// encoding of its clients and of the App's snapshot): what a node
	// sends in a state transfer, so within what the transport carries in
	// one message.
	MaxStateBytes int
}

// DefaultParams returns parameters for a deployment whose epoch 0 has
// voters: ISS's defaults, and the parts' defaults made to agree with
// them and with each other. A client may hold 128 transactions at once
// in the mempool and have them executed out of order (ClientWindow), with
// an ID of at most 64 bytes; 4,096 clients are known at once; the App's
// state is at most 1 MiB.
func DefaultParams(voters membership.Voters) Params {
	ip := iss.DefaultParams(voters)
	mp := mempool.DefaultModuleParams()
	bp := batchfetcher.DefaultModuleParams(ip)
	ap := availability.DefaultModuleParams(voters)

	mp.NumBuckets = ip.NumBuckets
	// A client's window and ID, and the clients known, are the same in the
	// mempool and in the fetcher: what one accepts, the other executes.
	mp.ClientWindow = bp.ClientWindow
	mp.MaxTxsPerClient = int(bp.ClientWindow)
	mp.MaxClientIDBytes = bp.MaxClientIDBytes
	mp.MaxClients = bp.MaxClients
	// Availability counts a transaction's client ID in its size; the
	// mempool its payload only.
	ap.MaxTxBytes = mp.MaxTxBytes + mp.MaxClientIDBytes
	ap.MaxBuckets = max(ap.MaxBuckets, ip.NumBuckets)
	return Params{
		ISS: ip, Mempool: mp, Availability: ap, BatchFetcher: bp,
		MaxStateBytes: checkpoint.DefaultModuleParams(voters).MaxStateBytes,
	}
}

// Validate reports whether the parameters can be used: each part's, and
// whether they agree.
func (p Params) Validate() error {
	var errs []error
	for _, part := range []struct {
		name string
		err  error
	}{
		{"ISS", p.ISS.Validate()}, {"Mempool", p.Mempool.Validate()},
		{"Availability", p.Availability.Validate()}, {"BatchFetcher", p.BatchFetcher.Validate()},
	} {
		if part.err != nil {
			errs = append(errs, fmt.Errorf("in Params.%s: %w", part.name, part.err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	nb := p.ISS.NumBuckets
	check(p.Mempool.NumBuckets == nb && p.BatchFetcher.NumBuckets == nb,
		"NumBuckets: ISS %d, Mempool %d, BatchFetcher %d: they must be equal", nb, p.Mempool.NumBuckets, p.BatchFetcher.NumBuckets)
	check(p.Availability.MaxBuckets >= nb,
		"Availability.MaxBuckets is %d, below ISS.NumBuckets %d: a segment's certificate could not be decoded", p.Availability.MaxBuckets, nb)
	check(p.Availability.BucketOf == nil, "Availability.BucketOf must be nil: New sets it to the mempool's")
	check(slices.Equal(p.Availability.Voters, p.ISS.Voters), "Availability.Voters differ from ISS.Voters")
	check(p.Mempool.MaxTxBytes+p.Mempool.MaxClientIDBytes <= p.Availability.MaxTxBytes,
		"Mempool.MaxTxBytes+MaxClientIDBytes is %d, above Availability.MaxTxBytes %d: the nodes would drop batches a correct leader cuts",
		p.Mempool.MaxTxBytes+p.Mempool.MaxClientIDBytes, p.Availability.MaxTxBytes)
	check(p.Mempool.MaxBatchTxs <= p.Availability.MaxBatchTxs && p.Mempool.MaxBatchBytes <= p.Availability.MaxBatchBytes,
		"Mempool batches (%d transactions, %d bytes) exceed Availability's (%d, %d)",
		p.Mempool.MaxBatchTxs, p.Mempool.MaxBatchBytes, p.Availability.MaxBatchTxs, p.Availability.MaxBatchBytes)
	check(p.Availability.MaxOpenProposals <= p.Mempool.MaxRequests,
		"Availability.MaxOpenProposals %d is above Mempool.MaxRequests %d: each open proposal holds a request in the mempool, and one past its bound stops the node",
		p.Availability.MaxOpenProposals, p.Mempool.MaxRequests)
	check(p.Mempool.ClientWindow <= p.BatchFetcher.ClientWindow,
		"Mempool.ClientWindow %d is above BatchFetcher.ClientWindow %d: the fetcher would drop transactions the mempool proposes",
		p.Mempool.ClientWindow, p.BatchFetcher.ClientWindow)
	check(p.Mempool.MaxClientIDBytes <= p.BatchFetcher.MaxClientIDBytes,
		"Mempool.MaxClientIDBytes %d is above BatchFetcher.MaxClientIDBytes %d", p.Mempool.MaxClientIDBytes, p.BatchFetcher.MaxClientIDBytes)
	bound := batchfetcher.PendingSlotsBound(p.ISS, len(p.ISS.Voters))
	check(p.BatchFetcher.MaxPendingSlots >= bound,
		"BatchFetcher.MaxPendingSlots is %d, below the %d slots ISS may deliver ahead (ConfigOffset+1 epochs of every voter's segment)",
		p.BatchFetcher.MaxPendingSlots, bound)
	cp := checkpoint.DefaultModuleParams(p.ISS.Voters)
	cp.MaxStateBytes = p.MaxStateBytes
	if err := cp.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("MaxStateBytes: %w", err))
	}
	check(p.BatchFetcher.MaxStateBytes() <= p.MaxStateBytes,
		"BatchFetcher.MaxStateBytes() is %d, above MaxStateBytes %d: a checkpoint could hold a state no node accepts",
		p.BatchFetcher.MaxStateBytes(), p.MaxStateBytes)
	return errors.Join(errs...)
}

// Deps are what a node's Trantor modules need from the caller: the IDs of
// the modules it adds, and the application.
type Deps struct {
	// Transport, Timer and WAL are the IDs of the node's transport, timer
	// and write-ahead log (pkg/wal) modules. Availability signs only
	// batches it stored in the WAL: Trantor needs one.
	Transport, Timer, WAL stdtypes.ModuleID
	// Crypto is the ID of the signing module (pkg/crypto, keyed by node
	// IDs).
	Crypto stdtypes.ModuleID
	// Clients is the ID of the client server, which receives an Executed
	// for each slot the App applies; empty: ClientsID.
	Clients stdtypes.ModuleID
	// App is the replicated state machine, a new value at each start of
	// the node: it is restored from a checkpoint, or starts empty.
	App App
	// Incarnation tells this start of the node from its earlier ones:
	// higher at every start (see reliablenet.ModuleParams.Incarnation).
	Incarnation uint64
	// Logger may be nil.
	Logger *logging.Logger
}
