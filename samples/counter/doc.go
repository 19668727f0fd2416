// Package counter is the worked example of docs/recovery.md: a module
// that counts, tells the other nodes each new count, and must never count
// backwards, however often its node crashes.
//
// A count it told nobody may be lost in a crash: no one can tell. A count
// it told a peer must survive, or the restarted node would count it again
// and tell the peer a smaller count than before. So the module persists
// each count in the node's write-ahead log (pkg/wal) and sends it only
// once it is durable, as a follow-up of the Append; at every start, the
// WAL module hands it back the last count it persisted, before any input.
//
// The module keeps one record: each Append is followed by a Truncate of
// the records before it, so the log stays small in a run of any length.
// Monotonic is the property that checks, in a simulation, that no node
// counts backwards across its crashes; the tests run it over hundreds of
// seeds, with nodes crashing at random and disks losing what was not
// synced.
package counter
