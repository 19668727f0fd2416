package eventlog_test

import "testing"

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
