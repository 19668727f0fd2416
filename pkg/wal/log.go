package wal

import (
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Log is a write-ahead log with group commit, safe for concurrent use.
// AppendAsync returns at once with the record's index and a Pending that
// reports when the record is durable, Append waits for that; one
// goroutine, the committer, writes the records appended while the
// previous group was being synced as one group, with one write and one
// fsync. A second goroutine writes the next segment with zeros ahead of
// need (see RawLog.prepareSpare). Close stops both.
type Log struct {
	opts Options

	// rawMu guards raw. The committer holds it while it writes and syncs
	// a group; TruncateBefore and Records hold it only to read or change
	// the list of segments.
	rawMu sync.Mutex
	raw   *RawLog

	mu        sync.Mutex
	space     sync.Cond // on mu: appenders waiting for room in the queue
	buf       []byte    // frames appended and not yet taken by the committer
	ends      []int     // end offset in buf of each frame
	spareBuf  []byte    // buf and ends of the group written last, for reuse
	spareEnds []int
	group     *group // the group the frames in buf belong to; nil if buf is empty
	lastIndex uint64 // the index of the last record appended
	blocked   int    // appenders waiting for room
	closing   bool
	failed    error  // the committer's failure: no record is written after it
	groups    uint64 // groups written, for Stats
	// commitTime sums what writing and syncing the groups took, and
	// commitCounts counts the groups by that time (commitBounds), for
	// Stats.
	commitTime   time.Duration
	commitCounts [len(commitBounds) + 1]uint64

	durable atomic.Uint64 // the index of the last durable record
	wake    chan struct{} // capacity 1: the committer has work, or should stop
	stopped chan struct{} // closed when the committer has returned

	// The preparer is a goroutine that writes the spare segment (see
	// RawLog.prepareSpare) off the path of appends.
	needSpare    chan struct{} // capacity 1; closed by Close
	stopSpare    atomic.Bool   // set by Close: give up a preparation
	preparerDone chan struct{} // closed when the preparer has returned
}

// group is the records one write and one sync make durable together.
type group struct {
	last uint64        // index of the group's last record
	done chan struct{} // closed when the group is durable or failed
	err  error         // set before done is closed
}

// Pending is a record appended to a Log and maybe not yet durable. It is
// a small value, free to copy; the zero Pending is not valid.
type Pending struct {
	index uint64
	g     *group
}

// Index returns the record's index.
func (p Pending) Index() uint64 { return p.index }

// Done returns a channel that is closed once the record is durable or the
// log has failed to make it so; Wait then says which. Records become
// durable in the order of their indices, so a caller with many records in
// flight can wait for the oldest one's channel, then the next.
func (p Pending) Done() <-chan struct{} { return p.g.done }

// Wait blocks until the record is durable, and then returns nil, or
// until the log has failed to make it so, and then returns why.
func (p Pending) Wait() error {
	<-p.g.done
	return p.g.err
}

// maxSpareBytes bounds the buffer a log keeps for the next group after a
// burst: it avoids an allocation per group under steady load and does not
// hold a large queue's memory after a burst.
const maxSpareBytes = 4 << 20

// Open opens the log in dir, creating the directory and an empty log if
// there is none, and starts the committer. It reads every record in every
// segment and checks it: a torn tail is cut off (Recovery reports it, and
// Options.Logger logs a warning), any other damage is an error wrapping
// ErrCorrupt that names the segment and the offset. Read the records with
// Records. A directory another Log has open, in this process or another,
// is ErrLocked; one that holds files but no segment is ErrNotLog.
func Open(dir string, opts Options) (*Log, error) {
	raw, err := OpenRaw(dir, opts)
	if err != nil {
		return nil, err
	}
	l := &Log{
		opts:      raw.opts,
		raw:       raw,
		lastIndex: raw.lastIndex,
		wake:      make(chan struct{}, 1),
		stopped:   make(chan struct{}),

		needSpare:    make(chan struct{}, 1),
		preparerDone: make(chan struct{}),
	}
	l.space.L = &l.mu
	l.durable.Store(raw.durable)
	go l.run()
	go l.prepare()
	l.askForSpare()
	return l, nil
}

// askForSpare has the preparer make a spare segment, if the log wants
// one.
func (l *Log) askForSpare() {
	l.rawMu.Lock()
	want := l.raw.wantsSpare()
	l.rawMu.Unlock()
	if want {
		l.signalSpare()
	}
}

// signalSpare wakes the preparer, if it is not awake already.
func (l *Log) signalSpare() { poke(l.needSpare) }

// poke sends on a channel of capacity 1 unless a send is pending already.
func poke(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// prepare is the preparer: it makes a spare segment each time it is asked
// and the log still wants one. A failure (a full disk) is not the log's:
// the next segment is then created the slower way, which reports it.
func (l *Log) prepare() {
	defer close(l.preparerDone)
	for range l.needSpare {
		l.rawMu.Lock()
		want := l.raw.wantsSpare()
		l.rawMu.Unlock()
		if !want {
			continue
		}
		f, err := l.raw.prepareSpare(l.stopSpare.Load)
		if err != nil {
			continue
		}
		l.rawMu.Lock()
		l.raw.setSpare(f)
		l.rawMu.Unlock()
	}
}

// Append adds data as the next record and waits until it is durable
// (under SyncInterval, until the interval's sync). It returns the
// record's index, and an error if the record was not appended or not made
// durable. data may be reused as soon as Append returns.
func (l *Log) Append(data []byte) (uint64, error) {
	p, err := l.AppendAsync(data)
	if err != nil {
		return 0, err
	}
	return p.index, p.Wait()
}

// AppendAsync adds data as the next record and returns without waiting
// for it to be durable; the Pending says when it is. It blocks only while
// the queue of records not yet written is full (Options.MaxPendingBytes),
// until the committer takes the queue. An error means the record was not
// appended: it is too large, or the log is closed or has failed. data may
// be reused as soon as AppendAsync returns.
func (l *Log) AppendAsync(data []byte) (Pending, error) {
	if err := l.raw.checkSize(data); err != nil {
		return Pending{}, err
	}
	n := int(frameBytes(len(data)))
	l.mu.Lock()
	for {
		if l.closing {
			l.mu.Unlock()
			return Pending{}, ErrClosed
		}
		if l.failed != nil {
			err := l.failed
			l.mu.Unlock()
			return Pending{}, fmt.Errorf("wal: log failed earlier: %w", err)
		}
		if len(l.buf) == 0 || len(l.buf)+n <= l.opts.MaxPendingBytes {
			break
		}
		l.blocked++
		l.space.Wait()
		l.blocked--
	}
	l.lastIndex++
	index := l.lastIndex
	before := len(l.buf)
	l.buf = appendFrame(l.buf, index, data)
	l.ends = append(l.ends, len(l.buf))
	if l.group == nil {
		l.group = &group{done: make(chan struct{})}
	}
	g := l.group
	g.last = index
	half := l.opts.MaxPendingBytes / 2
	wake := before == 0 || (before < half && len(l.buf) >= half)
	l.mu.Unlock()
	if wake {
		l.notify()
	}
	return Pending{index: index, g: g}, nil
}

// notify wakes the committer, if it is not awake already.
func (l *Log) notify() { poke(l.wake) }

// run is the committer: it takes the queue as one group, writes it, syncs
// it according to the policy and reports it done, until the log closes
// and the queue is empty.
func (l *Log) run() {
	defer close(l.stopped)
	interval := time.Duration(l.opts.Sync)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	lastSync := time.Now()
	var lastGroup int                // records in the last group
	var lastCommitTime time.Duration // what writing and syncing it took
	for {
		if interval == 0 && lastGroup > 1 {
			l.gather(lastGroup, lastCommitTime/gatherFraction)
		}
		frames, ends, g, wait, stop := l.take(interval, lastSync)
		switch {
		case stop:
			return
		case g == nil && wait > 0:
			timer.Reset(wait)
			select {
			case <-l.wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		case g == nil:
			<-l.wake
			continue
		}
		start := time.Now()
		err := l.commit(frames, ends)
		lastSync = time.Now()
		lastGroup, lastCommitTime = len(ends), lastSync.Sub(start)
		l.finish(frames, ends, g, lastCommitTime, err)
	}
}

// gatherFraction bounds the time gather waits, as a fraction of the time
// the last group took to write and sync: it adds at most a quarter to a
// record's latency when the expected appenders do not come.
const gatherFraction = 4

// gather lets appenders append before the committer takes the queue,
// while the queue is shorter than the group before (expected) and for at
// most budget. Without it, group commit with synchronous appenders
// settles into two half groups: when a group is done, the committer takes
// the queue at once, before the appenders it just released have appended
// again, and they must wait for the group after, so each record waits for
// two syncs. Yielding while they come back makes one group of them all,
// which halves their wait. A lone appender never waits here: its group is
// of one record.
func (l *Log) gather(expected int, budget time.Duration) {
	deadline := time.Now().Add(budget)
	for {
		l.mu.Lock()
		n, closing := len(l.ends), l.closing
		l.mu.Unlock()
		if n == 0 || n >= expected || closing || time.Now().After(deadline) {
			return
		}
		runtime.Gosched()
	}
}

// take returns the queued frames and their group if they are due to be
// written, else how long to wait (0: until woken), or stop once the log
// is closing and the queue is empty.
func (l *Log) take(interval time.Duration, lastSync time.Time) (frames []byte, ends []int, g *group, wait time.Duration, stop bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ends) == 0 {
		return nil, nil, nil, 0, l.closing
	}
	if interval > 0 && !l.closing && len(l.buf) < l.opts.MaxPendingBytes/2 {
		if wait := interval - time.Since(lastSync); wait > 0 {
			return nil, nil, nil, wait, false
		}
	}
	frames, ends, g = l.buf, l.ends, l.group
	l.buf, l.ends, l.group = l.spareBuf, l.spareEnds, nil
	l.spareBuf, l.spareEnds = nil, nil
	l.space.Broadcast()
	return frames, ends, g, 0, false
}

// commit writes a group and syncs it, unless the policy is UnsafeNoSync.
func (l *Log) commit(frames []byte, ends []int) error {
	l.rawMu.Lock()
	defer l.rawMu.Unlock()
	if err := l.raw.writeFrames(frames, ends); err != nil {
		return err
	}
	if l.raw.wantsSpare() {
		l.signalSpare()
	}
	if l.opts.Sync == UnsafeNoSync {
		return nil
	}
	return l.raw.sync()
}

// finish reports the group done, with err, and keeps its buffers for
// reuse; writing and syncing it took took.
func (l *Log) finish(frames []byte, ends []int, g *group, took time.Duration, err error) {
	l.mu.Lock()
	if cap(frames) <= maxSpareBytes {
		l.spareBuf, l.spareEnds = frames[:0], ends[:0]
	}
	l.groups++
	l.commitTime += took
	l.commitCounts[commitBucket(took)]++
	if err != nil && l.failed == nil {
		l.failed = err
		l.space.Broadcast() // appenders waiting for room learn of the failure
	}
	l.mu.Unlock()
	if err == nil {
		l.durable.Store(g.last)
	}
	g.err = err
	close(g.done)
}

// TruncateBefore removes the segments whose records all have indices
// below index, as RawLog.TruncateBefore does. It waits for a group in
// flight, and the next group waits for it (a file removal or two and a
// directory sync, once per checkpoint). Records that are iterating may
// fail when they reach a segment removed after they started.
func (l *Log) TruncateBefore(index uint64) error {
	l.rawMu.Lock()
	defer l.rawMu.Unlock()
	return l.raw.TruncateBefore(index)
}

// Records returns the records with indices from `from` on that were
// written when Records was called, as RawLog.Records does. It reads the
// files without holding up appends.
func (l *Log) Records(from uint64) iter.Seq2[Record, error] {
	l.rawMu.Lock()
	defer l.rawMu.Unlock()
	if l.raw.closed {
		return func(yield func(Record, error) bool) { yield(Record{}, ErrClosed) }
	}
	return readRecords(l.opts.FS, l.raw.dir, l.raw.logID, slices.Clone(l.raw.segments), from)
}

// FirstIndex returns the index of the first record the log holds (or
// will hold, when it is empty).
func (l *Log) FirstIndex() uint64 {
	l.rawMu.Lock()
	defer l.rawMu.Unlock()
	return l.raw.FirstIndex()
}

// LastIndex returns the index of the last record appended, durable or
// not.
func (l *Log) LastIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastIndex
}

// DurableIndex returns the index of the last durable record. Every record
// up to it is durable.
func (l *Log) DurableIndex() uint64 { return l.durable.Load() }

// Err returns the write or sync failure that stopped the log, or nil. A
// failed log appends nothing more; the records it holds are read back by
// opening it again.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// Recovery returns what Open found.
func (l *Log) Recovery() Recovery { return l.raw.recovery }

// Stats are counters of a Log's work since Open.
type Stats struct {
	// Groups is the number of groups written.
	Groups uint64
	// Syncs is the number of fsyncs of segment files: one per group, and
	// three more per segment created (the full one, the new one's zeros
	// and its header); none under UnsafeNoSync.
	Syncs uint64
	// Segments is the number of segment files the log has now.
	Segments int
	// CommitTime is the time spent writing and syncing the groups: the
	// latency of the disk as a record sees it, once the committer takes
	// it. CommitTime/Groups is the mean.
	CommitTime time.Duration
	// CommitCounts counts the groups by the time writing and syncing
	// them took: CommitCounts[i] those that took at most
	// CommitBounds()[i] (and more than the bound before), the last those
	// that took longer than every bound. Its sum is Groups.
	CommitCounts [len(commitBounds) + 1]uint64
}

// commitBounds are the upper bounds of Stats.CommitCounts, from a fast
// SSD's fsync (tens of microseconds) to a stalled disk's.
var commitBounds = [...]time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second,
}

