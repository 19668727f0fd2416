package eventlog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// frame renders one frame of the stream format.
func frame(kind byte, payload []byte) []byte {
	b := []byte{kind}
	b = binary.AppendUvarint(b, uint64(len(payload)))
	return append(b, payload...)
}

// FuzzStreamFrames feeds the frame parser decompressed content directly,
// so that the fuzzer explores frames rather than the decompressor's checks
// (FuzzStreamReader covers whole files).
func FuzzStreamFrames(f *testing.F) {
	header, err := json.Marshal(StreamHeader{Format: StreamFormatVersion, Node: "n"})
	if err != nil {
		f.Fatal(err)
	}
	var batch []byte
	batch = binary.AppendUvarint(batch, 0)  // number
	batch = binary.AppendVarint(batch, 1e9) // time
	batch = binary.AppendUvarint(batch, 2)  // count
	for i := range 2 {
		batch = binary.AppendUvarint(batch, uint64(i)) // seq, then delta
		batch = append(batch, flagInput, 0, 1, 'a', 2, 0xf6, 0xf6)
	}
	valid := bytes.Join([][]byte{
		frame(frameHeader, header),
		frame(frameType, append([]byte{0}, "x.T"...)),
		frame(frameBatch, batch),
		frame(frameGap, []byte{3}),
		frame(frameEnd, []byte{2}),
	}, nil)
	f.Add(valid)
	f.Add(valid[:len(valid)-4])
	// Format 3, an entry with segments: a definition and references to
	// it, one of them to a string that is not there.
	def := append([]byte{0, refOpDefine, refMinBytes}, bytes.Repeat([]byte{7}, refMinBytes)...)
	for _, seg := range [][]byte{
		bytes.Join([][]byte{def, {0, refOpFirst, 0, refOpEnd}}, nil),
		bytes.Join([][]byte{def, {0, refOpFirst + 1, 0, refOpEnd}}, nil),
	} {
		f.Add(refsFile(f, StreamFormatVersion, 1<<10, flagRefs, seg))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newFrameReader("fuzz", bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		for range 1 << 20 {
			rec, err := r.Next()
			if err != nil {
				return
			}
			_, _ = rec.Decode()
		}
		t.Fatal("a small input yielded over a million records")
	})
}
