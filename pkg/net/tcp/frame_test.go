package tcp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// testReader returns a frame reader over data with a read buffer of
// bufSize bytes and frames of at most maxBody bytes.
func testReader(t testing.TB, data []byte, bufSize, maxBody int) *frameReader {
	t.Helper()
	dec, err := codec.NewDecoder(codec.Limits{MaxBytes: maxBody})
	if err != nil {
		t.Fatal(err)
	}
	return newFrameReader(bufio.NewReaderSize(bytes.NewReader(data), bufSize), maxBody, dec)
}

// frames returns the frames of msgs, for module "app", back to back.
func frames(t testing.TB, msgs ...stdtypes.Message) []byte {
	t.Helper()
	return framesFor(t, "app", msgs...)
}

// framesFor returns the frames of msgs, for module dest, back to back.
func framesFor(t testing.TB, dest stdtypes.ModuleID, msgs ...stdtypes.Message) []byte {
	t.Helper()
	var a frameArena
	var out []byte
	for _, m := range msgs {
		f, err := a.frame(dest, m, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f.b...)
	}
	return out
}

func TestFrameRoundTrip(t *testing.T) {
	msgs := []stdtypes.Message{
		&note{N: 1},
		&blobNote{Data: bytes.Repeat([]byte{7}, 100<<10)}, // Larger than the read buffer.
		&note{N: 2},
		&blobNote{Data: []byte("small")},
	}
	data := frames(t, msgs...)
	for _, bufSize := range []int{16, 4096, 64 << 10} {
		r := testReader(t, data, bufSize, 1<<20)
		for i, want := range msgs {
			dest, msg, n, err := r.next()
			if err != nil {
				t.Fatalf("buffer %d, frame %d: %v", bufSize, i, err)
			}
			if dest != "app" || n == 0 {
				t.Errorf("buffer %d, frame %d: dest %q, size %d", bufSize, i, dest, n)
			}
			switch w := want.(type) {
			case *note:
				if got, ok := msg.(*note); !ok || got.N != w.N {
					t.Errorf("frame %d: got %#v, want %#v", i, msg, want)
				}
			case *blobNote:
				if got, ok := msg.(*blobNote); !ok || !bytes.Equal(got.Data, w.Data) {
					t.Errorf("frame %d: got a different blob", i)
				}
			}
		}
		if _, _, _, err := r.next(); err != io.EOF {
			t.Errorf("after the last frame: %v, want io.EOF", err)
		}
	}
}

func TestFrameArena(t *testing.T) {
	var a frameArena
	f1, _ := a.frame("app", &note{N: 1}, 1<<20)
	f2, _ := a.frame("app", &note{N: 2}, 1<<20)
	if cap(f1.b) != len(f1.b) {
		t.Error("a frame has spare capacity: appending to it would overwrite the next")
	}
	if unsafe.Add(unsafe.Pointer(unsafe.SliceData(f1.b)), len(f1.b)) != unsafe.Pointer(unsafe.SliceData(f2.b)) {
		t.Error("small frames do not share a chunk")
	}
	if _, err := a.frame("app", &blobNote{Data: make([]byte, 100)}, 50); !errors.Is(err, errFrameTooLarge) {
		t.Errorf("frame above the maximum: %v, want errFrameTooLarge", err)
	}
	if _, err := a.frame(stdtypes.ModuleID(strings.Repeat("a", maxDestBytes+1)), &note{}, 1<<20); !errors.Is(err, errFrameTooLarge) {
		t.Errorf("long destination: %v, want errFrameTooLarge", err)
	}
	if _, err := a.frame("app", &struct{ stdtypes.MessageBase }{}, 1<<20); !errors.Is(err, codec.ErrUnknownType) {
		t.Errorf("unregistered message: %v, want ErrUnknownType", err)
	}
	// The frames made before the errors are intact.
	r := testReader(t, append(append([]byte{}, f1.b...), f2.b...), 4096, 1<<20)
	for want := 1; want <= 2; want++ {
		if _, msg, _, err := r.next(); err != nil || msg.(*note).N != want {
			t.Fatalf("frame %d: %v, %v", want, msg, err)
		}
	}
}

// TestFrameClaimsAllocateNothing: a header claiming the largest frame,
// followed by a few bytes, makes the reader allocate about what arrived,
// not what was claimed.
func TestFrameClaimsAllocateNothing(t *testing.T) {
	const maxBody = 64 << 20
	data := append(binary.BigEndian.AppendUint32(nil, maxBody), make([]byte, 1000)...)
	r := testReader(t, data, 4096, maxBody)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, _, err := r.next()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("next = %v, want ErrTruncated", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("reading a truncated frame claiming %d bytes allocated %d bytes", maxBody, alloc)
	}
}