// CommitBounds returns the upper bounds of the buckets of
// Stats.CommitCounts, in increasing order.
func CommitBounds() []time.Duration { return slices.Clone(commitBounds[:]) }

// commitBucket returns the index in Stats.CommitCounts of a group whose
// commit took d.
func commitBucket(d time.Duration) int {
	i, _ := slices.BinarySearch(commitBounds[:], d)
	return i
}

// Stats returns the log's counters. It does not wait for a group in
// flight.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{
		Groups: l.groups, Syncs: l.raw.syncs.Load(), Segments: int(l.raw.nSegments.Load()),
		CommitTime: l.commitTime, CommitCounts: l.commitCounts,
	}
}

// Close makes every record appended so far durable (or failed), stops
// the committer, closes the files and releases the directory. Appends
// after Close, or blocked in it for room, return ErrClosed. Close returns
// the log's failure, if it had one.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closing = true
	l.space.Broadcast()
	l.mu.Unlock()
	l.notify()
	<-l.stopped
	l.stopSpare.Store(true)
	close(l.needSpare)
	<-l.preparerDone
	l.rawMu.Lock()
	err := l.raw.Close()
	l.rawMu.Unlock()
	if failed := l.Err(); failed != nil {
		err = errors.Join(fmt.Errorf("wal: log failed: %w", failed), err)
	}
	return err
}
