package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReopen(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	writeRecords(t, opts, 1, 100)
	if n := len(segmentPaths(t, m)); n < 3 {
		t.Fatalf("100 records in %d segments; the test wants several", n)
	}
	r, recs, err := reopen(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRecords(recs, 1, 100); err != nil {
		t.Fatal(err)
	}
	rec := r.Recovery()
	if rec.FirstIndex != 1 || rec.LastIndex != 100 || rec.TornTail != nil || rec.Segments != len(segmentPaths(t, m)) {
		t.Fatalf("Recovery %+v", rec)
	}
	if r.LastIndex() != 100 || r.DurableIndex() != 100 || r.FirstIndex() != 1 {
		t.Fatalf("indices %d %d %d", r.FirstIndex(), r.LastIndex(), r.DurableIndex())
	}
	mustClose(t, r)

	// Appends continue where the log ended.
	writeRecords(t, opts, 101, 150)
	r = mustReopen(t, opts, 1, 150)
	defer mustClose(t, r)
	from, err := collect(r.Records(120))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRecords(from, 120, 150); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyLog(t *testing.T) {
	m := newMemFS()
	r, recs, err := reopen(smallOptions(m))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 || r.FirstIndex() != 1 || r.LastIndex() != 0 || r.Recovery().Segments != 1 {
		t.Fatalf("new log: %d records, first %d, last %d, %+v", len(recs), r.FirstIndex(), r.LastIndex(), r.Recovery())
	}
	mustClose(t, r)
	r, recs, err = reopen(smallOptions(m))
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, r)
	if len(recs) != 0 {
		t.Fatalf("%d records", len(recs))
	}
}

// tornCases are the ways a crash leaves the last record: cut short in a
// file that grows as it is written, or in a preallocated file whose rest
// reads as zeros.
var tornCases = []struct {
	name string
	tear func(data []byte, at int) []byte
}{
	{"end of file", func(data []byte, at int) []byte { return data[:at] }},
	{"zeros", func(data []byte, at int) []byte {
		clear(data[at:])
		return data
	}},
}

// TestTornTailEveryOffset tears the last record at every byte: Open cuts
// it off with a report, keeps every record before it, and appends follow
// the last whole record.
func TestTornTailEveryOffset(t *testing.T) {
	for _, tc := range tornCases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemFS()
			opts := smallOptions(m)
			writeRecords(t, opts, 1, 20)
			paths := segmentPaths(t, m)
			last := paths[len(paths)-1]
			original := m.file(last)
			lastStart, lastEnd := recordSpan(t, original, 20)
			for at := lastStart; at < lastEnd; at++ {
				m.setFile(last, tc.tear(bytes.Clone(original), at))
				r, recs, err := reopen(opts)
				if err != nil {
					t.Fatalf("torn at %d: %v", at, err)
				}
				if err := checkRecords(recs, 1, 19); err != nil {
					t.Fatalf("torn at %d: %v", at, err)
				}
				torn := r.Recovery().TornTail
				if at == lastStart {
					if torn != nil {
						t.Fatalf("nothing written of the last record, but a torn tail %+v", torn)
					}
				} else if torn == nil || torn.Offset != int64(lastStart) || torn.Segment != filepath.Base(last) {
					t.Fatalf("torn at %d: TornTail %+v, want offset %d", at, torn, lastStart)
				}
				index, err := r.Append([]byte("after"))
				if err != nil || index != 20 {
					t.Fatalf("append after recovery: %d, %v", index, err)
				}
				if err := r.Sync(); err != nil {
					t.Fatal(err)
				}
				mustClose(t, r)
				r, recs, err = reopen(opts)
				if err != nil {
					t.Fatalf("torn at %d, reopened after an append: %v", at, err)
				}
				mustClose(t, r)
				if len(recs) != 20 || recs[19].Index != 20 || string(recs[19].Data) != "after" || r.Recovery().TornTail != nil {
					t.Fatalf("torn at %d: after an append, %d records, %+v", at, len(recs), r.Recovery())
				}
			}
		})
	}
}

// recordSpan returns where the record with index i starts and ends in a
// segment file.
func recordSpan(t testing.TB, segment []byte, i uint64) (int, int) {
	t.Helper()
	s := newSegmentReader("segment", bytes.NewReader(segment), int64(len(segment)))
	off := int64(segmentHeaderBytes)
	for {
		f, err := s.readFrame(off)
		if err != nil || f.status != frameOK {
			t.Fatalf("record %d not found (%v, %+v)", i, err, f)
		}
		if f.index == i {
			return int(off), int(f.next)
		}
		off = f.next
	}
}

