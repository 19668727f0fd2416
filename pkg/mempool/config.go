package mempool

import (
	"errors"
	"fmt"
	"time"

	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules the mempool talks to. The modules that
// hand it transactions and ask it for batches need no name here: a
// RequestBatch says where its answer goes (ReplyTo).
type ModuleConfig struct {
	// Self is the mempool's own ID: its timers answer to it.
	Self stdtypes.ModuleID
	// Timer measures BatchTimeout (stdevents.TimerDelay).
	Timer stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs Trantor uses.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{Self: "mempool", Timer: "timer"}
}

// Validate reports whether every ID is a valid module ID.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name string
		id   stdtypes.ModuleID
	}{{"Self", mc.Self}, {"Timer", mc.Timer}} {
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	return errors.Join(errs...)
}

// ModuleParams are the mempool's parameters. The limits bound its memory:
// at most MaxTxs transactions of MaxBytes in all (payloads and client IDs),
// state for MaxClients clients, each with a window of ClientWindow bits,
// and MaxRequests requests.
type ModuleParams struct {
	// NumBuckets is ISS's number of buckets (iss.Params.NumBuckets): the
	// mempool keeps one queue per bucket (BucketOf).
	NumBuckets int

	// MaxTxBytes bounds a transaction's payload; MaxClientIDBytes its
	// client ID. Larger ones are dropped.
	MaxTxBytes       int
	MaxClientIDBytes int
	// ClientWindow bounds how far above its low watermark (its lowest
	// transaction number not executed) a client may number a
	// transaction: one numbered ClientWindow or more above it is
	// dropped. It bounds what the mempool remembers per client of the
	// transactions executed out of order (one bit each).
	ClientWindow uint64
	// MaxTxsPerClient bounds the transactions one client has in the
	// mempool (waiting or in a batch out), so that one client cannot fill
	// it for the others.
	MaxTxsPerClient int
	// MaxClients bounds the clients the mempool keeps state for (a
	// watermark, a window, its transactions). When it is reached, a new
	// client's state takes the place of the client that has had nothing
	// in the mempool for the longest; if every client has transactions
	// in it, the new client's transactions are dropped.
	MaxClients int
	// MaxTxs and MaxBytes bound what the mempool holds in all, waiting or
	// in batches out; transactions that would pass them are dropped.
	// Bytes are a transaction's payload and client ID.
	MaxTxs   int
	MaxBytes int

	// MaxBatchTxs and MaxBatchBytes bound a batch (NewBatch). A batch goes
	// out as soon as the buckets asked for hold either much.
	MaxBatchTxs   int
	MaxBatchBytes int
	// BatchTimeout is how long a transaction waits for a fuller batch: a
	// request is answered with fewer than MaxBatchTxs transactions once
	// the oldest of them has waited BatchTimeout, or, if the request has
	// waited that long for any, as soon as one comes.
	BatchTimeout time.Duration
	// MaxRequests bounds the RequestBatch events held at once (one per
	// orderer of the segments this node leads). More is a local module's
	// bug, an error.
	MaxRequests int
}

// Upper bounds of the parameters, so that sizes computed from them cannot
// overflow and a typo cannot make the mempool unbounded in practice.
const (
	// maxNumBuckets is ISS's own bound (iss.MaxNumBuckets).
	maxNumBuckets = 1 << 16
	// maxItemBytes bounds MaxTxBytes and MaxBatchBytes: no transport
	// carries a larger message (TCP's frames stop at 4 MiB by default).
	maxItemBytes = 1 << 30
	// maxClientWindow keeps a client's window bitmap at 128 KiB at most.
	maxClientWindow = 1 << 20
	// maxCount bounds the counts (MaxTxs, MaxClients, ...).
	maxCount = 1 << 30
	// maxTotalBytes bounds MaxBytes.
	maxTotalBytes = 1 << 40
)

// DefaultModuleParams returns parameters for ISS's default 64 buckets,
// sized for a node that holds up to a second of transactions at 100,000
// transactions per second: 2^18 transactions, 256 MiB, 16 Ki clients.
// ISS's NumBuckets must be given if it is not the default.
func DefaultModuleParams() ModuleParams {
	return ModuleParams{
		NumBuckets:       64,
		MaxTxBytes:       64 << 10,
		MaxClientIDBytes: 256,
		ClientWindow:     1024,
		MaxTxsPerClient:  1024,
		MaxClients:       1 << 14,
		MaxTxs:           1 << 18,
		MaxBytes:         256 << 20,
		MaxBatchTxs:      1024,
		MaxBatchBytes:    1 << 20,
		BatchTimeout:     5 * time.Millisecond,
		MaxRequests:      256,
	}
}

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	inRange := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s is %d; it must be between %d and %d", name, v, lo, hi))
		}
	}
	inRange("NumBuckets", p.NumBuckets, 1, maxNumBuckets)
	inRange("MaxTxBytes", p.MaxTxBytes, 0, maxItemBytes)
	inRange("MaxClientIDBytes", p.MaxClientIDBytes, 0, maxItemBytes)
	if p.ClientWindow < 1 || p.ClientWindow > maxClientWindow {
		errs = append(errs, fmt.Errorf("ClientWindow is %d; it must be between 1 and %d", p.ClientWindow, maxClientWindow))
	}
	inRange("MaxTxsPerClient", p.MaxTxsPerClient, 1, maxCount)
	inRange("MaxClients", p.MaxClients, 1, maxCount)
	inRange("MaxTxs", p.MaxTxs, 1, maxCount)
	inRange("MaxBytes", p.MaxBytes, 1, maxTotalBytes)
	inRange("MaxBatchTxs", p.MaxBatchTxs, 1, maxCount)
	inRange("MaxBatchBytes", p.MaxBatchBytes, 1, maxItemBytes)
	inRange("MaxRequests", p.MaxRequests, 1, maxCount)
	// A transaction the mempool keeps must fit in a batch, or it would
	// wait forever (and a request could never be answered).
	if largest := p.MaxTxBytes + p.MaxClientIDBytes; largest > p.MaxBatchBytes {
		errs = append(errs, fmt.Errorf("MaxTxBytes+MaxClientIDBytes is %d, above MaxBatchBytes %d: the largest transaction must fit in a batch",
			largest, p.MaxBatchBytes))
	}
	if largest := p.MaxTxBytes + p.MaxClientIDBytes; largest > p.MaxBytes {
		errs = append(errs, fmt.Errorf("MaxTxBytes+MaxClientIDBytes is %d, above MaxBytes %d: the largest transaction must fit in the mempool",
			largest, p.MaxBytes))
	}
	if p.BatchTimeout <= 0 {
		errs = append(errs, fmt.Errorf("BatchTimeout is %v; it must be positive", p.BatchTimeout))
	}
	return errors.Join(errs...)
}
