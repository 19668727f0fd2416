package eventlog_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

// damageLog is a log written for the damage tests: the bytes of its files
// and the records each holds, read back from the intact file.
type damageLog struct {
	files [][]byte
	recs  [][]*eventlog.Record
	// headerBytes is the size of the first file when it was created: its
	// magic and its header, which the sink writes at once.
	headerBytes int
}

// damageSpec says what log writeDamageLog writes.
type damageSpec struct {
	// batches of 4 events are written, and the sink flushed after every
	// flushEvery of them, so that a file has several blocks.
	batches, flushEvery int
	// maxFileBytes rotates files (0: one file).
	maxFileBytes int64
	// open leaves the last file as a killed process leaves it: flushed,
	// but not ended.
	open bool
	// bigNoteBytes, if not 0, is the size of an incompressible note in
	// the second batch, whose frame then spans several blocks.
	bigNoteBytes int
	// blobs replaces every second hop with a blob, whose payloads repeat
	// across events: entries that refer to byte strings.
	blobs bool
}

// writeDamageLog writes the log spec says through a StreamSink.
func writeDamageLog(t testing.TB, spec damageSpec) damageLog {
	t.Helper()
	sink, err := eventlog.NewStreamSink(t.TempDir(), "n", eventlog.StreamOptions{MaxFileSize: spec.maxFileBytes})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(sink.Files()[0])
	if err != nil {
		t.Fatal(err)
	}
	var l damageLog
	l.headerBytes = int(info.Size())
	dests := []stdtypes.ModuleID{"a", "b/c", "iss/pbft/3"}
	var seq uint64
	for i := range spec.batches {
		b := eventlog.Batch{Node: "n", Number: uint64(i), Time: time.Unix(1.7e9, int64(i)*1e6)}
		for j := range 4 {
			var ev stdtypes.Event
			if i%7 == 3 && j == 0 {
				ev = &unregistered{Header: stdtypes.NewHeader("a")}
			} else {
				h := newHop(dests[(i+j)%len(dests)], i*4+j)
				// Text that compresses, but not to nothing.
				h.Note = fmt.Sprintf("note %x", uint64(i*4+j)*0x9e3779b97f4a7c15)
				if i == 1 && j == 0 && spec.bigNoteBytes > 0 {
					h.Note = incompressible(spec.bigNoteBytes)
				}
				ev = h
				if spec.blobs && j%2 == 1 {
					p := []byte(incompressible(100 + i%3))
					ev = &blob{Header: h.Header, Payloads: [][]byte{p, p}}
				}
			}
			b.Entries = append(b.Entries, eventlog.Entry{Seq: seq, Input: j%2 == 0, Event: ev})
			seq++
		}
		if err := sink.WriteBatch(&b); err != nil {
			t.Fatal(err)
		}
		if (i+1)%spec.flushEvery == 0 {
			if err := sink.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if spec.open {
		err = sink.Flush()
	} else {
		err = sink.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range sink.Files() {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, warnings, err := readLogBytes(data)
		if err != nil || (!spec.open && len(warnings) != 0) {
			t.Fatalf("%s: the intact file reads with %v, warnings %q", path, err, warnings)
		}
		l.files = append(l.files, data)
		l.recs = append(l.recs, recs)
	}
	return l
}

// damagedName is the name the damage tests give the files they read.
const damagedName = "damaged.mirlog"

// readLogBytes reads the stream log in data to its end or first error,
// cloning the records.
func readLogBytes(data []byte) ([]*eventlog.Record, []string, error) {
	r, err := eventlog.NewStreamReader(damagedName, bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs []*eventlog.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r.Warnings(), nil
		}
		if err != nil {
			return recs, r.Warnings(), err
		}
		recs = append(recs, rec.Clone())
	}
}

// checkPrefix fails unless got are the first records of want, unaltered.
func checkPrefix(got, want []*eventlog.Record) error {
	if len(got) > len(want) {
		return fmt.Errorf("%d records read from a file of %d", len(got), len(want))
	}
	for i, g := range got {
		a, b := *g, *want[i]
		a.File, b.File = "", ""
		if !reflect.DeepEqual(a, b) {
			return fmt.Errorf("record %d altered:\n got %+v\nwant %+v", i, a, b)
		}
	}
	return nil
}

// checkFlipped reads data, a file of want's records with one bit flipped
// at off. The reader must either read every record, unaltered, with no
// error and no warning, or end with ErrCorrupt naming the file and an
// offset, having handed out only unaltered records before. A flip in the
// magic makes the file no log at all (ErrNotLog).
func checkFlipped(data []byte, want []*eventlog.Record, off int) error {
	recs, warnings, err := readLogBytes(data)
	if perr := checkPrefix(recs, want); perr != nil {
		return perr
	}
	switch {
	case err == nil:
		if len(recs) != len(want) || len(warnings) != 0 {
			return fmt.Errorf("%d of %d records read, no error, warnings %q: damage taken for a cut-off", len(recs), len(want), warnings)
		}
	case errors.Is(err, eventlog.ErrCorrupt):
		if msg := err.Error(); !strings.Contains(msg, damagedName) || !strings.Contains(msg, "offset") {
			return fmt.Errorf("error %q does not name the file and the offset", msg)
		}
	case errors.Is(err, eventlog.ErrNotLog) && off < magicBytes:
	default:
		return fmt.Errorf("error %v, want ErrCorrupt", err)
	}
	return nil
}

// magicBytes is the size of a stream log's magic.
const magicBytes = 8

// checkCut reads data[:keep], a file of want's records cut off at keep by
// a crash. The reader must hand out a prefix of the records, unaltered,
// with a warning that the file is cut off and no error. A file cut before
// the end of its header (headerBytes) cannot be read at all.
func checkCut(data []byte, want []*eventlog.Record, keep, headerBytes int) error {
	recs, warnings, err := readLogBytes(data[:keep])
	if perr := checkPrefix(recs, want); perr != nil {
		return perr
	}
	if keep < headerBytes {
		if err == nil || !errors.Is(err, eventlog.ErrCorrupt) && !errors.Is(err, eventlog.ErrNotLog) {
			return fmt.Errorf("cut in the header: error %v, want ErrNotLog or ErrCorrupt", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("error %v after %d records: a cut-off taken for damage", err, len(recs))
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "cut off") {
		return fmt.Errorf("%d of %d records read, warnings %q, want one saying the file is cut off", len(recs), len(want), warnings)
	}
	return nil
}

// incompressible returns n bytes of text that zstd cannot shrink much.
func incompressible(n int) string {
	var b strings.Builder
	x := uint64(1)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		fmt.Fprintf(&b, "%016x", x)
	}
	return b.String()[:n]
}

// flipBit returns data with bit (0 to 7) of byte off flipped.
func flipBit(data []byte, off int, bit uint) []byte {
	d := bytes.Clone(data)
	d[off] ^= 1 << bit
	return d
}

// Every byte of a small log of several blocks, flipped: never an altered
// record, never damage read as a cut-off. The bit flipped varies with the
// offset, so that each field sees every bit position.
func TestFlipEveryByte(t *testing.T) {
	for _, open := range []bool{false, true} {
		l := writeDamageLog(t, damageSpec{batches: 4, flushEvery: 2, open: open})
		data, want := l.files[0], l.recs[0]
		for off := range data {
			if err := checkFlipped(flipBit(data, off, uint(off%8)), want, off); err != nil {
				t.Fatalf("open %v, %d-byte file, bit %d of byte %d flipped: %v", open, len(data), off%8, off, err)
			}
		}
	}
}

// Larger logs flipped at a stride, each bit position in turn: one over
// several files, one with a frame over several blocks.
func TestFlipAtAStride(t *testing.T) {
	for _, c := range []struct {
		name string
		spec damageSpec
		// stride is a prime, so that the flips fall on every kind of
		// field.
		stride int
	}{
		{"rotated", damageSpec{batches: 1000, flushEvery: 50, maxFileBytes: 16 << 10}, 211},
		{"large frame", damageSpec{batches: 20, flushEvery: 5, bigNoteBytes: 300 << 10}, 4001},
	} {
		name, stride := c.name, c.stride
		l := writeDamageLog(t, c.spec)
		if c.spec.bigNoteBytes > 0 && len(l.files[0]) < 2*c.spec.bigNoteBytes/3 {
			t.Fatalf("%s: the big note was compressed to less than a block: %d bytes", name, len(l.files[0]))
		}
		for i, data := range l.files {
			for off := i; off < len(data); off += stride {
				bit := uint(off/stride) % 8
				if err := checkFlipped(flipBit(data, off, bit), l.recs[i], off); err != nil {
					t.Fatalf("%s: file %d of %d bytes, bit %d of byte %d flipped: %v", name, i, len(data), bit, off, err)
				}
			}
		}
	}
}

// A file cut at every offset, closed or left by a killed writer, reads up
// to its cut with a warning; one with a frame over several blocks, cut at
// a stride.
func TestCutAnywhere(t *testing.T) {
	for _, open := range []bool{false, true} {
		l := writeDamageLog(t, damageSpec{batches: 4, flushEvery: 2, open: open})
		data, want := l.files[0], l.recs[0]
		for keep := range len(data) {
			if err := checkCut(data, want, keep, l.headerBytes); err != nil {
				t.Fatalf("open %v, %d-byte file cut to %d bytes: %v", open, len(data), keep, err)
			}
		}
	}
	l := writeDamageLog(t, damageSpec{batches: 20, flushEvery: 5, bigNoteBytes: 300 << 10})
	data, want := l.files[0], l.recs[0]
	for keep := 0; keep < len(data); keep += 4003 {
		if err := checkCut(data, want, keep, l.headerBytes); err != nil {
			t.Fatalf("large frame: %d-byte file cut to %d bytes: %v", len(data), keep, err)
		}
	}
}
