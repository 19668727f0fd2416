package wal

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

func openLog(t testing.TB, opts Options) *Log {
	t.Helper()
	l, err := Open(testDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAppend(t *testing.T) {
	m := newMemFS()
	l := openLog(t, smallOptions(m))
	for i := uint64(1); i <= 50; i++ {
		index, err := l.Append(payload(i))
		if err != nil || index != i {
			t.Fatalf("Append: %d, %v; want %d", index, err, i)
		}
		if l.DurableIndex() != i || l.LastIndex() != i {
			t.Fatalf("after record %d: durable %d, last %d", i, l.DurableIndex(), l.LastIndex())
		}
	}
	recs, err := collect(l.Records(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRecords(recs, 1, 50); err != nil {
		t.Fatal(err)
	}
	if l.Err() != nil || l.Recovery().LastIndex != 0 {
		t.Fatalf("Err %v, Recovery %+v", l.Err(), l.Recovery())
	}
	mustClose(t, l)
	mustRecover(t, smallOptions(m), 1, 50)
}

// TestAppendReusesNothing: the caller's buffer is copied, and a record
// read is the caller's to keep.
func TestAppendReusesNothing(t *testing.T) {
	m := newMemFS()
	l := openLog(t, smallOptions(m))
	defer mustClose(t, l)
	buf := []byte("first")
	p, err := l.AppendAsync(buf)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXX")
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append([]byte("second")); err != nil {
		t.Fatal(err)
	}
	recs, err := collect(l.Records(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || string(recs[0].Data) != "first" {
		t.Fatalf("records %v", recs)
	}
	recs[0].Data[0] = 'Y'
	again, _ := collect(l.Records(0))
	if string(again[0].Data) != "first" {
		t.Fatal("a record read shares memory with the log")
	}
}

func TestConcurrentAppends(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	opts.MaxPendingBytes = 2 << 10 // so that appenders also wait for room
	l := openLog(t, opts)
	const writers, each = 8, 200
	var (
		mu  sync.Mutex
		got = map[uint64]string{}
		wg  sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				data := fmt.Sprintf("writer %d record %d", w, i)
				var index uint64
				var err error
				if i%2 == 0 {
					index, err = l.Append([]byte(data))
				} else {
					var p Pending
					p, err = l.AppendAsync([]byte(data))
					if err == nil {
						index, err = p.Index(), p.Wait()
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
				if d := l.DurableIndex(); d < index {
					t.Errorf("record %d reported durable, DurableIndex %d", index, d)
				}
				mu.Lock()
				got[index] = data
				mu.Unlock()
			}
		})
	}
	// Read while writing.
	wg.Go(func() {
		for range 20 {
			recs, err := collect(l.Records(0))
			if err != nil {
				t.Error(err)
				return
			}
			for k, rec := range recs {
				if rec.Index != uint64(k+1) {
					t.Errorf("record %d has index %d", k+1, rec.Index)
					return
				}
			}
		}
	})
	wg.Wait()
	stats := l.Stats()
	mustClose(t, l)
	if len(got) != writers*each {
		t.Fatalf("%d distinct indices for %d records", len(got), writers*each)
	}
	r, recs, err := reopen(opts)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, r)
	if len(recs) != writers*each {
		t.Fatalf("%d records after reopening, want %d", len(recs), writers*each)
	}
	for k, rec := range recs {
		if rec.Index != uint64(k+1) || string(rec.Data) != got[rec.Index] {
			t.Fatalf("record %d: index %d, %q; appended %q", k+1, rec.Index, rec.Data, got[rec.Index])
		}
	}
	var timed uint64
	for _, n := range stats.CommitCounts {
		timed += n
	}
	if stats.Groups == 0 || timed != stats.Groups || stats.CommitTime <= 0 {
		t.Errorf("%d groups, %d timed in %v", stats.Groups, timed, stats.CommitTime)
	}
	t.Logf("%d records in %d groups, %d syncs, %d segments", len(recs), stats.Groups, stats.Syncs, stats.Segments)
}

// A group's commit time goes to the first bucket whose bound is at least
// the time, and past the last bound to the last bucket.
func TestCommitBucket(t *testing.T) {
	bounds := CommitBounds()
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{bounds[0], 0},
		{bounds[0] + 1, 1},
		{bounds[3], 3},
		{bounds[len(bounds)-1], len(bounds) - 1},
		{bounds[len(bounds)-1] + 1, len(bounds)},
		{time.Hour, len(bounds)},
	} {
		if got := commitBucket(tc.d); got != tc.want {
			t.Errorf("commitBucket(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
	if len(bounds)+1 != len(Stats{}.CommitCounts) {
		t.Errorf("%d bounds for %d buckets", len(bounds), len(Stats{}.CommitCounts))
	}
	bounds[0] = time.Hour
	if CommitBounds()[0] == time.Hour {
		t.Error("CommitBounds hands out the bounds themselves")
	}
}

// appendPayloads appends the records first..last with payload(i) without
// waiting, and returns their Pendings.
func appendPayloads(t testing.TB, l *Log, first, last uint64) []Pending {
	t.Helper()
	var pending []Pending
	for i := first; i <= last; i++ {
		p, err := l.AppendAsync(payload(i))
		if err != nil {
			t.Fatal(err)
		}
		if p.Index() != i {
			t.Fatalf("record %d got index %d", i, p.Index())
		}
		pending = append(pending, p)
	}
	return pending
}

// gate blocks the syncs of a memFS until released, so that a test can
// hold a group in flight.
type gate struct {
	mu      sync.Mutex
	opened  bool
	err     error // what every sync returns once the gate is open
	release chan struct{}
	entered chan string // receives the name of each sync that blocks
}

func newGate(m *memFS) *gate {
	g := &gate{release: make(chan struct{}), entered: make(chan string, 100)}
	m.setSyncHook(func(name string) error {
		g.mu.Lock()
		opened := g.opened
		g.mu.Unlock()
		if !opened {
			g.entered <- name
			<-g.release
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.err
	})
	return g
}

// open lets every sync through from now on.
func (g *gate) open() { g.openWith(nil) }

// openWith lets every sync through from now on, failing with err.
func (g *gate) openWith(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.opened {
		g.opened, g.err = true, err
		close(g.release)
	}
}

// TestGroupCommit: records appended while a sync is in flight are written
// and synced together, as one group.
func TestGroupCommit(t *testing.T) {
	m := newMemFS()
	l := openLog(t, smallOptions(m))
	g := newGate(m)
	first, err := l.AppendAsync([]byte("first"))
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered // the first group's sync is in flight
	later := appendPayloads(t, l, 2, 11)
	select {
	case <-first.Done():
		t.Fatal("a record reported durable before its sync returned")
	default:
	}
	before := l.Stats()
	g.open()
	for _, p := range append(later, first) {
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	after := l.Stats()
	mustClose(t, l)
	if groups, syncs := after.Groups-before.Groups, after.Syncs-before.Syncs; groups != 2 || syncs != 1 {
		t.Fatalf("11 records took %d more groups and %d more syncs; want the first group to finish and one more", groups, syncs)
	}
	if later[9].Index() != 11 || l.DurableIndex() != 11 {
		t.Fatalf("last index %d, durable %d", later[9].Index(), l.DurableIndex())
	}
}

// TestSyncFailure: after a failed fsync, every waiter of the group and of
// the queue behind it gets the error, the log appends nothing more, and
// what was durable before is there on reopening ("fsyncgate").
func TestSyncFailure(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	l := openLog(t, opts)
	appendDurable(t, l, 1, 5)
	g := newGate(m)
	failing, err := l.AppendAsync(payload(6))
	if err != nil {
		t.Fatal(err)
	}
	<-g.entered
	queued, err := l.AppendAsync(payload(7))
	if err != nil {
		t.Fatal(err)
	}
	g.openWith(syscall.EIO)

	for _, p := range []Pending{failing, queued} {
		if err := p.Wait(); !errors.Is(err, syscall.EIO) {
			t.Fatalf("record %d: %v, want EIO", p.Index(), err)
		}
	}
	_, err = l.Append(payload(8))
	wantErr(t, err, syscall.EIO)
	wantErr(t, l.Err(), syscall.EIO)
	if l.DurableIndex() != 5 {
		t.Fatalf("durable %d after the failure, want 5", l.DurableIndex())
	}
	wantErr(t, l.Close(), syscall.EIO)

	m.setSyncHook(nil)
	r, recs, err := reopen(opts)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, r)
	// Records 6 and 7 were written before the sync failed; whether they
	// are on disk is not known, but 1 to 5 must be.
	if len(recs) < 5 || checkRecords(recs[:5], 1, 5) != nil {
		t.Fatalf("after reopening: %v", checkRecords(recs, 1, 5))
	}
}

// TestFullDisk: a disk that fills up fails the log with ENOSPC when it
// needs a new segment; nothing is lost, and the log opens again once
// there is room.
func TestFullDisk(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	m.SetMaxBytes(3*opts.SegmentBytes + 100)
	l := openLog(t, opts)
	var acked uint64
	var err error
	for i := uint64(1); i <= 1000; i++ {
		if _, err = l.Append(payload(i)); err != nil {
			break
		}
		acked = i
	}
	wantErr(t, err, syscall.ENOSPC)
	if acked < 10 {
		t.Fatalf("only %d records before the disk filled", acked)
	}
	wantErr(t, l.Close(), syscall.ENOSPC)
	m.SetMaxBytes(0)
	r := mustReopen(t, opts, 1, acked)
	defer mustClose(t, r)
	if _, err := r.Append(payload(acked + 1)); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestTornWrite: a write that fails partway fails the log; on reopening,
// the partial record is a torn tail and is cut off.
func TestTornWrite(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	l := openLog(t, opts)
	appendDurable(t, l, 1, 3)
	m.mu.Lock()
	m.writeHook = func(_ string, _ int64, n int) (int, error) { return n / 2, syscall.EIO }
	m.mu.Unlock()
	_, err := l.Append(payload(4))
	wantErr(t, err, syscall.EIO)
	wantErr(t, l.Close(), syscall.EIO)
	m.mu.Lock()
	m.writeHook = nil
	m.mu.Unlock()
	if mustRecover(t, opts, 1, 3).TornTail == nil {
		t.Fatal("no torn tail reported")
	}
}

// fullQueue is a log whose group in flight is held at its sync by a
// gate, whose queue is full, and an appender waiting for room.
type fullQueue struct {
	l                *Log
	gate             *gate
	inFlight, queued Pending
	blocked          chan error // the waiting appender's result
}

func newFullQueue(t *testing.T) fullQueue {
	m := newMemFS()
	opts := smallOptions(m)
	opts.MaxPendingBytes = 1100
	q := fullQueue{l: openLog(t, opts), gate: newGate(m), blocked: make(chan error)}
	var err error
	if q.inFlight, err = q.l.AppendAsync(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	<-q.gate.entered
	if q.queued, err = q.l.AppendAsync(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := q.l.Append(make([]byte, 100))
		q.blocked <- err
	}()
	waitFor(t, func() bool { return q.l.waitingForRoom() == 1 })
	return q
}

// TestBackpressure: an append that would overfill the queue waits until
// the committer takes the queue.
func TestBackpressure(t *testing.T) {
	q := newFullQueue(t)
	q.gate.open()
	if err := <-q.blocked; err != nil {
		t.Fatal(err)
	}
	mustClose(t, q.l)
}

// waitingForRoom returns the number of appenders waiting for room in the
// queue.
func (l *Log) waitingForRoom() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.blocked
}

// waitFor yields until cond holds; a test that never gets there times out
// as a whole, which is what it should.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func TestClose(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	l := openLog(t, opts)
	pending := appendPayloads(t, l, 1, 100)
	mustClose(t, l)
	for _, p := range pending {
		if err := p.Wait(); err != nil {
			t.Fatalf("record %d: %v", p.Index(), err)
		}
	}
	wantErr(t, l.Close(), ErrClosed)
	_, err := l.Append([]byte("late"))
	wantErr(t, err, ErrClosed)
	wantErr(t, l.TruncateBefore(10), ErrClosed)
	_, err = collect(l.Records(0))
	wantErr(t, err, ErrClosed)

	mustRecover(t, opts, 1, 100)
}

// TestCloseReleasesWaiters: appenders waiting for room when the log
// closes get ErrClosed, and what they wait behind is made durable.
func TestCloseReleasesWaiters(t *testing.T) {
	q := newFullQueue(t)
	closed := make(chan error)
	go func() { closed <- q.l.Close() }()
	wantErr(t, <-q.blocked, ErrClosed)
	q.gate.open()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if q.inFlight.Wait() != nil || q.queued.Wait() != nil || q.l.DurableIndex() != 2 {
		t.Fatal("the records appended before Close are not durable")
	}
}

func TestTooLarge(t *testing.T) {
	m := newMemFS()
	l := openLog(t, smallOptions(m))
	defer mustClose(t, l)
	_, err := l.Append(make([]byte, 1<<10+1))
	wantErr(t, err, ErrTooLarge)
	if _, err := l.Append(make([]byte, 1<<10)); err != nil {
		t.Fatal(err)
	}
	if l.LastIndex() != 1 {
		t.Fatalf("last index %d", l.LastIndex())
	}
}

func TestTruncateBefore(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	l := openLog(t, opts)
	appendDurable(t, l, 1, 200)
	segments := l.Stats().Segments
	firsts := segmentFirsts(t, m)
	if len(firsts) < 5 {
		t.Fatalf("%d segments; the test wants more", len(firsts))
	}
	// The first segment's last record is below firsts[1] only.
	if err := l.TruncateBefore(firsts[1] - 1); err != nil {
		t.Fatal(err)
	}
	if l.FirstIndex() != 1 {
		t.Fatal("TruncateBefore removed a segment it should have kept")
	}
	if err := l.TruncateBefore(firsts[1]); err != nil {
		t.Fatal(err)
	}
	if got := segmentFirsts(t, m); l.FirstIndex() != firsts[1] || len(got) != segments-1 {
		t.Fatalf("first index %d, segments %v", l.FirstIndex(), got)
	}
	// An index inside the fourth segment: the first three go, and records
	// below the index in the fourth stay readable.
	cut := firsts[3] + 2
	if err := l.TruncateBefore(cut); err != nil {
		t.Fatal(err)
	}
	recs, err := collect(l.Records(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRecords(recs, firsts[3], 200); err != nil {
		t.Fatal(err)
	}
	// Beyond the end: every segment but the active one.
	if err := l.TruncateBefore(1000); err != nil {
		t.Fatal(err)
	}
	if got := segmentFirsts(t, m); len(got) != 1 || got[0] != firsts[len(firsts)-1] {
		t.Fatalf("segments left %v, want the active one, %d", got, firsts[len(firsts)-1])
	}
	if _, err := l.Append(payload(201)); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	last := firsts[len(firsts)-1]
	if got := mustRecover(t, opts, last, 201).FirstIndex; got != last {
		t.Fatalf("after reopening: first index %d, want %d", got, last)
	}
}

// segmentFirsts returns the first indices of the memFS log's segments.
func segmentFirsts(t testing.TB, m *memFS) []uint64 {
	var firsts []uint64
	for _, p := range segmentPaths(t, m) {
		h, err := parseSegmentHeader(m.file(p))
		if err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, h.firstIndex)
	}
	return firsts
}

// TestBoundedDisk: a log truncated as it goes keeps a bounded number of
// segments however long it runs.
func TestBoundedDisk(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	l := openLog(t, opts)
	defer mustClose(t, l)
	most := 0
	for i := uint64(1); i <= 3000; i++ {
		if _, err := l.Append(payload(i)); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if err := l.TruncateBefore(i - 50); err != nil {
				t.Fatal(err)
			}
		}
		most = max(most, l.Stats().Segments)
	}
	// Up to 100 records of 166 bytes on average, in segments of 4 KiB,
	// take 5 segments, 6 with the one being filled; 3000 records without
	// truncation take 120.
	if most > 6 {
		t.Fatalf("up to %d segments for a window of 50 to 100 records", most)
	}
}

func TestSyncPolicies(t *testing.T) {
	tests := []struct {
		policy    SyncPolicy
		wantSyncs bool
	}{
		{SyncEveryGroup, true},
		{SyncInterval(time.Millisecond), true},
		{UnsafeNoSync, false},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			m := newMemFS()
			opts := smallOptions(m)
			opts.Sync = tt.policy
			l := openLog(t, opts)
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Go(func() {
					for i := range 50 {
						if _, err := l.Append([]byte{byte(w), byte(i)}); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			stats := l.Stats()
			if l.DurableIndex() != 200 {
				t.Fatalf("durable %d", l.DurableIndex())
			}
			mustClose(t, l)
			if (stats.Syncs > 0) != tt.wantSyncs {
				t.Fatalf("%d syncs", stats.Syncs)
			}
			r, recs, err := reopen(opts)
			if err != nil {
				t.Fatal(err)
			}
			mustClose(t, r)
			if len(recs) != 200 {
				t.Fatalf("%d records", len(recs))
			}
		})
	}
}

// TestSyncIntervalGathers: under SyncInterval, records appended within
// the interval share a sync, and none is reported durable before it.
func TestSyncIntervalGathers(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	opts.SegmentBytes = 1 << 20 // no roll, no spare: only the interval syncs
	opts.Sync = SyncInterval(time.Hour)
	l := openLog(t, opts)
	pending := appendPayloads(t, l, 1, 20)
	for _, p := range pending {
		select {
		case <-p.Done():
			t.Fatal("a record reported durable before the interval's sync")
		default:
		}
	}
	syncs := l.Stats().Syncs
	mustClose(t, l) // Close syncs what is queued at once
	for _, p := range pending {
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.Stats().Syncs - syncs; got != 1 {
		t.Fatalf("20 records took %d syncs, want 1", got)
	}
}

func TestRawLog(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	r, err := OpenRaw(testDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 3; i++ {
		if _, err := r.Append(payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	if r.LastIndex() != 3 || r.DurableIndex() != 0 {
		t.Fatalf("last %d, durable %d", r.LastIndex(), r.DurableIndex())
	}
	recs, _ := collect(r.Records(0))
	if len(recs) != 0 {
		t.Fatal("Records returned records not yet written")
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if recs, _ := collect(r.Records(0)); checkRecords(recs, 1, 3) != nil || r.DurableIndex() != 0 {
		t.Fatal("after Flush")
	}
	if err := r.Sync(); err != nil || r.DurableIndex() != 3 {
		t.Fatalf("after Sync: %v, durable %d", err, r.DurableIndex())
	}
	if _, err := r.Append(payload(4)); err != nil { // dropped by Close
		t.Fatal(err)
	}
	_, err = r.Append(make([]byte, opts.MaxRecordBytes+1))
	wantErr(t, err, ErrTooLarge)
	mustClose(t, r)
	wantErr(t, r.Close(), ErrClosed)
	_, err = r.Append(nil)
	wantErr(t, err, ErrClosed)
	wantErr(t, r.Flush(), ErrClosed)

	r = mustReopen(t, opts, 1, 3)
	defer mustClose(t, r)
	// A failed sync is final.
	m.setSyncHook(func(string) error { return syscall.EIO })
	if _, err := r.Append(nil); err != nil {
		t.Fatal(err)
	}
	wantErr(t, r.Sync(), syscall.EIO)
	m.setSyncHook(nil)
	wantErr(t, r.Sync(), syscall.EIO)
	_, err = r.Append(nil)
	wantErr(t, err, syscall.EIO)
	wantErr(t, r.Err(), syscall.EIO)
}

// TestLocked: a directory opens once at a time within a process.
func TestLocked(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 1 << 20}
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, opts)
	wantErr(t, err, ErrLocked)
	_, err = OpenRaw(dir, opts)
	wantErr(t, err, ErrLocked)
	mustClose(t, l)
	l, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
}

// TestRecordsData: payloads of every size up to the limit, on the real
// file system.
func TestRecordsData(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 1 << 20, MaxRecordBytes: 256 << 10}
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 1, 15, 16, 17, 4095, 4096, 65536, 256 << 10}
	for i, n := range sizes {
		data := bytes.Repeat([]byte{byte(i + 1)}, n)
		if _, err := l.Append(data); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, l)
	l, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer mustClose(t, l)
	recs, err := collect(l.Records(0))
	if err != nil || len(recs) != len(sizes) {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for i, rec := range recs {
		if !bytes.Equal(rec.Data, bytes.Repeat([]byte{byte(i + 1)}, sizes[i])) {
			t.Fatalf("record %d of %d bytes differs", i+1, sizes[i])
		}
	}
}

// TestSpareSegment: once the active segment is half full, the preparer
// writes the next segment with zeros; the roll takes it, Close removes an
// unused one, and Open removes one a crash left behind.
func TestSpareSegment(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	spare := testDir + "/" + spareName
	exists := func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		_, ok := m.files[spare]
		return ok
	}
	l := openLog(t, opts)
	if exists() {
		t.Fatal("a spare for an empty segment")
	}
	var i uint64
	for i = 1; l.Stats().Segments == 1; i++ {
		if _, err := l.Append(payload(i)); err != nil {
			t.Fatal(err)
		}
		if i == 20 { // past half of the first segment
			waitFor(t, func() bool {
				l.rawMu.Lock()
				defer l.rawMu.Unlock()
				return l.raw.spare != nil
			})
			if data := m.file(spare); int64(len(data)) != opts.SegmentBytes || !allZero(data) {
				t.Fatalf("spare of %d bytes, all zeros %v", len(data), allZero(data))
			}
		}
	}
	if exists() {
		t.Fatal("the roll did not take the spare")
	}
	for ; ; i++ { // until the next spare
		if _, err := l.Append(payload(i)); err != nil {
			t.Fatal(err)
		}
		l.rawMu.Lock()
		ready := l.raw.spare != nil
		l.rawMu.Unlock()
		if ready {
			break
		}
	}
	mustClose(t, l)
	if exists() {
		t.Fatal("Close left the spare")
	}
	m.setFile(spare, make([]byte, 100))
	if rec := mustRecover(t, opts, 1, i); exists() || rec.TempFilesRemoved != 1 {
		t.Fatalf("spare left %v, %+v", exists(), rec)
	}
}

// TestSpareFailure: a spare the disk has no room for does not fail the
// log; it fails only when a segment it needs cannot be made.
func TestSpareFailure(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	l := openLog(t, opts)
	m.mu.Lock()
	m.maxBytes = m.used() + 100 // the active segment is preallocated already
	m.mu.Unlock()
	var err error
	var acked uint64
	for i := uint64(1); err == nil; i++ {
		if _, err = l.Append(payload(i)); err == nil {
			acked = i
		}
	}
	wantErr(t, err, syscall.ENOSPC)
	if l.Stats().Segments != 1 || acked < 15 {
		t.Fatalf("%d segments, %d records", l.Stats().Segments, acked)
	}
	wantErr(t, l.Close(), syscall.ENOSPC)
}
