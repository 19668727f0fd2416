package wal

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/logging"
)

// Record is one record of a log.
type Record struct {
	// Index is the record's position in the log, from 1, without gaps.
	Index uint64
	// Data is the record's payload, a copy the caller may keep.
	Data []byte
}

// Recovery describes what Open found in the directory.
type Recovery struct {
	// Segments is the number of segment files.
	Segments int
	// FirstIndex and LastIndex are the indices of the first and the last
	// record; LastIndex is FirstIndex-1 when the log holds no record.
	FirstIndex, LastIndex uint64
	// TornTail, if not nil, is the torn tail Open cut off.
	TornTail *TornTail
	// TempFilesRemoved counts the segment files whose creation a crash
	// interrupted; they never held a record, and Open removed them.
	TempFilesRemoved int
}

// TornTail is a torn tail: the end of the last segment, after its last
// whole record, held bytes that were not a whole record, as a crash in
// the middle of a write leaves them. Open cuts it off, so that new records
// follow the last whole one.
type TornTail struct {
	// Segment is the segment file's name.
	Segment string
	// Offset is where the cut was made: the end of the last whole record.
	Offset int64
	// Bytes is how far non-zero bytes reached past Offset.
	Bytes int64
	// Reason says what was found at Offset.
	Reason string
}

// segment is one segment file of a log.
type segment struct {
	name  string // file name, without the directory
	first uint64 // index of its first record
	last  uint64 // index of its last record written; first-1 if none
	end   int64  // offset just after its last record
}

// RawLog is the log without a goroutine: a single-threaded core that
// buffers appended records and writes and syncs them when told. Log wraps
// it in a goroutine that gathers concurrent appends into groups, as
// etcd's raft wraps RawNode; a caller that has its own loop (a simulated
// disk, a deterministic test) uses RawLog directly. It is not safe for
// concurrent use.
type RawLog struct {
	dir   string
	opts  Options
	lock  io.Closer
	logID uint64

	segments  []segment // oldest first; the last is the active one
	active    File      // the active segment, open for writing
	spare     File      // a segment file prepared by prepareSpare, or nil
	recovery  Recovery
	lastIndex uint64 // the last record written
	durable   uint64 // the last record synced
	err       error  // the first write or sync failure: the log is unusable
	closed    bool

	// For Stats, which reads them without waiting for a group in flight.
	syncs     atomic.Uint64 // fsyncs of segment files
	nSegments atomic.Int64  // len(segments)

	// Records appended with Append and not yet written.
	buf  []byte
	ends []int // end offset in buf of each frame
}

