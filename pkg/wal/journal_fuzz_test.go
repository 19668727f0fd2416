package wal

import (
	"bytes"
	"iter"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// recordSeparator splits FuzzRecovery's input into records.
var recordSeparator = []byte("|REC|")

// fuzzRecords returns the records of a log, as FuzzRecovery takes them.
func fuzzRecords(f *testing.F, recs ...record) []byte {
	var out [][]byte
	for _, r := range recs {
		data, err := codec.Marshal(&r)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return bytes.Join(out, recordSeparator)
}

// FuzzRecovery hands the WAL module's recovery arbitrary records, as a
// log that checks (its checksums match) but that this module may not have
// written: it never panics, and every event it hands back has a valid
// destination and was in an Append its owner did not truncate.
func FuzzRecovery(f *testing.F) {
	f.Add(fuzzRecords(f,
		record{Event: newNote("a", "x"), RetentionIndex: 1},
		record{Event: newNote("b/c", "y"), RetentionIndex: 2},
		record{Owner: "a", RetentionIndex: 2},
		record{Event: newNote("a", "z"), RetentionIndex: 2}))
	f.Add(fuzzRecords(f, record{Owner: "a/b", RetentionIndex: 1}))
	f.Add([]byte("not cbor"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parts := bytes.Split(data, recordSeparator)
		records := func(yield func(Record, error) bool) {
			for i, p := range parts {
				if !yield(Record{Index: uint64(i + 1), Data: p}, nil) {
					return
				}
			}
		}
		j := newJournal()
		if err := j.open(iter.Seq2[Record, error](records), uint64(len(parts)), DefaultMaxRecordBytes); err != nil {
			return
		}
		for _, ev := range j.takeRecovered() {
			if err := ev.Dest().Validate(); err != nil {
				t.Fatalf("handed back %s with destination %q", stdtypes.TypeName(ev), ev.Dest())
			}
			if o := j.owners[ev.Dest().Top()]; o == nil || len(o.first) == 0 {
				t.Fatalf("handed back %s, but its owner has no live record", stdtypes.TypeName(ev))
			}
		}
		if first := j.firstLive(); first < 1 || first > uint64(len(parts))+1 {
			t.Fatalf("first live record %d of %d", first, len(parts))
		}
	})
}
