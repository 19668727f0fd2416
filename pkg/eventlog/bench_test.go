package eventlog_test

import (
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

// BenchmarkReadLog scans a stream log of 200,000 events, in batches of 16
// for 8 modules, as the recorder writes them: one op is one whole scan;
// events/s is the figure to read. Scanning reads each record's fields and
// keeps the event encoded (Record.Decode decodes on demand). file-B/event
// is the log's size on disk per event.
func BenchmarkReadLog(b *testing.B) {
	const events = 200000
	dir := b.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "bench", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]stdtypes.Event, 16)
	for i := 0; i < events; i += len(batch) {
		for j := range batch {
			h := newHop(stdtypes.ModuleID(fmt.Sprintf("module%d/sub", (i/16)%8)), i+j)
			h.Note = "a short note of twenty-odd bytes"
			batch[j] = h
		}
		if err := rec.Intercept(list(batch...)); err != nil {
			b.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		b.Fatal(err)
	}
	files, err := eventlog.StreamFiles(dir)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		size += info.Size()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		src, err := eventlog.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		var bytes int
		for {
			r, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
			bytes += len(r.Data)
		}
		src.Close()
		if n != events {
			b.Fatalf("read %d events of %d", n, events)
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// The log's size tells what the format costs on disk.
	b.ReportMetric(float64(size)/events, "file-B/event")
}

// BenchmarkStreamSink measures the recorder's writing side alone: encoding
// and compressing batches of 64 small events, as the node's benchmark
// events. One op is one event. This is what a recorder's goroutine must
// keep up with for recording not to slow the node down.
func BenchmarkStreamSink(b *testing.B) {
	sink, err := eventlog.NewStreamSink(b.TempDir(), "bench", eventlog.StreamOptions{})
	if err != nil {
		b.Fatal(err)
	}
	batch := eventlog.Batch{Node: "bench"}
	for i := range 64 {
		batch.Entries = append(batch.Entries, eventlog.Entry{Seq: uint64(i), Event: newHop("b", i)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += len(batch.Entries) {
		batch.Number = uint64(i)
		for j := range batch.Entries {
			batch.Entries[j].Seq = uint64(i + j)
		}
		if err := sink.WriteBatch(&batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		b.Fatal(err)
	}
}