// OpenRaw opens the log in dir, creating the directory and an empty log
// if there is none, recovers it as Open does, and returns it without
// starting a goroutine.
func OpenRaw(dir string, opts Options) (*RawLog, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	created, err := opts.FS.MkdirAll(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: create %s: %w", dir, err)
	}
	if created && opts.Sync != UnsafeNoSync {
		if err := syncParent(opts.FS, dir); err != nil {
			return nil, fmt.Errorf("wal: sync parent of %s: %w", dir, err)
		}
	}
	lock, err := opts.FS.Lock(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	r := &RawLog{dir: dir, opts: opts, lock: lock}
	if err := r.recover(); err != nil {
		if r.active != nil {
			_ = r.active.Close()
		}
		_ = lock.Close()
		return nil, err
	}
	r.durable = r.lastIndex
	r.nSegments.Store(int64(len(r.segments)))
	first := r.segments[0].first
	r.recovery.Segments, r.recovery.FirstIndex, r.recovery.LastIndex = len(r.segments), first, r.lastIndex
	return r, nil
}

// recover reads the directory: it checks every segment and every record,
// cuts off a torn tail and opens the last segment for writing. A new
// directory gets its first segment.
func (r *RawLog) recover() error {
	names, err := r.opts.FS.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("wal: read directory %s: %w", r.dir, err)
	}
	var temps, others []string
	for _, name := range names {
		if first, ok := parseSegmentName(name); ok {
			r.segments = append(r.segments, segment{name: name, first: first})
			continue
		}
		switch {
		case name == lockName:
		case isTempSegment(name):
			temps = append(temps, name)
		default:
			others = append(others, name)
		}
	}
	if len(r.segments) == 0 && len(others) > 0 {
		return fmt.Errorf("%w: %s holds %q and no segment", ErrNotLog, r.dir, others[0])
	}
	for _, name := range temps {
		// Written before its rename, so it never held a record.
		if err := r.opts.FS.Remove(r.path(name)); err != nil {
			return fmt.Errorf("wal: remove unfinished segment: %w", err)
		}
		r.recovery.TempFilesRemoved++
	}
	if len(r.segments) == 0 {
		var id [8]byte
		_, _ = rand.Read(id[:]) // never fails (crypto/rand documents so)
		r.logID = binary.LittleEndian.Uint64(id[:])
		if r.opts.Sync != UnsafeNoSync {
			// The first segment too is written with zeros (see
			// prepareSpare), once, when the log is made.
			spare, err := r.prepareSpare(func() bool { return false })
			if err != nil {
				return fmt.Errorf("wal: create the first segment: %w", err)
			}
			r.spare = spare
		}
		return r.createSegment(1)
	}
	for i := range r.segments {
		if err := r.recoverSegment(i); err != nil {
			return err
		}
	}
	return nil
}

// isTempSegment reports whether name is a segment file not yet renamed
// into place, or a spare segment: neither holds a record.
func isTempSegment(name string) bool {
	if name == spareName {
		return true
	}
	seg, ok := strings.CutSuffix(name, tempSuffix)
	_, isSeg := parseSegmentName(seg)
	return ok && isSeg
}

// recoverSegment checks segment i and its records; the last segment stays
// open as the active one, its torn tail cut off.
func (r *RawLog) recoverSegment(i int) error {
	seg := &r.segments[i]
	isLast := i == len(r.segments)-1
	f, err := r.opts.FS.OpenFile(r.path(seg.name), isLast)
	if err != nil {
		return fmt.Errorf("wal: open segment: %w", err)
	}
	if isLast {
		r.active = f
	} else {
		defer f.Close()
	}
	size, err := f.Size()
	if err != nil {
		return fmt.Errorf("wal: segment %s: %w", seg.name, err)
	}
	s := newSegmentReader(seg.name, f, size)
	if err := r.checkHeader(s, i); err != nil {
		return err
	}
	off, next := int64(segmentHeaderBytes), seg.first
	var stop frame
	for {
		if stop, err = s.readFrame(off); err != nil {
			return err
		}
		if stop.status != frameOK {
			break
		}
		if stop.index != next {
			return s.corrupt(off, fmt.Sprintf("record index %d, want %d", stop.index, next))
		}
		off, next = stop.next, next+1
	}
	seg.last, seg.end = next-1, off
	if !isLast {
		if stop.status == frameBad {
			// A segment is synced whole before the next one is created, so
			// only the last one can be torn.
			return s.corrupt(off, stop.reason)
		}
		return nil
	}
	r.lastIndex = seg.last
	return r.recoverTail(s, seg, stop)
}

// checkHeader checks the header of segment i against its name, the log's
// other segments and the index where the previous one ended.
func (r *RawLog) checkHeader(s *segmentReader, i int) error {
	seg := &r.segments[i]
	h, err := s.header()
	if err != nil {
		return err
	}
	if h.firstIndex != seg.first {
		return s.corrupt(0, fmt.Sprintf("header says first index %d, the name %d", h.firstIndex, seg.first))
	}
	if i == 0 {
		r.logID = h.logID
		return nil
	}
	if h.logID != r.logID {
		return s.corrupt(0, fmt.Sprintf("segment of log %016x, not of %016x (the log of %s)",
			h.logID, r.logID, r.segments[0].name))
	}
	if prev := r.segments[i-1]; prev.last+1 != seg.first {
		return s.corrupt(0, fmt.Sprintf("gap: %s ends with record %d (offset %d), this segment starts at %d",
			prev.name, prev.last, prev.end, seg.first))
	}
	return nil
}

