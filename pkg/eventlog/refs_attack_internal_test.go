package eventlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// modelWindow is the window as a slice of every definition with where it
// was placed: a string is live if no later one overlaps it or anything
// newer than it.
type modelWindow struct {
	size       int
	defs       [][]byte
	off        []int
	oldest     int
	nextOffset int
}

func (m *modelWindow) add(b []byte) {
	off := m.nextOffset
	if off+len(b) > m.size {
		off = 0
	}
	for j := m.oldest; j < len(m.defs); j++ {
		if m.off[j] < off+len(b) && off < m.off[j]+len(m.defs[j]) {
			m.oldest = j + 1
		}
	}
	m.defs, m.off = append(m.defs, b), append(m.off, off)
	m.nextOffset = off + len(b)
}

func checkAgainstModel(t *testing.T, w *refWindow, m *modelWindow, step string) {
	t.Helper()
	if w.next != uint64(len(m.defs)) || w.live() != len(m.defs)-m.oldest {
		t.Fatalf("%s: next %d, live %d; model %d, %d", step, w.next, w.live(), len(m.defs), len(m.defs)-m.oldest)
	}
	for n := range uint64(len(m.defs)) + 2 {
		s, ok := w.get(n)
		want := n < uint64(len(m.defs)) && n >= uint64(m.oldest)
		if ok != want || (ok && !bytes.Equal(s, m.defs[n])) {
			t.Fatalf("%s: get(%d) = %v (equal %v), model %v", step, n, ok, ok && bytes.Equal(s, m.defs[n]), want)
		}
	}
	checkDisjoint(t, w)
	// Every live string is at least refMinBytes long, so the entries kept
	// (live plus at most as many dead before first) stay within
	// 2*size/refMinBytes+1.
	if len(w.ents) > 2*(w.size/refMinBytes)+2 {
		t.Fatalf("%s: %d entries kept for a window of %d bytes", step, len(w.ents), w.size)
	}
}

// TestRefWindowBoundaries drives the window through the sequences at its
// edges: a string as large as the window, strings that fill the ring to
// its last byte, one byte over, many strings of refMinBytes, and
// wrap-arounds where the oldest string straddles the new one's end.
func TestRefWindowBoundaries(t *testing.T) {
	cases := []struct {
		name string
		size int
		lens []int
	}{
		{"whole window", 256, []int{256, 256, 64, 256, 64, 64, 64, 64, 256}},
		{"fill to the end", 256, []int{64, 64, 64, 64, 64, 64, 64, 64, 64}},
		{"one byte over", 257, []int{64, 64, 64, 64, 65, 64, 64, 64, 65, 128, 129}},
		{"one byte short", 255, []int{64, 64, 64, 63 + 64, 64, 64, 64, 64}},
		{"straddling oldest", 300, []int{100, 150, 64, 100, 64, 70, 200, 100, 99, 64, 64, 300, 64}},
		{"minimum window", 64, []int{64, 64, 64}},
		{"many tiny", 64 * 100, nil},
	}
	for i := range 1000 {
		cases[len(cases)-1].lens = append(cases[len(cases)-1].lens, 64+i%3)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, m := newRefWindow(tc.size), &modelWindow{size: tc.size}
			for i, n := range tc.lens {
				if n > tc.size {
					continue
				}
				b := bytes.Repeat([]byte{byte(i), byte(i >> 8)}, n)[:n]
				w.add(b)
				m.add(b)
				checkAgainstModel(t, w, m, tc.name)
			}
		})
	}
}

// TestRefWindowRandomSmallStrings is the model check with strings mostly
// near refMinBytes and sometimes the whole window, which the uniform sizes
// of TestRefWindowKeepsTheLastStringsThatFit rarely draw.
func TestRefWindowRandomSmallStrings(t *testing.T) {
	for _, size := range []int{64, 127, 128, 129, 640, 1000} {
		rng := rand.New(rand.NewPCG(uint64(size), 7))
		w, m := newRefWindow(size), &modelWindow{size: size}
		for i := range 4000 {
			n := refMinBytes + rng.IntN(4)
			switch rng.IntN(10) {
			case 0:
				n = size
			case 1:
				n = size - m.nextOffset
			case 2:
				n = size - m.nextOffset + 1
			}
			n = min(max(n, refMinBytes), size)
			b := make([]byte, n)
			binary.LittleEndian.PutUint64(b, uint64(i))
			w.add(b)
			m.add(b)
			checkAgainstModel(t, w, m, "random")
		}
	}
}

