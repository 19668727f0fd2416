package eventlog_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

// A file whose entries refer to byte strings, cut at every offset (as a
// reader of a file being written sees it, or a crash leaves it), reads up
// to its cut with a warning: no reference resolves to another string.
func TestCutAnywhereWithRefs(t *testing.T) {
	for _, open := range []bool{false, true} {
		l := writeDamageLog(t, damageSpec{batches: 6, flushEvery: 2, open: open, blobs: true})
		data, want := l.files[0], l.recs[0]
		for keep := range len(data) {
			if err := checkCut(data, want, keep, l.headerBytes); err != nil {
				t.Fatalf("open %v, %d-byte file cut to %d bytes: %v", open, len(data), keep, err)
			}
		}
	}
}

// Two sinks writing the same directory, interleaved and rotating, of two
// nodes or of one: each file holds one sink's events and reads alone;
// where the second sink of a node took the file name the first rotates
// to, the first fails loudly rather than writing into the other's file.
func TestTwoSinksOneDirectory(t *testing.T) {
	for _, nodes := range [][2]stdtypes.NodeID{{"a", "b"}, {"n", "n"}} {
		dir := t.TempDir()
		var sinks [2]*eventlog.StreamSink
		var batches [2][]eventlog.Batch
		failed := [2]bool{}
		for i := range sinks {
			var err error
			if sinks[i], err = eventlog.NewStreamSink(dir, nodes[i], eventlog.StreamOptions{MaxFileSize: 8 << 10, RefWindowBytes: 4096}); err != nil {
				t.Fatal(err)
			}
			batches[i] = blobBatches(100, uint64(i+1))
		}
		for k := range 100 {
			for i, s := range sinks {
				if failed[i] {
					continue
				}
				if err := s.WriteBatch(&batches[i][k]); err != nil {
					if nodes[0] != nodes[1] {
						t.Fatalf("nodes %v, sink %d: %v", nodes, i, err)
					}
					failed[i] = true
				}
			}
		}
		for i, s := range sinks {
			if err := s.Close(); err != nil && !failed[i] {
				t.Fatal(err)
			}
			first := 0
			for _, path := range s.Files() {
				r, err := eventlog.OpenStream(path)
				if err != nil {
					if failed[i] {
						continue // The file it failed to create: the other sink's.
					}
					t.Fatal(err)
				}
				recs := readAll(t, r)
				_ = r.Close()
				if len(recs) == 0 {
					continue
				}
				if recs[0].Seq != uint64(4*first) || recs[0].Node != nodes[i] {
					t.Fatalf("nodes %v, sink %d, %s: records from %d of %s, want from %d", nodes, i, path, recs[0].Seq, recs[0].Node, 4*first)
				}
				checkRecords(t, recs, batches[i], first)
				first += len(recs) / 4
			}
			if !failed[i] && first != len(batches[i]) {
				t.Fatalf("nodes %v, sink %d: files hold %d batches of %d", nodes, i, first, len(batches[i]))
			}
		}
		t.Logf("nodes %v: failed %v", nodes, failed)
	}
}
