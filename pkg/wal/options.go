package wal

import (
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/logging"
)

// SyncPolicy says when a Log makes written records durable with fsync.
// The zero value is SyncEveryGroup.
type SyncPolicy time.Duration

const (
	// SyncEveryGroup syncs every group of records as soon as it is
	// written: records that arrive while a sync is in flight form the next
	// group, so under load one fsync covers many records. The default.
	SyncEveryGroup SyncPolicy = 0

	// UnsafeNoSync never syncs: a record counts as durable once the
	// operating system has it, which survives the process's crash but not
	// the machine's. For tests and benchmarks only.
	UnsafeNoSync SyncPolicy = -1
)

// SyncInterval syncs at most once per interval (sooner only when the
// queue of waiting records is half full), trading the latency of every
// record for fewer syncs. It acknowledges nothing early: a record is
// reported durable only after the sync that covers it.
func SyncInterval(interval time.Duration) SyncPolicy { return SyncPolicy(interval) }

// String returns the policy's name, as written in Go.
func (p SyncPolicy) String() string {
	switch {
	case p == SyncEveryGroup:
		return "SyncEveryGroup"
	case p == UnsafeNoSync:
		return "UnsafeNoSync"
	case p > 0:
		return fmt.Sprintf("SyncInterval(%v)", time.Duration(p))
	}
	return fmt.Sprintf("SyncPolicy(%d)", int64(p))
}

// Options configures a log. The zero value gives the defaults.
type Options struct {
	// SegmentBytes is the size of a segment file (DefaultSegmentBytes if
	// zero). Segments are preallocated to this size where the file system
	// allows. TruncateBefore frees disk space a whole segment at a time.
	SegmentBytes int64

	// MaxRecordBytes is the largest record Append accepts
	// (DefaultMaxRecordBytes if zero, or less when SegmentBytes is too
	// small to hold that much). A record never spans segments.
	MaxRecordBytes int

	// MaxPendingBytes bounds the records appended and not yet written, in
	// bytes of their frames (DefaultMaxPendingBytes if zero): an Append
	// that would pass it blocks until the group being written is done.
	// Memory for records in flight stays below about twice this.
	MaxPendingBytes int

	// Sync is the sync policy; the zero value is SyncEveryGroup.
	Sync SyncPolicy

	// FS is the file system (OSFS if nil).
	FS FS

	// Logger receives a warning when Open cuts off a torn tail (nil: no
	// log; the Recovery reports it too).
	Logger *logging.Logger
}

const (
	// DefaultSegmentBytes is the default size of a segment: large enough
	// that creating segments (a file, a preallocation and two syncs) is
	// rare, small enough that TruncateBefore frees space often.
	DefaultSegmentBytes = 64 << 20

	// DefaultMaxRecordBytes is the default largest record: the codec's
	// default largest input, so that any event the codec decodes fits.
	DefaultMaxRecordBytes = 16 << 20

	// DefaultMaxPendingBytes is the default bound of the queue of records
	// waiting to be written: room for a few of the largest records, and
	// for groups of thousands of small ones.
	DefaultMaxPendingBytes = 32 << 20

	// minSegmentBytes is the smallest segment: a header and one frame of a
	// 1 KiB record. Tests use segments this small to exercise rollover.
	minSegmentBytes = segmentHeaderBytes + frameHeaderBytes + 1<<10
)

// withDefaults returns o with zero fields set to their defaults, or an
// error naming the first invalid field.
func (o Options) withDefaults() (Options, error) {
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.SegmentBytes < minSegmentBytes {
		return o, fmt.Errorf("wal: SegmentBytes %d, want at least %d", o.SegmentBytes, minSegmentBytes)
	}
	maxFit := o.SegmentBytes - segmentHeaderBytes - frameHeaderBytes
	if o.MaxRecordBytes == 0 {
		o.MaxRecordBytes = int(min(DefaultMaxRecordBytes, maxFit))
	}
	switch {
	case o.MaxRecordBytes < 0 || o.MaxRecordBytes > maxRecordBytesLimit:
		return o, fmt.Errorf("wal: MaxRecordBytes %d, want 1 to %d", o.MaxRecordBytes, maxRecordBytesLimit)
	case int64(o.MaxRecordBytes) > maxFit:
		return o, fmt.Errorf("wal: MaxRecordBytes %d does not fit a segment of %d bytes (at most %d)",
			o.MaxRecordBytes, o.SegmentBytes, maxFit)
	}
	if o.MaxPendingBytes == 0 {
		o.MaxPendingBytes = max(DefaultMaxPendingBytes, o.MaxRecordBytes+frameHeaderBytes)
	}
	if o.MaxPendingBytes < o.MaxRecordBytes+frameHeaderBytes {
		return o, fmt.Errorf("wal: MaxPendingBytes %d cannot queue one record of MaxRecordBytes %d",
			o.MaxPendingBytes, o.MaxRecordBytes)
	}
	if o.Sync < UnsafeNoSync {
		return o, fmt.Errorf("wal: invalid sync policy %v", o.Sync)
	}
	if o.FS == nil {
		o.FS = OSFS()
	}
	return o, nil
}