func TestFrameErrors(t *testing.T) {
	valid := frames(t, &note{N: 1})
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty stream", nil, io.EOF},
		{"4 GiB", []byte{0xff, 0xff, 0xff, 0xff}, ErrFrameTooLarge},
		{"above the maximum", binary.BigEndian.AppendUint32(nil, 1<<10+1), ErrFrameTooLarge},
		{"partial header", []byte{0, 0, 1}, ErrTruncated},
		{"partial body", valid[:len(valid)-1], ErrTruncated},
		{"empty body", []byte{0, 0, 0, 0}, ErrBadFrame},
		{"destination length beyond the body", []byte{0, 0, 0, 2, 9, 'a'}, ErrBadFrame},
		{"overlong varint", []byte{0, 0, 0, 11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, ErrBadFrame},
		{"bad destination", []byte{0, 0, 0, 3, 2, '/', 'a'}, ErrBadFrame},
		{"no message", []byte{0, 0, 0, 4, 3, 'a', 'p', 'p'}, ErrBadFrame},
		{"garbage message", []byte{0, 0, 0, 5, 3, 'a', 'p', 'p', 0xff}, ErrBadFrame},
	}
	for _, c := range cases {
		r := testReader(t, c.data, 16, 1<<10)
		if _, _, _, err := r.next(); !errors.Is(err, c.want) {
			t.Errorf("%s: next = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestFrameBuffered(t *testing.T) {
	data := frames(t, &note{N: 1}, &note{N: 2})
	br := bufio.NewReaderSize(bytes.NewReader(data), 4096)
	r := newFrameReader(br, 1<<10, mustDecoder(t))
	if r.buffered() {
		t.Error("buffered before anything was read")
	}
	if _, _, _, err := r.next(); err != nil {
		t.Fatal(err)
	}
	if !r.buffered() {
		t.Error("the second frame was read with the first but is not reported buffered")
	}
	r.next()
	if r.buffered() {
		t.Error("buffered at the end of the stream")
	}
}

func mustDecoder(t testing.TB) *codec.Decoder {
	d, err := codec.NewDecoder(codec.Limits{MaxBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// FuzzFrameDecoder reads arbitrary bytes as a stream of frames. Whatever
// they are, the reader returns frames or one of its errors, never panics,
// and every frame it returns can be sent again.
func FuzzFrameDecoder(f *testing.F) {
	f.Add(frames(f, &note{N: 1}, &blobNote{Data: []byte("hi")}))
	f.Add(frames(f, &blobNote{Data: make([]byte, 300)})) // Longer than the fuzz read buffer.
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 5, 3, 'a', 'p', 'p', 0xf6})
	f.Add([]byte{0, 0, 0, 2, 0})
	// A frame for a module that takes no messages (the timer): the reader
	// returns it like any other; the node drops it (FuzzNodeFrames).
	f.Add(framesFor(f, "timer", &note{N: 1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxBody = 1 << 12
		r := testReader(t, data, 64, maxBody)
		var a frameArena
		for range 1000 {
			dest, msg, n, err := r.next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFrameTooLarge) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrBadFrame) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if n < frameHeaderBytes || n > frameHeaderBytes+maxBody {
				t.Fatalf("frame of %d bytes", n)
			}
			if err := dest.Validate(); err != nil {
				t.Fatalf("invalid destination %q accepted", dest)
			}
			f, err := a.frame(dest, msg, 2*maxBody)
			if err != nil {
				t.Fatalf("a decoded message cannot be sent again: %v", err)
			}
			r2 := testReader(t, f.b, 64, 2*maxBody)
			if dest2, _, _, err := r2.next(); err != nil || dest2 != dest {
				t.Fatalf("re-encoded frame reads as %q, %v", dest2, err)
			}
		}
	})
}

// TestFrameArenaLarge: after a large frame, the next is made in a pooled
// buffer, which goes back to the pool once released by every holder.
func TestFrameArenaLarge(t *testing.T) {
	var a frameArena
	large := func(b byte) *blobNote { return &blobNote{Data: bytes.Repeat([]byte{b}, 100<<10)} }
	f1, err := a.frame("app", large(1), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if f1.big != nil {
		t.Error("the first large frame came from the pool; nothing predicted it")
	}
	f2, _ := a.frame("app", large(2), 1<<20)
	if f2.big == nil {
		t.Fatal("the second large frame in a row is not pooled")
	}
	f2.acquire() // A queue takes it.
	f2.release() // Its maker is done.
	if f2.big.refs.Load() != 1 {
		t.Errorf("%d references, want 1", f2.big.refs.Load())
	}
	small, _ := a.frame("app", &note{N: 3}, 1<<20)
	if small.big != nil {
		t.Error("a small frame holds a pooled buffer")
	}
	// Every frame reads back as it was made, even after another frame
	// reused a released buffer.
	want := append(append(append([]byte{}, f1.b...), f2.b...), small.b...)
	f2.release()
	f3, _ := a.frame("app", large(4), 1<<20) // Small before: not pooled.
	f4, _ := a.frame("app", large(5), 1<<20)
	f3.release()
	f4.release()
	r := testReader(t, want, 4096, 1<<20)
	for _, wantByte := range []byte{1, 2} {
		_, msg, _, err := r.next()
		if err != nil || msg.(*blobNote).Data[0] != wantByte {
			t.Fatalf("large frame %d: %v", wantByte, err)
		}
	}
}
