// Package wal is a write-ahead log: records of bytes appended in order,
// made durable with fsync, and read back after a crash; and the WAL
// module, with its simulated twin, which lets a protocol write "persist
// this, and only then send that". The log itself (Log, RawLog) knows
// nothing of Mir: a record is a byte slice with an index.
//
// # The WAL module
//
// A protocol module sends the WAL module an Append: an event of its own
// to persist, with the events to release once it is durable as the
// Append's follow-ups:
//
//	stdtypes.WithFollowUps(wal.NewAppend(walID, &Voted{...}, epoch), send)
//
// At every start of the node, the WAL module hands each persisted event
// back to its destination (its owner) right after the Init events, before
// any input (modules.Recoverer). Several modules share one log: each
// owns its records, and drops those it no longer needs with a Truncate
// (after a checkpoint), which frees whole segments once no owner needs
// them. Module is the real one, on a Log in a directory; SimModule its
// twin in a simulation, on a SimDisk, a MemFS that outlives the node's
// incarnations and loses, at a crash, what was not synced (CrashFaults).
// docs/recovery.md, at the root of the repository, walks through it.
//
// # Use
//
// Open a directory, read what it holds with Records, then Append. Append
// returns once the record is durable; AppendAsync returns at once with a
// Pending, whose Done channel is closed when the record is durable (or
// the log has failed). TruncateBefore drops the segments a checkpoint has
// made useless, so that a run of any length takes bounded disk. Close
// makes what was appended durable and releases the directory.
//
// Log is safe for concurrent use and does group commit: one goroutine
// writes and syncs the records appended while the previous group was
// being synced, so concurrent appenders share syncs (a few dozen records
// per fsync with 64 appenders; see BENCHMARKS.md). RawLog is the same log
// without that goroutine, for a caller with its own loop, such as a
// simulated disk: Append, then Flush or Sync when it chooses.
//
// # Durability
//
//   - A record is durable when Append returns nil, when its Pending's Wait
//     returns nil, or when DurableIndex reaches its index: it survives a
//     crash of the process and of the machine, provided the disk honours
//     fsync.
//   - Records become durable in index order; indices start at 1 and have
//     no gaps.
//   - A record not yet durable may be lost in a crash, and with it every
//     later one, but no earlier one.
//   - A failed write or fsync is final: the log then appends nothing and
//     reports the error to every waiter and every later call. After a
//     failed fsync the kernel may have dropped the pages it could not
//     write, so a later fsync that succeeds would prove nothing
//     (PostgreSQL's "fsyncgate", 2018). Open the log again to go on; it
//     recovers from what is on disk.
//   - Under UnsafeNoSync, "durable" means only that the operating system
//     has the record: it survives the process's crash, not the machine's.
//     For tests and benchmarks. SyncInterval syncs less often but still
//     reports a record durable only after its sync.
//   - One directory is open in one Log at a time: a lock file (flock)
//     makes a second Open fail with ErrLocked, in this process or
//     another; the kernel releases it when the process dies.
//
// # Recovery
//
// Open reads and checks every record of every segment. The end of the
// last segment is where the records stop: the end of the file, or a
// frame header of zeros (preallocated space). What follows the last whole
// record there is one of:
//
//   - nothing but zeros: a clean end;
//   - bytes that hold no whole valid record beyond the last one: a torn
//     tail, left by a crash during a write. Open cuts it off (so that new
//     records follow the last whole one), reports it in Recovery and logs
//     a warning;
//   - a whole valid record further on: the damage is not a torn write,
//     which leaves nothing valid behind it, and Open fails with ErrCorrupt.
//
// Anywhere else (an earlier segment, a header, a gap in the indices, a
// segment of another log) damage is ErrCorrupt too, with the segment file
// and the offset; Open never skips a record and never deletes one the
// caller did not truncate. One limit: a power cut can persist the pages
// of the last, unsynced write out of order, so that a later record of it
// reached the disk whole and an earlier one did not. None of those
// records had been reported durable, but Open cannot tell that apart from
// a bit flip and reports ErrCorrupt rather than guess.
//
// # Format
//
// A log is a directory of segment files, each named after the index of
// its first record in 16 lowercase hexadecimal digits
// (0000000000000001.wal), with a LOCK file. Integers are little-endian.
// A segment starts with a 32-byte header:
//
//	magic "MIR-WAL\n" (8) | version 1 (4) | log ID (8) | first index (8) | CRC-32C of the 28 bytes before (4)
//
// followed by records, each a 16-byte frame header and its payload:
//
//	CRC-32C (4) | payload length (4) | index (8) | payload
//
// The checksum is CRC-32C (Castagnoli) of the length, the index and the
// payload. A record never spans segments; the segment's rest is zeros.
// The log ID, random when the log is made, tells a segment of another log
// apart. A segment file is created under a temporary name, written with
// zeros over its whole size (so that later syncs write only data, not the
// file system's block map), given its header, synced and renamed, and the
// directory synced: a segment, once it exists, has a whole header.
// Temporary files never hold a record, and Open removes them.
//
// Limits: a record holds at most Options.MaxRecordBytes (16 MiB by
// default, the codec's largest input; the format allows 1 GiB). Every
// length read is checked against the bytes the file holds before memory
// is allocated for it.
package wal