// TestBitFlips flips one bit at every byte of a log of several segments.
// Each flip is detected as ErrCorrupt, or cuts a torn tail when it hits
// the last record, or lands where no record is (preallocated space); in
// no case does a record come back changed.
func TestBitFlips(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	const n = 40
	writeRecords(t, opts, 1, n)
	paths := segmentPaths(t, m)
	originals := make([][]byte, len(paths))
	for i, p := range paths {
		originals[i] = m.file(p)
	}
	lastStart, lastEnd := recordSpan(t, originals[len(paths)-1], n)
	var corrupt, torn, harmless int
	for seg, p := range paths {
		isLast := seg == len(paths)-1
		for at := range originals[seg] {
			flipped := bytes.Clone(originals[seg])
			flipped[at] ^= 1 << (at % 8)
			m.setFile(p, flipped)
			r, recs, err := reopen(opts)
			m.setFile(p, originals[seg])
			where := fmt.Sprintf("segment %d, byte %d", seg, at)
			if err != nil {
				wantErr(t, err, ErrCorrupt)
				if !strings.Contains(err.Error(), filepath.Base(p)) && !strings.Contains(err.Error(), "gap") {
					t.Fatalf("%s: the error does not name the segment: %v", where, err)
				}
				corrupt++
				continue
			}
			mustClose(t, r)
			switch {
			case checkRecords(recs, 1, n) == nil:
				harmless++
				if at < segmentHeaderBytes || (!isLast && at < lastDataEnd(originals[seg])) || (isLast && at < lastEnd) {
					t.Fatalf("%s: a flip in the data went unnoticed", where)
				}
			case isLast && at >= lastStart && at < lastEnd && checkRecords(recs, 1, n-1) == nil:
				torn++
			default:
				t.Fatalf("%s: the log opened with wrong records: %v", where, checkRecords(recs, 1, n))
			}
		}
	}
	t.Logf("%d flips detected as corruption, %d cut as a torn tail, %d in unused space", corrupt, torn, harmless)
	if corrupt == 0 || torn == 0 {
		t.Fatal("expected both kinds of outcome")
	}
}

// lastDataEnd returns the end of the last record of a segment file.
func lastDataEnd(segment []byte) int {
	s := newSegmentReader("segment", bytes.NewReader(segment), int64(len(segment)))
	off := int64(segmentHeaderBytes)
	for {
		f, err := s.readFrame(off)
		if err != nil || f.status != frameOK {
			return int(off)
		}
		off = f.next
	}
}

// TestCorruptionBeforeTheTail: damage followed by valid records is never
// mistaken for a torn tail, whether in an earlier segment or in the last.
func TestCorruptionBeforeTheTail(t *testing.T) {
	tests := []struct {
		name    string
		segment func(paths []string) string
		damage  func(data []byte, start, end int) // of the segment's second record
		want    string
	}{
		{"checksum in an earlier segment", first, flipAt(frameHeaderBytes), "checksum"},
		{"length in an earlier segment", first, func(d []byte, s, _ int) { d[s+5] ^= 0x40 }, ""},
		{"header zeroed in an earlier segment", first, func(d []byte, s, _ int) { clear(d[s : s+frameHeaderBytes]) }, "gap"},
		{"checksum in the last segment", last, flipAt(frameHeaderBytes), "follows at offset"},
		{"header zeroed in the last segment", last, func(d []byte, s, _ int) { clear(d[s : s+frameHeaderBytes]) }, "follows at offset"},
		{"record zeroed in the last segment", last, func(d []byte, s, e int) { clear(d[s:e]) }, "follows at offset"},
		{"index changed, checksum fixed", first, func(d []byte, s, e int) {
			binary.LittleEndian.PutUint64(d[s+8:], 999)
			binary.LittleEndian.PutUint32(d[s:], frameChecksum(d[s:e]))
		}, "record index 999, want 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemFS()
			opts := smallOptions(m)
			writeRecords(t, opts, 1, 40)
			p := tt.segment(segmentPaths(t, m))
			data := m.file(p)
			h, _ := parseSegmentHeader(data)
			if lastDataEnd(data) == func() int { _, e := recordSpan(t, data, h.firstIndex+1); return e }() {
				t.Fatal("the segment has only two records; the test wants more")
			}
			start, end := recordSpan(t, data, h.firstIndex+1)
			tt.damage(data, start, end)
			m.setFile(p, data)
			before := m.clone()
			_, _, err := reopen(opts)
			wantErr(t, err, ErrCorrupt)
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if tt.want != "gap" && !strings.Contains(err.Error(), filepath.Base(p)) {
				t.Fatalf("error %q does not name segment %s", err, filepath.Base(p))
			}
			if !sameFiles(before, m) {
				t.Fatal("Open changed a corrupt log")
			}
		})
	}
}

func first(paths []string) string { return paths[0] }
func last(paths []string) string  { return paths[len(paths)-1] }

func flipAt(rel int) func(d []byte, s, e int) {
	return func(d []byte, s, _ int) { d[s+rel] ^= 1 }
}

// sameFiles reports whether two memFSs hold the same files, locks aside.
func sameFiles(a, b *memFS) bool {
	a, b = a.clone(), b.clone()
	if len(a.files) != len(b.files) {
		return false
	}
	for name := range a.files {
		if _, ok := b.files[name]; !ok || !bytes.Equal(a.file(name), b.file(name)) {
			return false
		}
	}
	return true
}