// TestResolveHostileOps feeds resolve references and lengths at the edges
// of uint64 and int, and varints of 10 and 11 bytes: each is damage, none
// resolves to another string.
func TestResolveHostileOps(t *testing.T) {
	def := func(n int) []byte {
		p := binary.AppendUvarint([]byte{0}, refOpDefine)
		p = binary.AppendUvarint(p, uint64(n))
		return append(p, bytes.Repeat([]byte{'d'}, n)...)
	}
	ref := func(op uint64) []byte { return binary.AppendUvarint([]byte{0}, op) }
	end := []byte{0, refOpEnd}
	cat := func(ps ...[]byte) []byte { return bytes.Join(ps, nil) }
	long := func(v uint64, extra int) []byte { // A varint padded with continuation bytes.
		p := binary.AppendUvarint(nil, v)
		p[len(p)-1] |= 0x80
		for range extra - 1 {
			p = append(p, 0x80)
		}
		return append(p, 0)
	}
	for name, seg := range map[string][]byte{
		"ref max uint64":        cat(def(64), ref(math.MaxUint64), end),
		"ref max int":           cat(def(64), ref(math.MaxInt64), end),
		"ref max int + 2":       cat(def(64), ref(math.MaxInt64+2), end),
		"ref max int + 3":       cat(def(64), ref(math.MaxInt64+3), end),
		"ref one past":          cat(def(64), ref(refOpFirst+1), end),
		"ref with none defined": cat(ref(refOpFirst), end),
		"define max uint64":     cat(binary.AppendUvarint([]byte{0, refOpDefine}, math.MaxUint64), end),
		"define past the event": cat([]byte{0, refOpDefine, 100}, bytes.Repeat([]byte{'x'}, 70)),
		"define 63":             cat(def(63), end),
		"define window + 1":     cat(def(257), end),
		"literal max uint64":    cat(binary.AppendUvarint(nil, math.MaxUint64), end),
		"op of 11 bytes":        cat(def(64), []byte{0}, long(refOpFirst, 10), end),
		"literal of 11 bytes":   cat(long(0, 10), []byte{refOpEnd}),
		"no end":                def(64),
		"stray bytes after end": cat(def(64), end, []byte{1}),
	} {
		w := newRefWindow(256)
		got, err := w.resolve(nil, seg, 1<<20)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: resolved %d bytes, error %v; want ErrCorrupt", name, len(got), err)
		}
	}
}

// TestRefWindowBookkeepingBound: a reader's window holds, besides its
// ring, at most a quarter of its size in bookkeeping (StreamOptions says
// so), whatever the strings' lengths, over many laps of the ring.
func TestRefWindowBookkeepingBound(t *testing.T) {
	const size = 64 << 10
	for _, lens := range [][]int{{64}, {64, 65, 200}, {64, 64, 64, size / 2}, {size, 64, 64}} {
		w := newRefWindow(size)
		b := make([]byte, size)
		most := 0
		for i := range 20 * size / 64 {
			w.add(b[:lens[i%len(lens)]])
			most = max(most, cap(w.ents)*int(unsafe.Sizeof(refEntry{})))
		}
		if most > size/4 {
			t.Errorf("strings of %v bytes: %d bytes of bookkeeping for a window of %d", lens, most, size)
		}
	}
}

// TestResolveWithAnotherWindow: segments resolved with a window other
// than the writer's (a header that lies, or a writer with a bug) resolve
// to the exact encoding or are damage, never other strings: a string's
// number does not depend on the window. (Even a larger window may miss a
// string the writer's holds: the ring wraps elsewhere.)
func TestResolveWithAnotherWindow(t *testing.T) {
	const writerBytes = 4096
	rng := rand.New(rand.NewPCG(5, 5))
	pool := make([][]byte, 40)
	for i := range pool {
		pool[i] = make([]byte, refMinBytes+rng.IntN(writerBytes/8-refMinBytes))
		for k := range pool[i] {
			pool[i][k] = byte(rng.Uint32())
		}
	}
	var events, segs [][]byte
	rw := newRefWriter(writerBytes)
	for range 2000 {
		var data []byte
		for range 1 + rng.IntN(4) {
			s := pool[rng.IntN(len(pool))]
			data = append(data, 0x59, byte(len(s)>>8), byte(len(s)))
			data = append(data, s...)
			data = append(data, 0x01)
		}
		seg, ok := rw.appendSegments(nil, data)
		if !ok {
			t.Fatal("no segments")
		}
		events, segs = append(events, data), append(segs, seg)
	}
	for _, size := range []int{writerBytes / 2, writerBytes - 1, writerBytes, writerBytes + 1, 2 * writerBytes} {
		w := newRefWindow(size)
		damaged := false
		for i, seg := range segs {
			got, err := w.resolve(nil, seg, maxFrame)
			if err != nil && size == writerBytes {
				t.Fatalf("window %d, event %d: %v", size, i, err)
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("window %d, event %d: %v, not ErrCorrupt", size, i, err)
				}
				damaged = true
				break
			}
			if !bytes.Equal(got, events[i]) {
				t.Fatalf("window %d, event %d resolved to other bytes", size, i)
			}
		}
		if size == writerBytes/2 && !damaged {
			t.Fatalf("a window of half the writer's resolved every reference")
		}
	}
}

// TestResolveStopsAtMaxBytes: references that would grow an event's
// encoding past maxBytes are damage before they are copied: a few bytes
// of segments referring to a large string many times must not make the
// reader hold more than its bound (a frame's size) and a string more.
func TestResolveStopsAtMaxBytes(t *testing.T) {
	const maxBytes = 1000
	seg := binary.AppendUvarint([]byte{0}, refOpDefine)
	seg = binary.AppendUvarint(seg, 600)
	seg = append(seg, bytes.Repeat([]byte{'s'}, 600)...)
	for range 3 {
		seg = append(seg, 0, refOpFirst)
	}
	seg = append(seg, 0, refOpEnd)
	got, err := newRefWindow(4096).resolve(nil, seg, maxBytes)
	if !errors.Is(err, ErrCorrupt) || len(got) > maxBytes {
		t.Fatalf("resolved %d bytes with a bound of %d, error %v", len(got), maxBytes, err)
	}
}