// recoverTail decides what follows the last whole record of the last
// segment. Zeros (preallocated space) or nothing: the clean end. Bytes
// that hold no whole valid record beyond the last one: a torn tail, cut
// off. A whole valid record further on: the damage is not a torn write
// (a write that tore left nothing valid behind it), so it is ErrCorrupt.
func (r *RawLog) recoverTail(s *segmentReader, seg *segment, stop frame) error {
	dirtyEnd, err := s.nonZeroEnd(seg.end)
	if err != nil {
		return err
	}
	if dirtyEnd == seg.end {
		return nil
	}
	found, index, err := s.findFrame(seg.end, dirtyEnd, seg.last)
	if err != nil {
		return err
	}
	reason := stop.reason
	if stop.status == frameEnd {
		reason = "a frame header of zeros"
	}
	if found >= 0 {
		return s.corrupt(seg.end, fmt.Sprintf("%s, but record %d follows at offset %d", reason, index, found))
	}
	torn := &TornTail{Segment: seg.name, Offset: seg.end, Bytes: dirtyEnd - seg.end, Reason: reason}
	if err := r.cut(torn); err != nil {
		return err
	}
	r.recovery.TornTail = torn
	r.opts.Logger.LogAttrs(logging.LevelWarn, "wal: cut off a torn record at the end of the log",
		slog.String("dir", r.dir), slog.String("segment", torn.Segment), slog.Int64("offset", torn.Offset),
		slog.Int64("bytes", torn.Bytes), slog.String("reason", torn.Reason))
	return nil
}

// cut removes the torn tail from the active segment: it truncates the file
// at the end of its last whole record and preallocates it again.
func (r *RawLog) cut(torn *TornTail) error {
	if err := r.active.Truncate(torn.Offset); err != nil {
		return fmt.Errorf("wal: cut torn tail of %s: %w", torn.Segment, err)
	}
	if err := r.active.Preallocate(r.opts.SegmentBytes); err != nil {
		return fmt.Errorf("wal: cut torn tail of %s: %w", torn.Segment, err)
	}
	if err := r.syncFile(r.active); err != nil {
		return fmt.Errorf("wal: cut torn tail of %s: sync: %w", torn.Segment, err)
	}
	return nil
}

// createSegment creates the segment whose first record will have index
// first and makes it the active one. It writes the file under a temporary
// name, syncs it, renames it and syncs the directory, so that a segment
// file, once it exists, has a whole header.
//
// It takes the spare segment if there is one, which is the file already
// written whole with zeros.
func (r *RawLog) createSegment(first uint64) error {
	name := segmentName(first)
	tmp := r.path(name + tempSuffix)
	f, err := r.spare, error(nil)
	if f != nil {
		r.spare, tmp = nil, r.path(spareName)
	} else if f, err = r.opts.FS.Create(tmp); err != nil {
		return fmt.Errorf("wal: create segment %s: %w", name, err)
	}
	err = r.initSegment(f, first, tmp)
	if err != nil {
		_ = f.Close()
		_ = r.opts.FS.Remove(tmp)
		return fmt.Errorf("wal: create segment %s: %w", name, err)
	}
	if err := r.syncDir(); err != nil {
		_ = f.Close()
		return fmt.Errorf("wal: create segment %s: sync directory: %w", name, err)
	}
	r.segments = append(r.segments, segment{name: name, first: first, last: first - 1, end: segmentHeaderBytes})
	r.nSegments.Store(int64(len(r.segments)))
	r.active = f
	return nil
}

