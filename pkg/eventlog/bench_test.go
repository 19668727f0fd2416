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

// payloadBatches returns the batches of a protocol that carries each
// transaction's payload (512 pseudo-random bytes) in 6 events, as
// Trantor's node does (a submission, the mempool's batch, the messages
// that disseminate it, the batch fetcher's output, the application's
// input): blobs of 16 payloads each, in batches of 6 blobs where blob k
// of batch i carries the payloads of blob 0 of batch i-k. txs is the
// number of transactions.
func payloadBatches(txs int) []eventlog.Batch {
	const perEvent, stages, payloadBytes = 16, 6, 512
	payloads := make([][]byte, txs)
	x := uint64(1)
	for i := range payloads {
		p := make([]byte, payloadBytes)
		for k := range p {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			p[k] = byte(x)
		}
		payloads[i] = p
	}
	var batches []eventlog.Batch
	var seq uint64
	for i := 0; i*perEvent < txs; i++ {
		b := eventlog.Batch{Node: "bench", Number: uint64(i)}
		for k := range stages {
			first := (i - k) * perEvent
			if first < 0 {
				continue
			}
			bl := &blob{Header: stdtypes.NewHeader(stdtypes.ModuleID(fmt.Sprintf("stage%d", k))), Payloads: payloads[first:min(txs, first+perEvent)]}
			b.Entries = append(b.Entries, eventlog.Entry{Seq: seq, Event: bl})
			seq++
		}
		batches = append(batches, b)
	}
	return batches
}

// BenchmarkStreamSinkPayloads measures the recorder's writing side on
// events that carry transactions (payloadBatches), with references to
// byte strings written before (the default) and without: one op is one
// transaction, in its 6 events. file-B/tx is what the log takes on disk.
func BenchmarkStreamSinkPayloads(b *testing.B) {
	const txs = 20000
	batches := payloadBatches(txs)
	for _, c := range []struct {
		name   string
		window int
	}{{"refs", 0}, {"norefs", -1}} {
		b.Run(c.name, func(b *testing.B) {
			var size int64
			b.ReportAllocs()
			for i := 0; i < b.N; i += txs {
				b.StopTimer()
				dir := b.TempDir()
				b.StartTimer()
				files := writeBatches(b, dir, eventlog.StreamOptions{RefWindowBytes: c.window}, batches)
				info, err := os.Stat(files[0])
				if err != nil {
					b.Fatal(err)
				}
				size = info.Size()
			}
			b.ReportMetric(float64(size)/txs, "file-B/tx")
		})
	}
}
