package batchfetcher

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules the batch fetcher talks to.
type ModuleConfig struct {
	// Self is the fetcher's own ID: ISS's App, and the ReplyTo of its
	// requests to availability and the application.
	Self stdtypes.ModuleID
	// ISS receives the Snapshots.
	ISS stdtypes.ModuleID
	// Availability answers RequestTxs, and receives the stable
	// checkpoints (pkg/availability).
	Availability stdtypes.ModuleID
	// Mempool receives the Executed transactions (pkg/mempool).
	Mempool stdtypes.ModuleID
	// App executes the transactions and takes and restores snapshots.
	App stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs of docs/trantor.md.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{Self: "batchfetcher", ISS: "iss", Availability: "availability", Mempool: "mempool", App: "app"}
}

// Validate reports whether every ID is a valid module ID.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name string
		id   stdtypes.ModuleID
	}{{"Self", mc.Self}, {"ISS", mc.ISS}, {"Availability", mc.Availability}, {"Mempool", mc.Mempool}, {"App", mc.App}} {
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	return errors.Join(errs...)
}

// ModuleParams are the fetcher's parameters. Every node of a deployment
// must use the same NumBuckets, ClientWindow, MaxClients and
// MaxClientIDBytes: they decide which transactions execute, and the
// snapshot they are part of must be accepted by every node.
type ModuleParams struct {
	// NumBuckets is ISS's NumBuckets: a transaction's bucket is
	// mempool.BucketOf(id, NumBuckets).
	NumBuckets int
	// ClientWindow bounds how far ahead of its low watermark (its lowest
	// number not executed) a client's transaction may execute: a
	// transaction numbered low+ClientWindow or more is dropped. The
	// fetcher remembers, per client, the numbers executed above the low
	// watermark (fewer than ClientWindow), which is what makes a retried
	// transaction execute once although a client's transactions execute
	// out of order (they fall in different buckets, ordered by different
	// leaders). The mempool should use the same window, or a smaller one,
	// so that it does not propose what the fetcher drops.
	ClientWindow uint64
	// MaxClients bounds the clients the fetcher remembers: a transaction
	// of a new client when MaxClients have executed transactions is
	// dropped. Clients are never forgotten (a forgotten client's retries
	// would execute again), so a deployment sizes it for all its clients.
	MaxClients int
	// MaxClientIDBytes bounds a client ID: a transaction with a longer
	// one is dropped. With MaxClients and ClientWindow it bounds the
	// fetcher's part of a snapshot.
	MaxClientIDBytes int
	// MaxAppStateBytes bounds the application's part of a snapshot,
	// when taken (a larger one is an error) and when restored.
	MaxAppStateBytes int
	// MaxPendingSlots bounds the slots delivered by ISS and not handed on
	// yet (waiting for their transactions, or behind a slot that is). ISS
	// delivers at most ConfigOffset+1 epochs beyond the first slot not
	// handed on, since it needs the snapshot after epoch e (taken once
	// every slot of e is handed on) to start epoch e+ConfigOffset+1: so
	// (ConfigOffset+1) × SegmentLength × leaders slots. Passing it means
	// the parameters disagree with ISS's: an error.
	MaxPendingSlots int
}

// Limits on the parameters, so that the sizes computed from them do not
// overflow and a snapshot stays far below what a transport carries.
const (
	maxClientWindow    = 1 << 20
	maxClients         = 1 << 24
	maxClientIDBytes   = 1 << 10
	maxAppStateBytes   = 1 << 30
	maxMaxPendingSlots = 1 << 24
	// maxStateBytes bounds MaxStateBytes(): no transport carries a larger
	// snapshot to a node in state transfer.
	maxStateBytes = 1 << 30
)

// DefaultModuleParams returns parameters for ISS's parameters p: its
// NumBuckets, and MaxPendingSlots for epochs of up to four times as many
// leaders as p's first membership has voters (at least 64), so that the
// membership may grow. The client limits keep MaxStateBytes below 2 MiB,
// within the checkpoint module's default bound on a state (3 MiB).
func DefaultModuleParams(p iss.Params) ModuleParams {
	return ModuleParams{
		NumBuckets:       p.NumBuckets,
		ClientWindow:     128,
		MaxClients:       4096,
		MaxClientIDBytes: 64,
		MaxAppStateBytes: 1 << 20,
		MaxPendingSlots:  PendingSlotsBound(p, max(4*len(p.Voters), 64)),
	}
}

// PendingSlotsBound returns how many slots ISS with parameters p can
// deliver beyond the first slot the fetcher has not handed on, with at
// most maxLeaders leaders per epoch: (ConfigOffset+1) × SegmentLength ×
// maxLeaders.
func PendingSlotsBound(p iss.Params, maxLeaders int) int {
	return (p.ConfigOffset + 1) * p.SegmentLength * maxLeaders
}

// MaxStateBytes returns the size of the largest snapshot Data the fetcher
// takes or restores with these parameters: its part with MaxClients
// clients, each with an ID of MaxClientIDBytes and ClientWindow−1 numbers
// executed above its watermark (a client can make that happen by sending
// sparse numbers; their distances add up to less than ClientWindow, so
// they take at most a byte per number), and MaxAppStateBytes of the
// application's. The
// checkpoint module's MaxStateBytes must allow it, or a snapshot may not
// be checkpointed.
func (p ModuleParams) MaxStateBytes() int {
	above := int(p.ClientWindow) - 1
	perClient := uvarintLen(uint64(p.MaxClientIDBytes)) + p.MaxClientIDBytes + binary.MaxVarintLen64 +
		uvarintLen(uint64(above)) + above
	return 1 + binary.MaxVarintLen64 + uvarintLen(uint64(p.MaxClients)) + p.MaxClients*perClient +
		uvarintLen(uint64(p.MaxAppStateBytes)) + p.MaxAppStateBytes
}

// uvarintLen returns the length of v's unsigned varint encoding.
func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	inRange := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s is %d; want %d to %d", name, v, lo, hi))
		}
	}
	inRange("NumBuckets", p.NumBuckets, 1, iss.MaxNumBuckets)
	if p.ClientWindow < 1 || p.ClientWindow > maxClientWindow {
		errs = append(errs, fmt.Errorf("ClientWindow is %d; want 1 to %d", p.ClientWindow, maxClientWindow))
	}
	inRange("MaxClients", p.MaxClients, 1, maxClients)
	inRange("MaxClientIDBytes", p.MaxClientIDBytes, 1, maxClientIDBytes)
	inRange("MaxAppStateBytes", p.MaxAppStateBytes, 0, maxAppStateBytes)
	inRange("MaxPendingSlots", p.MaxPendingSlots, 1, maxMaxPendingSlots)
	if len(errs) == 0 && p.MaxStateBytes() > maxStateBytes {
		errs = append(errs, fmt.Errorf("MaxStateBytes() is %d with these limits; want at most %d", p.MaxStateBytes(), maxStateBytes))
	}
	return errors.Join(errs...)
}