// initSegment preallocates a new segment file, writes its header, syncs it
// and gives it its name.
func (r *RawLog) initSegment(f File, first uint64, tmp string) error {
	if err := f.Preallocate(r.opts.SegmentBytes); err != nil {
		return err
	}
	header := appendSegmentHeader(nil, segmentHeader{logID: r.logID, firstIndex: first})
	if _, err := f.WriteAt(header, 0); err != nil {
		return err
	}
	if err := r.syncFile(f); err != nil {
		return err
	}
	return r.opts.FS.Rename(tmp, r.path(segmentName(first)))
}

// prepareSpare writes a file of SegmentBytes zeros for the next segment
// and syncs it; stop is asked between chunks whether to give up.
//
// Why: a segment that is only preallocated has its blocks marked
// unwritten, and each sync that writes into new blocks must also commit
// the file system's journal to mark them written: on ext4 that makes a
// sync of a group of records about twice as slow as one over blocks
// already written. Zeros written ahead, off the path of appends, leave
// each later sync only data to write. A Log prepares the spare in a
// goroutine, once its active segment is half full; a new log's first
// segment is prepared by Open.
func (r *RawLog) prepareSpare(stop func() bool) (File, error) {
	name := r.path(spareName)
	f, err := r.opts.FS.Create(name)
	if err != nil {
		return nil, err
	}
	err = writeZeros(f, r.opts.SegmentBytes, stop)
	if err == nil {
		err = r.syncFile(f)
	}
	if err != nil {
		_ = f.Close()
		_ = r.opts.FS.Remove(name)
		return nil, err
	}
	return f, nil
}

// errStopping is writeZeros's error when asked to stop.
var errStopping = errors.New("wal: stopping")

// writeZeros preallocates f to size bytes and writes zeros over them.
func writeZeros(f File, size int64, stop func() bool) error {
	if err := f.Preallocate(size); err != nil {
		return err
	}
	zeros := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size; off += int64(len(zeros)) {
		if stop() {
			return errStopping
		}
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off); err != nil {
			return err
		}
	}
	return nil
}

// wantsSpare reports whether the log should prepare a spare segment: it
// has none, it syncs, and the active segment is half full.
func (r *RawLog) wantsSpare() bool {
	return r.spare == nil && r.opts.Sync != UnsafeNoSync && !r.closed &&
		r.segments[len(r.segments)-1].end >= r.opts.SegmentBytes/2
}

// setSpare gives the log the spare segment prepareSpare made, or removes
// it if the log is closed. (There is never a second spare: prepareSpare
// cannot create one while the first exists under its name.)
func (r *RawLog) setSpare(f File) {
	if r.closed {
		_ = f.Close()
		_ = r.opts.FS.Remove(r.path(spareName))
		return
	}
	r.spare = f
}

// Append adds data as the next record, in memory, and returns its index.
// The record is written by the next Flush or Sync, and durable after the
// next Sync. data may be reused as soon as Append returns.
func (r *RawLog) Append(data []byte) (uint64, error) {
	if err := r.usable(); err != nil {
		return 0, err
	}
	if err := r.checkSize(data); err != nil {
		return 0, err
	}
	index := r.lastIndex + uint64(len(r.ends)) + 1
	r.buf = appendFrame(r.buf, index, data)
	r.ends = append(r.ends, len(r.buf))
	return index, nil
}

// checkSize refuses a record larger than MaxRecordBytes.
func (r *RawLog) checkSize(data []byte) error {
	if len(data) > r.opts.MaxRecordBytes {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), r.opts.MaxRecordBytes)
	}
	return nil
}

// Flush writes the records appended so far to the operating system,
// without syncing: they survive a crash of the process, not one of the
// machine.
func (r *RawLog) Flush() error {
	if err := r.usable(); err != nil {
		return err
	}
	err := r.writeFrames(r.buf, r.ends)
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	return err
}

// Sync writes the records appended so far and makes them durable. An
// error is final: the log refuses every later write (see Log).
func (r *RawLog) Sync() error {
	if err := r.Flush(); err != nil {
		return err
	}
	return r.sync()
}

