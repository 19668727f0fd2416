package batchfetcher

// DropReason says why a transaction of an ordered batch did not execute.
type DropReason int

// The reasons, indexes of Stats.Dropped.
const (
	// DropExecuted: executed already (a client's retry, in this batch or
	// an earlier one).
	DropExecuted DropReason = iota
	// DropBucket: outside the buckets of the slot's leader (a Byzantine
	// leader's, or one with other parameters).
	DropBucket
	// DropWindow: numbered ClientWindow or more above its client's low
	// watermark, or above MaxTxNo.
	DropWindow
	// DropTooManyClients: of a new client, with MaxClients known.
	DropTooManyClients
	// DropClientID: a client ID longer than MaxClientIDBytes.
	DropClientID
	numDropReasons
)

// String names the reason.
func (r DropReason) String() string {
	switch r {
	case DropExecuted:
		return "executed"
	case DropBucket:
		return "bucket"
	case DropWindow:
		return "window"
	case DropTooManyClients:
		return "too many clients"
	case DropClientID:
		return "client ID"
	}
	return "unknown"
}

// Stats counts what the batch fetcher did.
type Stats struct {
	// Slots counts the slots ISS delivered; EmptySlots those of them
	// with nothing to fetch (⊥ or an empty value).
	Slots      uint64
	EmptySlots uint64
	// Executed counts the transactions handed to the application.
	Executed uint64
	// Dropped counts the transactions of ordered batches that did not
	// execute, by reason.
	Dropped [numDropReasons]uint64
	// Stale counts the ProvideTxs of slots handed on already: slots a
	// RestoreState skipped (SkippedSlots counts them), or answered twice.
	Stale        uint64
	SkippedSlots uint64
	// Snapshots counts the snapshots handed to ISS, Restores the states
	// restored, StableCheckpoints the stable checkpoints ISS announced.
	Snapshots         uint64
	Restores          uint64
	StableCheckpoints uint64
	// PendingSlots is the number of slots delivered and not handed on
	// yet; Clients the number of clients remembered.
	PendingSlots int
	Clients      int
}

// DroppedTotal returns the number of transactions dropped, for any reason.
func (s Stats) DroppedTotal() uint64 {
	var n uint64
	for _, d := range s.Dropped {
		n += d
	}
	return n
}
