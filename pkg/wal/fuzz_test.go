package wal

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// segmentSeparator splits FuzzOpen's input into segment files.
var segmentSeparator = []byte("|SEG|")

// fuzzLog returns the segment files of a log of n records in small
// segments, joined by segmentSeparator.
func fuzzLog(f *testing.F, n uint64) []byte {
	m := newMemFS()
	opts := Options{SegmentBytes: minSegmentBytes, MaxRecordBytes: 512, FS: m}
	writeRecords(f, opts, 1, n)
	var files [][]byte
	for _, p := range segmentPaths(f, m) {
		data := m.file(p)
		files = append(files, data[:lastDataEnd(data)+8]) // a few zeros of the preallocation
	}
	return bytes.Join(files, segmentSeparator)
}

// FuzzSegmentReader reads arbitrary bytes as a segment file: the reader
// never panics, never allocates more than the file's size, and every
// record it accepts is one the writer would write.
func FuzzSegmentReader(f *testing.F) {
	seed := fuzzLog(f, 12)
	first, _, _ := bytes.Cut(seed, segmentSeparator)
	f.Add(first)
	f.Add(first[:len(first)-20])
	f.Add(appendFrame(appendSegmentHeader(nil, segmentHeader{1, 1}), 1, []byte("x")))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newSegmentReader("fuzz", bytes.NewReader(data), int64(len(data)))
		_, _ = s.header()
		off := int64(segmentHeaderBytes)
		for off < int64(len(data)) {
			fr, err := s.readFrame(off)
			if err != nil {
				t.Fatal(err) // a bytes.Reader of the right size never fails
			}
			if fr.status != frameOK {
				break
			}
			if got := appendFrame(nil, fr.index, fr.payload); !bytes.Equal(got, data[off:fr.next]) {
				t.Fatalf("accepted a frame the writer would not write at offset %d", off)
			}
			off = fr.next
		}
		end, err := s.nonZeroEnd(min(off, int64(len(data))))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.findFrame(min(off, int64(len(data))), end, 0); err != nil {
			t.Fatal(err)
		}
		if cap(s.buf) > len(data) {
			t.Fatalf("allocated %d bytes for a file of %d", cap(s.buf), len(data))
		}
	})
}

// FuzzOpen opens a directory of arbitrary segment files (the input split
// at segmentSeparator, each named after the first index its header
// claims, if any): Open never panics; it fails with ErrCorrupt, or it
// succeeds with a log whose records are contiguous, which opens again the
// same, and which appends where it ended.
func FuzzOpen(f *testing.F) {
	seed := fuzzLog(f, 30)
	f.Add(seed)
	f.Add(seed[:len(seed)-30])
	flipped := bytes.Clone(seed)
	flipped[len(flipped)/2] ^= 4
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		m := newMemFS()
		opts := Options{SegmentBytes: minSegmentBytes, MaxRecordBytes: 512, FS: m}
		for i, file := range bytes.Split(data, segmentSeparator) {
			name := segmentName(uint64(i) + 1)
			if h, err := parseSegmentHeader(file); err == nil {
				name = segmentName(h.firstIndex)
			}
			m.setFile(filepath.Join(testDir, name), file)
		}
		r, recs, err := reopen(opts)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		first, last := r.FirstIndex(), r.LastIndex()
		if err := contiguous(recs, first, last); err != nil {
			t.Fatal(err)
		}
		index, err := r.Append([]byte("new"))
		if err != nil || index != last+1 {
			t.Fatalf("append: %d, %v; want %d", index, err, last+1)
		}
		if err := r.Sync(); err != nil {
			t.Fatal(err)
		}
		mustClose(t, r)
		r, again, err := reopen(opts)
		if err != nil {
			t.Fatalf("reopened: %v", err)
		}
		mustClose(t, r)
		if r.Recovery().TornTail != nil || r.FirstIndex() != first || r.LastIndex() != last+1 {
			t.Fatalf("reopened: %+v", r.Recovery())
		}
		if err := contiguous(again, first, last+1); err != nil {
			t.Fatal(err)
		}
		for k := range recs {
			if !bytes.Equal(recs[k].Data, again[k].Data) {
				t.Fatalf("record %d changed", recs[k].Index)
			}
		}
	})
}

// contiguous checks that recs are the records first..last.
func contiguous(recs []Record, first, last uint64) error {
	if uint64(len(recs)) != last+1-first {
		return fmt.Errorf("%d records from %d to %d", len(recs), first, last)
	}
	for k, rec := range recs {
		if rec.Index != first+uint64(k) {
			return fmt.Errorf("record %d has index %d", k, rec.Index)
		}
	}
	return nil
}