// writeFrames writes frames, whose frame i ends at ends[i], after the
// last record written, creating segments as they fill.
func (r *RawLog) writeFrames(frames []byte, ends []int) error {
	if err := r.usable(); err != nil {
		return err
	}
	start := 0 // offset in frames of the first frame not yet written
	for i := 0; i < len(ends); {
		seg := &r.segments[len(r.segments)-1]
		// Take the frames i..j-1 that fit in the active segment.
		j := i
		for j < len(ends) && seg.end+int64(ends[j]-start) <= r.opts.SegmentBytes {
			j++
		}
		if j == i {
			if err := r.roll(); err != nil {
				return r.fail(err)
			}
			continue
		}
		if _, err := r.active.WriteAt(frames[start:ends[j-1]], seg.end); err != nil {
			return r.fail(fmt.Errorf("wal: write segment %s at offset %d: %w", seg.name, seg.end, err))
		}
		seg.end += int64(ends[j-1] - start)
		seg.last += uint64(j - i)
		r.lastIndex = seg.last
		start, i = ends[j-1], j
	}
	if r.opts.Sync == UnsafeNoSync {
		r.durable = r.lastIndex
	}
	return nil
}

// roll syncs and closes the active segment and creates the next one.
func (r *RawLog) roll() error {
	if err := r.sync(); err != nil {
		return err
	}
	if err := r.active.Close(); err != nil {
		return fmt.Errorf("wal: close segment %s: %w", r.segments[len(r.segments)-1].name, err)
	}
	r.active = nil
	return r.createSegment(r.lastIndex + 1)
}

// sync makes the records written so far durable.
func (r *RawLog) sync() error {
	if r.err != nil {
		return r.err
	}
	if err := r.syncFile(r.active); err != nil {
		return r.fail(fmt.Errorf("wal: sync segment %s: %w", r.segments[len(r.segments)-1].name, err))
	}
	r.durable = r.lastIndex
	return nil
}

// fail records err as the log's failure, after which it writes nothing.
// After a failed write or sync the kernel may have dropped the pages it
// could not write and marked them clean, so a later sync that succeeds
// proves nothing about them ("fsyncgate", PostgreSQL 2018); the only safe
// course is to stop and recover from the disk.
func (r *RawLog) fail(err error) error {
	if r.err == nil {
		r.err = err
	}
	return err
}

// usable returns why the log cannot be written, if it cannot.
func (r *RawLog) usable() error {
	if r.closed {
		return ErrClosed
	}
	if r.err != nil {
		return fmt.Errorf("wal: log failed earlier: %w", r.err)
	}
	return nil
}

func (r *RawLog) syncFile(f File) error {
	if r.opts.Sync == UnsafeNoSync {
		return nil
	}
	r.syncs.Add(1)
	return f.Sync()
}

func (r *RawLog) syncDir() error {
	if r.opts.Sync == UnsafeNoSync {
		return nil
	}
	return r.opts.FS.SyncDir(r.dir)
}

// TruncateBefore removes the segments whose records all have indices
// below index, never the active one, and syncs the directory. Records
// below index that share a segment with a record at index or above stay,
// and Records still returns them. Use it once the state the records
// rebuild is stored elsewhere (a stable checkpoint), to keep the disk the
// log takes bounded.
func (r *RawLog) TruncateBefore(index uint64) error {
	if r.closed {
		return ErrClosed
	}
	n := 0
	for n < len(r.segments)-1 && r.segments[n+1].first <= index {
		n++
	}
	if n == 0 {
		return nil
	}
	// Oldest first, so that what a crash midway leaves has no gap.
	for range n {
		if err := r.opts.FS.Remove(r.path(r.segments[0].name)); err != nil {
			return fmt.Errorf("wal: truncate: remove segment: %w", err)
		}
		r.segments = slices.Delete(r.segments, 0, 1)
		r.nSegments.Store(int64(len(r.segments)))
	}
	if err := r.syncDir(); err != nil {
		return fmt.Errorf("wal: truncate: sync directory: %w", err)
	}
	return nil
}

