package mempool

import (
	"sync/atomic"
)

// Stats counts what the mempool did and what it dropped, by reason, and
// says what it holds. Every dropped transaction is also logged, at
// LevelDebug, with its client, number and the reason, if the module has a
// logger.
type Stats struct {
	// Accepted counts the transactions kept (from NewTxs).
	Accepted uint64
	// Batches counts the NewBatch events sent, and BatchedTxs the
	// transactions in them (a transaction handed back and given out
	// again counts twice).
	Batches    uint64
	BatchedTxs uint64
	// Returned counts the transactions handed back (ReturnTxs) that were
	// out in a batch and wait again; the others named in a ReturnTxs
	// (executed meanwhile, or never given out) are ignored.
	Returned uint64
	// Retired counts the transactions held here that an Executed (or a
	// restored state's Watermarks) retired, waiting or out in a batch.
	Retired uint64
	// ForgottenClients counts the clients whose state (watermark, window)
	// was dropped to make room for a new client (ModuleParams.MaxClients).
	ForgottenClients uint64
	// UnrecordedExecutions counts the executed transactions the mempool
	// could not remember: numbered ClientWindow or more above their
	// client's watermark, of a client ID longer than MaxClientIDBytes, or
	// of a new client when every client it keeps has transactions
	// waiting. If the client sends one of them again, the mempool keeps
	// it and gives it out, and the batch fetcher drops it: it costs
	// bandwidth, never a second execution.
	UnrecordedExecutions uint64
	// EpochWaits counts the requests held because the slots of the epochs
	// before their own were not all executed here yet (EpochExecuted):
	// answered then, they could have given out transactions that another
	// leader had ordered in those slots, to be ordered twice.
	EpochWaits uint64

	// Transactions dropped (from NewTxs), by reason:

	// BadClientID: a client ID longer than MaxClientIDBytes.
	BadClientID uint64
	// Oversize: a payload longer than MaxTxBytes.
	Oversize uint64
	// Replay: a transaction executed already (below its client's low
	// watermark, or executed above it).
	Replay uint64
	// Duplicate: a transaction the mempool has, waiting or out in a batch.
	Duplicate uint64
	// BeyondWindow: numbered ClientWindow or more above its client's low
	// watermark.
	BeyondWindow uint64
	// ClientFull: its client has MaxTxsPerClient transactions here.
	ClientFull uint64
	// Full: the mempool holds MaxTxs transactions, or would hold more
	// than MaxBytes with it.
	Full uint64
	// TooManyClients: of a client the mempool has no state for, when it
	// keeps MaxClients clients and each has transactions here.
	TooManyClients uint64

	// What the mempool holds now: transactions (waiting or out in
	// batches) and their bytes, clients it keeps state for, requests it
	// has not answered.
	HeldTxs   uint64
	HeldBytes uint64
	Clients   uint64
	Requests  uint64
	// NextEpoch is the latest epoch whose requests the mempool answers:
	// the epochs before it are executed.
	NextEpoch uint64
}

// Dropped returns the number of transactions dropped, for any reason.
func (s Stats) Dropped() uint64 {
	return s.BadClientID + s.Oversize + s.Replay + s.Duplicate + s.BeyondWindow + s.ClientFull + s.Full + s.TooManyClients
}

// reason indexes counters.
type reason int

const (
	rBadClientID reason = iota
	rOversize
	rReplay
	rDuplicate
	rBeyondWindow
	rClientFull
	rFull
	rTooManyClients
	rAccepted
	rBatches
	rBatchedTxs
	rReturned
	rRetired
	rForgottenClients
	rUnrecordedExecutions
	rEpochWaits
	numReasons
)

// reasonNames name the drop reasons in logs.
var reasonNames = [...]string{
	rBadClientID:    "client ID too long",
	rOversize:       "payload too large",
	rReplay:         "executed already",
	rDuplicate:      "held already",
	rBeyondWindow:   "beyond the client's window",
	rClientFull:     "client holds MaxTxsPerClient",
	rFull:           "mempool full",
	rTooManyClients: "no room for a new client",
}

// counters are atomic so that Stats may be read from any goroutine while
// the node runs; gauges likewise.
type counters struct {
	c                                 [numReasons]atomic.Uint64
	heldTxs, heldBytes, clients, reqs atomic.Uint64
	nextEpoch                         atomic.Uint64
}

func (c *counters) add(r reason, n uint64) { c.c[r].Add(n) }

func (c *counters) stats() Stats {
	return Stats{
		Accepted:             c.c[rAccepted].Load(),
		Batches:              c.c[rBatches].Load(),
		BatchedTxs:           c.c[rBatchedTxs].Load(),
		Returned:             c.c[rReturned].Load(),
		Retired:              c.c[rRetired].Load(),
		ForgottenClients:     c.c[rForgottenClients].Load(),
		UnrecordedExecutions: c.c[rUnrecordedExecutions].Load(),
		EpochWaits:           c.c[rEpochWaits].Load(),
		BadClientID:          c.c[rBadClientID].Load(),
		Oversize:             c.c[rOversize].Load(),
		Replay:               c.c[rReplay].Load(),
		Duplicate:            c.c[rDuplicate].Load(),
		BeyondWindow:         c.c[rBeyondWindow].Load(),
		ClientFull:           c.c[rClientFull].Load(),
		Full:                 c.c[rFull].Load(),
		TooManyClients:       c.c[rTooManyClients].Load(),
		HeldTxs:              c.heldTxs.Load(),
		HeldBytes:            c.heldBytes.Load(),
		Clients:              c.clients.Load(),
		Requests:             c.reqs.Load(),
		NextEpoch:            c.nextEpoch.Load(),
	}
}
