package eventlog_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/mirframework/mir/pkg/eventlog"
)

// readFuzzed reads everything from a stream log in data; it must never
// panic, whatever data holds, and must end (with io.EOF or an error).
func readFuzzed(t *testing.T, data []byte) {
	r, err := eventlog.NewStreamReader("fuzz", bytes.NewReader(data))
	if err != nil {
		return
	}
	defer r.Close()
	for range 1 << 20 {
		rec, err := r.Next()
		if err != nil {
			return
		}
		// Decoding is the codec's business (fuzzed there), but it must
		// not panic on what the reader hands it either.
		_, _ = rec.Decode()
	}
	t.Fatal("a small input yielded over a million records")
}

// seedLog returns the bytes of a small valid log.
func seedLog(f *testing.F) []byte {
	data, err := os.ReadFile(writeLog(f, 20))
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzStreamReader feeds whole files: magic, blocks, zstd stream, frames.
func FuzzStreamReader(f *testing.F) {
	data := seedLog(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("MIRLOG\x00\x02"))
	f.Add(append([]byte("MIRLOG\x00\x01"), data[8:]...)) // format 1: refused
	// A log of several blocks, flipped and cut in its block headers, its
	// header's block, and later blocks.
	f.Add(writeDamageLog(f, damageSpec{batches: 6, flushEvery: 2, blobs: true}).files[0])
	l := writeDamageLog(f, damageSpec{batches: 4, flushEvery: 2})
	blocky := l.files[0]
	f.Add(blocky)
	for _, off := range []int{8, 11, 15, 19, 30, l.headerBytes, l.headerBytes + 6, l.headerBytes + 14, len(blocky) / 2, len(blocky) - 3} {
		f.Add(flipBit(blocky, off, uint(off%8)))
		f.Add(blocky[:off])
	}
	f.Fuzz(readFuzzed)
}

// FuzzStreamDamage flips one bit of a real log, or cuts it, where the
// fuzzer says, and checks what TestFlipEveryByte and TestCutAnywhere
// check: never an altered record, damage never read as a cut-off, a
// cut-off never read as damage. The logs: one closed and one left open by
// a killed writer, of several blocks each, one with a frame over several
// blocks, and one whose entries refer to byte strings.
func FuzzStreamDamage(f *testing.F) {
	logs := []damageLog{
		writeDamageLog(f, damageSpec{batches: 4, flushEvery: 2}),
		writeDamageLog(f, damageSpec{batches: 4, flushEvery: 2, open: true}),
		writeDamageLog(f, damageSpec{batches: 20, flushEvery: 5, bigNoteBytes: 300 << 10}),
		writeDamageLog(f, damageSpec{batches: 6, flushEvery: 2, blobs: true}),
	}
	for which := range logs {
		for _, off := range []uint32{0, 8, 12, 20, 100, 300, 600, 900, 200_000, 400_000} {
			f.Add(uint8(which), false, off, uint8(off))
			f.Add(uint8(which), true, off, uint8(0))
		}
		// The version in the magic flipped to the other version read
		// (3 to 2): damage, found by the fuzzer.
		f.Add(uint8(which), false, uint32(magicBytes-1), uint8(0))
	}
	f.Fuzz(func(t *testing.T, which uint8, cut bool, off uint32, bit uint8) {
		l := logs[int(which)%len(logs)]
		data, want := l.files[0], l.recs[0]
		at := int(off % uint32(len(data)))
		var err error
		if cut {
			err = checkCut(data, want, at, l.headerBytes)
		} else {
			err = checkFlipped(flipBit(data, at, uint(bit%8)), want, at)
		}
		if err != nil {
			t.Fatalf("log %d of %d bytes, cut %v at %d (bit %d): %v", int(which)%len(logs), len(data), cut, at, bit%8, err)
		}
	})
}