// Records returns the records written so far (by Flush or Sync) with
// indices from `from` on, in order, read from the segment files; records
// truncated away are skipped, so the first one may have a higher index.
// Every record's checksum is checked again: damage found is an error
// wrapping ErrCorrupt, after which the sequence ends.
func (r *RawLog) Records(from uint64) iter.Seq2[Record, error] {
	if r.closed {
		return func(yield func(Record, error) bool) { yield(Record{}, ErrClosed) }
	}
	return readRecords(r.opts.FS, r.dir, r.logID, slices.Clone(r.segments), from)
}

// readRecords yields the records of segments, as they were when the
// segments were copied.
func readRecords(fsys FS, dir string, logID uint64, segments []segment, from uint64) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for _, seg := range segments {
			if seg.last < from || seg.last < seg.first {
				continue
			}
			if err := readSegment(fsys, dir, logID, seg, from, yield); err != nil {
				if !errors.Is(err, errStopped) {
					yield(Record{}, err)
				}
				return
			}
		}
	}
}

// errStopped is readSegment's error when the consumer stopped the loop.
var errStopped = errors.New("stopped")

// readSegment yields the records of seg with indices from `from` on.
func readSegment(fsys FS, dir string, logID uint64, seg segment, from uint64, yield func(Record, error) bool) error {
	f, err := fsys.OpenFile(filepath.Join(dir, seg.name), false)
	if err != nil {
		return fmt.Errorf("wal: read segment: %w", err)
	}
	defer f.Close()
	s := newSegmentReader(seg.name, f, seg.end)
	h, err := s.header()
	if err != nil {
		return err
	}
	if h.logID != logID || h.firstIndex != seg.first {
		return s.corrupt(0, "header changed since the log was opened")
	}
	off := int64(segmentHeaderBytes)
	for index := seg.first; index <= seg.last; index++ {
		fr, err := s.readFrame(off)
		if err != nil {
			return err
		}
		switch {
		case fr.status != frameOK:
			return s.corrupt(off, fmt.Sprintf("record %d: %s", index, cmpOr(fr.reason, "missing")))
		case fr.index != index:
			return s.corrupt(off, fmt.Sprintf("record index %d, want %d", fr.index, index))
		}
		if index >= from && !yield(Record{Index: index, Data: slices.Clone(fr.payload)}, nil) {
			return errStopped
		}
		off = fr.next
	}
	return nil
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// FirstIndex returns the index of the first record the log holds (or will
// hold, when it is empty).
func (r *RawLog) FirstIndex() uint64 { return r.segments[0].first }

// LastIndex returns the index of the last record appended, written or not.
func (r *RawLog) LastIndex() uint64 { return r.lastIndex + uint64(len(r.ends)) }

// DurableIndex returns the index of the last durable record: synced, or
// under UnsafeNoSync written.
func (r *RawLog) DurableIndex() uint64 { return r.durable }

// Recovery returns what Open found.
func (r *RawLog) Recovery() Recovery { return r.recovery }

// Err returns the write or sync failure that made the log unusable, or
// nil.
func (r *RawLog) Err() error { return r.err }

// Close closes the log's files and releases its directory. Records
// appended and not synced are dropped: call Sync first to keep them.
func (r *RawLog) Close() error {
	if r.closed {
		return ErrClosed
	}
	r.closed = true
	var errs []error
	if r.active != nil {
		errs = append(errs, r.active.Close())
	}
	if r.spare != nil {
		errs = append(errs, r.spare.Close(), r.opts.FS.Remove(r.path(spareName)))
	}
	errs = append(errs, r.lock.Close())
	return errors.Join(errs...)
}

func (r *RawLog) path(name string) string { return filepath.Join(r.dir, name) }
