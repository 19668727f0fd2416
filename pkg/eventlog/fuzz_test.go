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

// FuzzStreamReader feeds whole files: magic, zstd stream, frames.
func FuzzStreamReader(f *testing.F) {
	data := seedLog(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("MIRLOG\x00\x01"))
	f.Fuzz(readFuzzed)
}
