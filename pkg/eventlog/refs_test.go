package eventlog_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

// blob is an event with byte strings: payloads that several events
// carry, as a protocol's transactions are, and a short one that is never
// referred to.
type blob struct {
	stdtypes.Header
	Payloads [][]byte
	Digest   []byte
}

var _ = codec.Register[blob]("eventlogtest.Blob")

// blobBatches returns n batches of 4 events: blobs that carry payloads
// of the last few batches again (each payload is in about five events),
// and hops. The payloads are pseudo-random (from seed), so they do not
// compress; some are longer than others.
func blobBatches(n int, seed uint64) []eventlog.Batch {
	rng := rand.New(rand.NewPCG(seed, 7))
	var payloads [][]byte
	var batches []eventlog.Batch
	var seq uint64
	for i := range n {
		b := eventlog.Batch{Node: "n", Number: uint64(i), Time: time.Unix(1.7e9, int64(i)*1e6)}
		for j := range 4 {
			var ev stdtypes.Event
			if j == 3 {
				ev = newHop("h", i)
			} else {
				p := make([]byte, 60+rng.IntN(600))
				for k := range p {
					p[k] = byte(rng.Uint32())
				}
				payloads = append(payloads, p)
				bl := &blob{Header: stdtypes.NewHeader(stdtypes.ModuleID(fmt.Sprintf("m%d", j))), Digest: p[:32]}
				for k := range 1 + rng.IntN(5) {
					back := k * (1 + rng.IntN(3))
					if back >= len(payloads) {
						break
					}
					bl.Payloads = append(bl.Payloads, payloads[len(payloads)-1-back])
				}
				ev = bl
			}
			b.Entries = append(b.Entries, eventlog.Entry{Seq: seq, Input: j == 0, Event: ev})
			seq++
		}
		batches = append(batches, b)
	}
	return batches
}

// writeBatches writes batches through a new StreamSink in dir and returns
// its files.
func writeBatches(t testing.TB, dir string, opts eventlog.StreamOptions, batches []eventlog.Batch) []string {
	t.Helper()
	sink, err := eventlog.NewStreamSink(dir, "n", opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range batches {
		if err := sink.WriteBatch(&batches[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.Files()
}

// checkRecords checks that recs are the events of batches, from the
// first event of batch first on: the same encodings, decoding to equal
// events.
func checkRecords(t *testing.T, recs []*eventlog.Record, batches []eventlog.Batch, first int) {
	t.Helper()
	var want []eventlog.Entry
	for _, b := range batches[first:] {
		want = append(want, b.Entries...)
	}
	if len(recs) > len(want) {
		t.Fatalf("%d records, %d events written", len(recs), len(want))
	}
	for i, rec := range recs {
		data, err := codec.EncodeEvent(want[i].Event)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Seq != want[i].Seq || !bytes.Equal(rec.Data, data) {
			t.Fatalf("record %d: seq %d, data %x; want seq %d, %x", i, rec.Seq, rec.Data, want[i].Seq, data)
		}
		ev, err := rec.Decode()
		if err != nil || !reflect.DeepEqual(ev, want[i].Event) {
			t.Fatalf("record %d decodes to %#v, %v; want %#v", i, ev, err, want[i].Event)
		}
	}
}

// TestStreamRefsRoundTrip: a log whose events repeat byte strings reads
// back as the same events, with windows large and small (where strings
// are evicted before they repeat, and written again) and without
// references.
func TestStreamRefsRoundTrip(t *testing.T) {
	batches := blobBatches(300, 1)
	for _, window := range []int{0, 4096, 700, -1} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			files := writeBatches(t, t.TempDir(), eventlog.StreamOptions{RefWindowBytes: window}, batches)
			r, err := eventlog.OpenStream(files[0])
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			recs := readAll(t, r)
			if len(recs) != 4*len(batches) || len(r.Warnings()) != 0 {
				t.Fatalf("%d records, warnings %q", len(recs), r.Warnings())
			}
			checkRecords(t, recs, batches, 0)
		})
	}
}

// TestStreamRefsEachFileReadsAlone: the window starts empty in every file,
// so each file of a rotated log reads by itself, whatever its strings
// repeat from the files before.
func TestStreamRefsEachFileReadsAlone(t *testing.T) {
	batches := blobBatches(200, 2)
	files := writeBatches(t, t.TempDir(), eventlog.StreamOptions{MaxFileSize: 8 << 10}, batches)
	if len(files) < 4 {
		t.Fatalf("%d files: rotation did not happen", len(files))
	}
	first := 0
	for _, path := range files {
		r, err := eventlog.OpenStream(path)
		if err != nil {
			t.Fatal(err)
		}
		recs := readAll(t, r)
		_ = r.Close()
		if len(recs) == 0 || recs[0].Seq != uint64(4*first) {
			t.Fatalf("%s: %d records from %d, want from %d", path, len(recs), recs[0].Seq, 4*first)
		}
		checkRecords(t, recs, batches, first)
		first += len(recs) / 4
	}
	if first != len(batches) {
		t.Fatalf("the files hold %d batches, %d written", first, len(batches))
	}
}

// format2Batches are the events of testdata/format2.mirlog, written by the
// stream sink of format 2 (before references).
func format2Batches() []eventlog.Batch { return blobBatches(12, 3) }

// TestReadFormat2: files of the format before references still read.
func TestReadFormat2(t *testing.T) {
	r, err := eventlog.OpenStream(filepath.Join("testdata", "format2.mirlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Header().Format != 2 || r.Header().RefWindow != 0 {
		t.Fatalf("header %+v", r.Header())
	}
	recs := readAll(t, r)
	if len(recs) != 48 || len(r.Warnings()) != 0 {
		t.Fatalf("%d records, warnings %q", len(recs), r.Warnings())
	}
	checkRecords(t, recs, format2Batches(), 0)
}

// TestStreamRefsFlipEveryByte: damage anywhere in a log with references
// is reported as damage, after records that are all intact (see
// TestFlipEveryByte).
func TestStreamRefsFlipEveryByte(t *testing.T) {
	l := writeDamageLog(t, damageSpec{batches: 6, flushEvery: 2, blobs: true})
	data, want := l.files[0], l.recs[0]
	step := max(1, len(data)/200) // A stride: TestFlipEveryByte covers every byte of a log.
	for off := 0; off < len(data); off += step {
		if err := checkFlipped(flipBit(data, off, uint(off%8)), want, off); err != nil {
			t.Fatalf("flip at %d of %d: %v", off, len(data), err)
		}
	}
	for keep := 0; keep < len(data); keep += step {
		if err := checkCut(data, want, keep, l.headerBytes); err != nil {
			t.Fatalf("cut at %d of %d: %v", keep, len(data), err)
		}
	}
}

func TestStreamRefWindowValidated(t *testing.T) {
	if _, err := eventlog.NewStreamSink(t.TempDir(), "n", eventlog.StreamOptions{RefWindowBytes: 1 << 30}); err == nil {
		t.Error("a window of 1 GiB accepted")
	}
}