// TestBadDirectories: what is not a log, or not one log, is an error, and
// Open deletes nothing of it.
func TestBadDirectories(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, m *memFS)
		want  error
		text  string
	}{
		{"other files", func(t *testing.T, m *memFS) {
			m.setFile(testDir+"/notes.txt", []byte("mine"))
			m.setFile(testDir+"/0000000000000001.wal.tmp", []byte("not ours either"))
		}, ErrNotLog, "notes.txt"},
		{"a gap: a segment removed", func(t *testing.T, m *memFS) {
			writeRecords(t, smallOptions(m), 1, 60)
			paths := segmentPaths(t, m)
			if err := m.Remove(paths[1]); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt, "gap"},
		{"a segment of another log", func(t *testing.T, m *memFS) {
			other := newMemFS()
			writeRecords(t, smallOptions(other), 1, 60)
			writeRecords(t, smallOptions(m), 1, 60)
			p := segmentPaths(t, m)[1]
			m.setFile(p, other.file(p))
		}, ErrCorrupt, "segment of log"},
		{"a segment renamed", func(t *testing.T, m *memFS) {
			writeRecords(t, smallOptions(m), 1, 10)
			p := segmentPaths(t, m)[0]
			m.setFile(filepath.Join(testDir, segmentName(5)), m.file(p))
			if err := m.Remove(p); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt, "header says first index 1, the name 5"},
		{"a segment shorter than its header", func(t *testing.T, m *memFS) {
			writeRecords(t, smallOptions(m), 1, 10)
			m.setFile(filepath.Join(testDir, segmentName(11)), []byte("MIR-WAL\n"))
		}, ErrCorrupt, "shorter than a segment header"},
		{"not a segment", func(t *testing.T, m *memFS) {
			m.setFile(filepath.Join(testDir, segmentName(1)), bytes.Repeat([]byte("text "), 100))
		}, ErrCorrupt, "no segment magic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemFS()
			tt.setup(t, m)
			before := m.clone()
			_, _, err := reopen(smallOptions(m))
			wantErr(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error %q does not contain %q", err, tt.text)
			}
			if !sameFiles(before, m) {
				t.Fatal("Open changed the directory")
			}
			// The lock was released: the next Open fails the same way.
			_, _, err = reopen(smallOptions(m))
			wantErr(t, err, tt.want)
		})
	}
}

// TestInterruptedSegmentCreation: a crash while a segment was created
// leaves a temporary file, which Open removes, or an empty last segment,
// which Open keeps and appends to.
func TestInterruptedSegmentCreation(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	writeRecords(t, opts, 1, 30)
	paths := segmentPaths(t, m)
	header := appendSegmentHeader(nil, segmentHeader{logID: 1, firstIndex: 31})
	m.setFile(filepath.Join(testDir, segmentName(31)+tempSuffix), header)
	r, recs, err := reopen(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRecords(recs, 1, 30); err != nil {
		t.Fatal(err)
	}
	if r.Recovery().TempFilesRemoved != 1 || len(segmentPaths(t, m)) != len(paths) {
		t.Fatalf("Recovery %+v", r.Recovery())
	}
	mustClose(t, r)

	// A crash right after a roll: the new segment has no record.
	r, _, err = reopen(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.roll(); err != nil {
		t.Fatal(err)
	}
	mustClose(t, r)
	if len(segmentPaths(t, m)) != len(paths)+1 {
		t.Fatal("roll made no segment")
	}
	writeRecords(t, opts, 31, 35)
	mustRecover(t, opts, 1, 35)
}

// TestGarbageAfterTheTail: bytes after the last record that hold no whole
// record (a torn write whose later pages reached the disk) are cut off.
func TestGarbageAfterTheTail(t *testing.T) {
	m := newMemFS()
	opts := smallOptions(m)
	writeRecords(t, opts, 1, 5)
	p := segmentPaths(t, m)[0]
	data := m.file(p)
	end := lastDataEnd(data)
	for i := end + 100; i < end+200; i++ {
		data[i] = byte(i)
	}
	m.setFile(p, data)
	r := mustReopen(t, opts, 1, 5)
	defer mustClose(t, r)
	torn := r.Recovery().TornTail
	if torn == nil || torn.Offset != int64(end) || torn.Bytes != 200 || !strings.Contains(torn.Reason, "zeros") {
		t.Fatalf("TornTail %+v", torn)
	}
	if !allZero(m.file(p)[end:]) {
		t.Fatal("the garbage is still there")
	}
}

// TestNotADirectory: a path that is a file is an error, and the file is
// left as it was.
func TestNotADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{SegmentBytes: 1 << 20}); err == nil {
		t.Fatal("opened a file as a log")
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "mine" {
		t.Fatalf("the file changed: %q, %v", data, err)
	}
}
