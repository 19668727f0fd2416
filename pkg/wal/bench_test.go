package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks write to b.TempDir(), on the disk that holds $TMPDIR:
// run them with TMPDIR on the disk to measure.

// BenchmarkAppend appends records of a size from several goroutines at
// once, each waiting for its record to be durable (SyncEveryGroup), and
// reports records per second, records per fsync, and the time from Append
// to durable (p50, p99) next to the p50 of a bare write+fdatasync of one
// record on the same disk, measured right before.
func BenchmarkAppend(b *testing.B) {
	cases := []struct{ size, appenders int }{
		{100, 1}, {100, 8}, {100, 64},
		{128, 64}, // the target: >= 200,000 records/s, p50 <= 2x fsync
		{4096, 1}, {4096, 8}, {4096, 64},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("size=%d/appenders=%d", c.size, c.appenders), func(b *testing.B) {
			benchAppend(b, c.size, c.appenders)
		})
	}
}

func benchAppend(b *testing.B, size, appenders int) {
	dir := b.TempDir()
	fsync := median(bareFsync(b, filepath.Join(dir, "baseline"), size, 200))
	// Segments of 8 MiB: a run of the benchmark fills several, and
	// includes creating them.
	l, err := Open(filepath.Join(dir, "log"), Options{SegmentBytes: 8 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer mustClose(b, l)
	data := make([]byte, size)
	latencies := make([][]time.Duration, appenders)
	var next atomic.Int64
	before := l.Stats()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range appenders {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				t := time.Now()
				if _, err := l.Append(data); err != nil {
					b.Error(err)
					return
				}
				latencies[w] = append(latencies[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	after := l.Stats()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(b.N)/float64(max(1, after.Syncs-before.Syncs)), "records/fsync")
	b.ReportMetric(micros(all[len(all)/2]), "p50-µs")
	b.ReportMetric(micros(all[len(all)*99/100]), "p99-µs")
	b.ReportMetric(micros(fsync), "fsync-p50-µs")
	b.ReportMetric(float64(all[len(all)/2])/float64(fsync), "p50/fsync")
}

// BenchmarkBareFsync is the baseline: a loop of one write of a record and
// one fdatasync, in a file written with zeros first, as the log's
// segments are: the cheapest sync of a record this disk allows.
func BenchmarkBareFsync(b *testing.B) {
	for _, size := range []int{100, 4096} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			lat := bareFsync(b, filepath.Join(b.TempDir(), "f"), size, b.N)
			slices.Sort(lat)
			b.ReportMetric(micros(lat[len(lat)/2]), "p50-µs")
			b.ReportMetric(micros(lat[len(lat)*99/100]), "p99-µs")
		})
	}
}

// bareFsync writes n records of size bytes one after the other to a new
// file written with zeros, syncing each, and returns the time each took.
func bareFsync(b *testing.B, name string, size, n int) []time.Duration {
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(name)
	defer f.Close()
	if err := writeZeros(osFile{f}, int64(n*size), func() bool { return false }); err != nil {
		b.Fatal(err)
	}
	if err := syncData(f); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	data := make([]byte, size)
	lat := make([]time.Duration, n)
	for i := range n {
		t := time.Now()
		if _, err := f.WriteAt(data, int64(i*size)); err != nil {
			b.Fatal(err)
		}
		if err := syncData(f); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t)
	}
	return lat
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkRecovery opens a log of 64 MiB in 16 MiB segments, already in
// the page cache, and reads every record: the bytes per second are the
// log's bytes. Open checks every record; Records reads and checks them
// again.
func BenchmarkRecovery(b *testing.B) {
	for _, size := range []int{128, 4096} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			dir := b.TempDir()
			opts := Options{SegmentBytes: 16 << 20, Sync: UnsafeNoSync}
			l, err := Open(dir, opts)
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, size)
			n := (64 << 20) / int(frameBytes(size))
			var last Pending
			for range n {
				if last, err = l.AppendAsync(data); err != nil {
					b.Fatal(err)
				}
			}
			if err := last.Wait(); err != nil {
				b.Fatal(err)
			}
			mustClose(b, l)
			b.SetBytes(int64(n) * frameBytes(size))
			b.ResetTimer()
			for b.Loop() {
				l, err := Open(dir, opts)
				if err != nil {
					b.Fatal(err)
				}
				count := 0
				for _, err := range l.Records(0) {
					if err != nil {
						b.Fatal(err)
					}
					count++
				}
				mustClose(b, l)
				if count != n {
					b.Fatalf("%d records, want %d", count, n)
				}
			}
		})
	}
}

// BenchmarkLiveHeap appends a million records of 100 bytes, truncating the
// log every 10,000, and reports the live heap after 100,000 records and
// after a million: memory does not grow with the records appended.
func BenchmarkLiveHeap(b *testing.B) {
	for b.Loop() {
		l, err := Open(b.TempDir(), Options{SegmentBytes: 1 << 20, Sync: UnsafeNoSync})
		if err != nil {
			b.Fatal(err)
		}
		data := make([]byte, 100)
		var at100k float64
		var last Pending
		for i := 1; i <= 1_000_000; i++ {
			if last, err = l.AppendAsync(data); err != nil {
				b.Fatal(err)
			}
			if i%10_000 == 0 {
				if err := l.TruncateBefore(uint64(i - 10_000)); err != nil {
					b.Fatal(err)
				}
			}
			if i == 100_000 {
				at100k = liveHeapMB(last)
			}
		}
		b.ReportMetric(at100k, "heap-MB-at-100k")
		b.ReportMetric(liveHeapMB(last), "heap-MB-at-1M")
		b.ReportMetric(float64(l.Stats().Segments), "segments")
		mustClose(b, l)
	}
}

// liveHeapMB waits for p to be written and returns the live heap.
func liveHeapMB(p Pending) float64 {
	if err := p.Wait(); err != nil {
		panic(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}
