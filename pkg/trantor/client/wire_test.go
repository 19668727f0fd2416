package client

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		kind     byte
		clientID string
		txNo     uint64
		payload  []byte
	}{
		{kindSubmit, "a", 0, nil},
		{kindSubmit, "client-7", 1 << 63, []byte("payload")},
		{kindReply, string(bytes.Repeat([]byte("é"), MaxClientIDBytes/2)), 300, make([]byte, 70_000)},
	} {
		b := appendFrame([]byte("prefix"), tc.kind, tc.clientID, tc.txNo, tc.payload)[len("prefix"):]
		if len(b) != frameBytes(tc.clientID, tc.txNo, tc.payload) {
			t.Errorf("frame of %d bytes, frameBytes says %d", len(b), frameBytes(tc.clientID, tc.txNo, tc.payload))
		}
		body, err := readFrame(bufio.NewReader(bytes.NewReader(b)), nil, len(b))
		if err != nil {
			t.Fatal(err)
		}
		f, err := decodeFrame(body, tc.kind)
		if err != nil {
			t.Fatal(err)
		}
		if string(f.clientID) != tc.clientID || f.txNo != tc.txNo || !bytes.Equal(f.payload, tc.payload) {
			t.Errorf("decoded %q %d %d bytes, want %q %d %d bytes", f.clientID, f.txNo, len(f.payload), tc.clientID, tc.txNo, len(tc.payload))
		}
		if _, err := decodeFrame(body, 3-tc.kind); !errors.Is(err, ErrBadFrame) {
			t.Errorf("decoded as the other kind: %v", err)
		}
	}
}

func TestReadFrameErrors(t *testing.T) {
	valid := appendFrame(nil, kindSubmit, "c", 1, []byte("data"))
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"short header", valid[:2], ErrTruncated},
		{"short body", valid[:len(valid)-1], ErrTruncated},
		{"too large", []byte{0xff, 0xff, 0xff, 0xff}, ErrFrameTooLarge},
	} {
		_, err := readFrame(bufio.NewReader(bytes.NewReader(tc.in)), nil, 1<<20)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// FuzzDecodeFrame feeds the frame reader and decoder arbitrary bytes: they
// never panic, never return a body over the limit, and every frame they
// accept encodes back to the same bytes (one encoding per frame).
func FuzzDecodeFrame(f *testing.F) {
	f.Add(appendFrame(nil, kindSubmit, "client", 5, []byte("tx")))
	f.Add(appendFrame(nil, kindReply, "client", 1<<40, nil))
	f.Add([]byte{0, 0, 0, 6, 1, 1, 1, 'a', 0x80, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 1})
	const maxBody = 1 << 12
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReader(bytes.NewReader(in))
		var buf []byte
		for {
			body, err := readFrame(br, buf, maxBody)
			if err != nil {
				return
			}
			if len(body) > maxBody {
				t.Fatalf("body of %d bytes, limit %d", len(body), maxBody)
			}
			buf = body
			for _, kind := range []byte{kindSubmit, kindReply} {
				fr, err := decodeFrame(body, kind)
				if err != nil {
					continue
				}
				again := appendFrame(nil, kind, string(fr.clientID), fr.txNo, fr.payload)
				if !bytes.Equal(again[frameHeaderBytes:], body) {
					t.Fatalf("body %x re-encodes as %x", body, again[frameHeaderBytes:])
				}
			}
		}
	})
}

// TestFrameBuffered: frameBuffered says whether a whole frame is
// buffered, without reading more from the connection.
func TestFrameBuffered(t *testing.T) {
	frame := appendFrame(nil, kindSubmit, "c", 1, []byte("payload"))
	for _, n := range []int{0, 1, 3, 4, len(frame) - 1, len(frame)} {
		br := bufio.NewReader(&stallReader{data: frame[:n]})
		if n > 0 {
			br.Peek(1) // Buffers the n bytes.
		}
		if got := frameBuffered(br); got != (n == len(frame)) {
			t.Errorf("%d of %d bytes: frameBuffered %v", n, len(frame), got)
		}
	}
}

// stallReader returns its data, then fails the test's way: a read past
// it would block on a connection.
type stallReader struct{ data []byte }

func (r *stallReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		panic("read past the buffered bytes")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}
