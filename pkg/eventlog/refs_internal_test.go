package eventlog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// TestRefWindowKeepsTheLastStringsThatFit checks the window against a
// model: each string is placed where the last one ended, or at 0 if it
// does not fit before the ring's end, and the window holds the strings
// newer than the newest one that a later one overlaps (the newest always),
// each with its content, in disjoint parts of the ring.
func TestRefWindowKeepsTheLastStringsThatFit(t *testing.T) {
	type placed struct{ off, len int }
	for _, size := range []int{64, 1000, 4096} {
		rng := rand.New(rand.NewPCG(uint64(size), 1))
		w := newRefWindow(size)
		var all [][]byte
		var at []placed
		oldest := 0 // The oldest string the window should hold.
		for i := range 3000 {
			if i == 1500 {
				w.reset()
				all, at, oldest = nil, nil, 0
			}
			b := make([]byte, refMinBytes+rng.IntN(size-refMinBytes+1))
			for k := range b {
				b[k] = byte(rng.Uint32())
			}
			w.add(b)
			p := placed{len: len(b)}
			if len(at) > 0 {
				p.off = at[len(at)-1].off + at[len(at)-1].len
			}
			if p.off+p.len > size {
				p.off = 0
			}
			for j := oldest; j < len(at); j++ {
				if at[j].off < p.off+p.len && p.off < at[j].off+at[j].len {
					oldest = j + 1
				}
			}
			all, at = append(all, b), append(at, p)
			if w.next != uint64(len(all)) || w.live() != len(all)-oldest {
				t.Fatalf("size %d, string %d: next %d, %d live; want %d, %d", size, i, w.next, w.live(), len(all), len(all)-oldest)
			}
			for n := range uint64(len(all)) {
				s, ok := w.get(n)
				if ok != (n >= uint64(oldest)) || (ok && !bytes.Equal(s, all[n])) {
					t.Fatalf("size %d, after string %d: get(%d) = %v, equal %v; oldest %d", size, i, n, ok, bytes.Equal(s, all[n]), oldest)
				}
			}
			checkDisjoint(t, w)
		}
		if len(w.buf) > size || cap(w.buf) > size {
			t.Fatalf("size %d: ring of %d bytes (capacity %d)", size, len(w.buf), cap(w.buf))
		}
	}
}

func checkDisjoint(t *testing.T, w *refWindow) {
	t.Helper()
	live := w.ents[w.first:]
	for i, a := range live {
		if a.off < 0 || int(a.off+a.len) > w.size {
			t.Fatalf("string at [%d, %d) outside a ring of %d", a.off, a.off+a.len, w.size)
		}
		for _, b := range live[i+1:] {
			if a.off < b.off+b.len && b.off < a.off+a.len {
				t.Fatalf("strings at [%d, %d) and [%d, %d) overlap", a.off, a.off+a.len, b.off, b.off+b.len)
			}
		}
	}
}

// refsEvent has byte strings of every size around refMinBytes, nested in
// structs, lists and an interface, and text as long as them.
type refsEvent struct {
	stdtypes.Header
	Short, Edge, Long []byte
	Text              string
	Nested            []refsInner
	F                 float64
	When              time.Time
}

type refsInner struct {
	N    int
	Data []byte
	M    map[string][]byte
}

var _ = codec.Register[refsEvent]("eventlog.refsEvent")

func newRefsEvent() *refsEvent {
	return &refsEvent{
		Header: stdtypes.NewHeader("a"),
		Short:  bytes.Repeat([]byte{1}, refMinBytes-1),
		Edge:   bytes.Repeat([]byte{2}, refMinBytes),
		Long:   bytes.Repeat([]byte{3}, 70000),
		Text:   strings.Repeat("t", 300),
		Nested: []refsInner{
			{N: -5, Data: bytes.Repeat([]byte{4}, 500), M: map[string][]byte{"k": bytes.Repeat([]byte{5}, 100), "s": {6}}},
			{N: 1 << 40, Data: bytes.Repeat([]byte{2}, refMinBytes)},
		},
		F:    2.5,
		When: time.Unix(1.7e9, 5),
	}
}

// TestNextByteString: the byte strings found in an event's encoding are
// those of refMinBytes or more, and no text (nor floats or tags, whose
// heads it reads past).
func TestNextByteString(t *testing.T) {
	data, err := codec.EncodeEvent(newRefsEvent())
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for pos := 0; ; {
		s, e, ok := nextByteString(data, pos, refMinBytes)
		if !ok {
			break
		}
		got = append(got, data[s:e])
		pos = e
	}
	var want [][]byte
	for _, c := range []struct {
		b byte
		n int
	}{{2, refMinBytes}, {3, 70000}, {4, 500}, {5, 100}, {2, refMinBytes}} {
		want = append(want, bytes.Repeat([]byte{c.b}, c.n))
	}
	// The codec writes struct fields in its own order: compare as sets
	// of contents, with their count.
	if len(got) != len(want) {
		t.Fatalf("found %d strings, want %d", len(got), len(want))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || bytes.Equal(g, w)
		}
		if !found {
			t.Fatalf("string of %d bytes %d not found", len(w), w[0])
		}
	}
	// Cut anywhere, the encoding gives a prefix of the strings and no
	// panic; a string cut short is not found.
	for cut := range len(data) {
		for pos := 0; ; {
			_, e, ok := nextByteString(data[:cut], pos, refMinBytes)
			if !ok {
				break
			}
			if e > cut {
				t.Fatalf("cut at %d: string to %d", cut, e)
			}
			pos = e
		}
	}
}

// TestSegmentsRoundTrip: what appendSegments writes, resolve turns back
// into the encoding, with definitions and references in the window of
// both sides; an event with no long string is not turned into segments.
func TestSegmentsRoundTrip(t *testing.T) {
	ev := newRefsEvent()
	data, err := codec.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	rw := newRefWriter(1 << 20)
	rd := newRefWindow(1 << 20)
	var sizes []int
	for range 3 {
		seg, ok := rw.appendSegments(nil, data)
		if !ok {
			t.Fatal("no segments for an event with long strings")
		}
		sizes = append(sizes, len(seg))
		got, err := rd.resolve(nil, seg, maxFrame)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("resolved to %d bytes, %v; want the %d of the encoding", len(got), err, len(data))
		}
	}
	// The first time defines 4 strings (Edge, repeated in the second
	// refsInner, is defined once); then every one is referred to.
	if rw.win.next != 4 || rd.next != 4 {
		t.Fatalf("%d and %d strings defined, want 4", rw.win.next, rd.next)
	}
	if sizes[1] != sizes[2] || sizes[1] > len(data)-70000-500 {
		t.Fatalf("segments of %v bytes for an encoding of %d", sizes, len(data))
	}
	short, err := codec.EncodeEvent(&refsEvent{Header: stdtypes.NewHeader("a"), Short: []byte("short"), Text: strings.Repeat("x", 100)})
	if err != nil {
		t.Fatal(err)
	}
	if seg, ok := rw.appendSegments([]byte{9}, short); ok || !bytes.Equal(seg, []byte{9}) {
		t.Fatalf("segments %x for an event without long strings", seg)
	}
}

// TestResolveDamage: segments that are invalid, or that refer to a string
// the window does not hold, are damage, never data.
func TestResolveDamage(t *testing.T) {
	def := func(n int) []byte {
		b := binary.AppendUvarint([]byte{0}, refOpDefine)
		b = binary.AppendUvarint(b, uint64(n))
		return append(b, bytes.Repeat([]byte{7}, n)...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	end := []byte{0, refOpEnd}
	ref := func(back uint64) []byte { return binary.AppendUvarint([]byte{0}, refOpFirst+back) }
	for name, seg := range map[string][]byte{
		"reference to no string":         cat(ref(0), end),
		"reference before the first":     cat(def(100), ref(1), end),
		"reference far back":             cat(def(100), ref(1<<40), end),
		"reference to an evicted string": cat(def(600), def(600), ref(1), end),
		"definition too short":           cat(def(refMinBytes-1), end),
		"definition over the window":     cat(def(1001), end),
		"definition cut short":           cat(def(100))[:50],
		"no end":                         cat(def(100)),
		"stray bytes after the end":      cat(def(100), end, []byte{1}),
		"empty":                          nil,
		"literal past the end":           {5, 1},
		"over the size limit":            cat(def(100), ref(0), ref(0), ref(0), end),
	} {
		w := newRefWindow(1000)
		if _, err := w.resolve(nil, seg, 250); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want damage", name, err)
		}
	}
	w := newRefWindow(1000)
	got, err := w.resolve(nil, cat(def(600), def(300), ref(0), ref(1), end), maxFrame)
	if err != nil || len(got) != 600+300+300+600 {
		t.Fatalf("valid segments: %d bytes, %v", len(got), err)
	}
}

// refsFile renders the frames of a stream file of format whose header has
// a window of windowBytes and whose one batch has one entry of type 0
// with flags and data.
func refsFile(t testing.TB, format, windowBytes int, flags byte, data []byte) []byte {
	header, err := json.Marshal(StreamHeader{Format: format, Node: "n", RefWindow: windowBytes})
	if err != nil {
		t.Fatal(err)
	}
	batch := []byte{0, 2, 1, 0, flags, 0, 1, 'a'}
	batch = binary.AppendUvarint(batch, uint64(len(data)))
	batch = append(batch, data...)
	return bytes.Join([][]byte{
		frame(frameHeader, header),
		frame(frameType, append([]byte{0}, "eventlog.refsEvent"...)),
		frame(frameBatch, batch),
		frame(frameEnd, []byte{1}),
	}, nil)
}

// TestFramesWithRefs: a file's references resolve to the encoding; in a
// file whose header gives no window, or of format 2, or with a window
// over the limit, they are damage.
func TestFramesWithRefs(t *testing.T) {
	enc, err := codec.EncodeEvent(newRefsEvent())
	if err != nil {
		t.Fatal(err)
	}
	seg, ok := newRefWriter(DefaultRefWindowBytes).appendSegments(nil, enc)
	if !ok {
		t.Fatal("no segments")
	}
	read := func(data []byte) (*Record, error) {
		r, err := newFrameReader("test", bytes.NewReader(data), nil)
		if err != nil {
			return nil, err
		}
		return r.Next()
	}
	rec, err := read(refsFile(t, 3, DefaultRefWindowBytes, flagRefs, seg))
	if err != nil || !bytes.Equal(rec.Data, enc) {
		t.Fatalf("%v; data equal %v", err, err == nil && bytes.Equal(rec.Data, enc))
	}
	for name, data := range map[string][]byte{
		"no window":         refsFile(t, 3, 0, flagRefs, seg),
		"format 2":          refsFile(t, 2, DefaultRefWindowBytes, flagRefs, seg),
		"window over limit": refsFile(t, 3, maxRefWindowBytes+1, flagRefs, seg),
		"negative window":   refsFile(t, 3, -1, flagRefs, seg),
		"segments damaged":  refsFile(t, 3, DefaultRefWindowBytes, flagRefs, seg[:len(seg)-1]),
	} {
		if _, err := read(data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want damage", name, err)
		}
	}
}

// TestRefWriterVerifiesHashHits: a string whose hash is that of a string
// in the window (a collision, made here by hand) is defined, not referred
// to: the hash only finds candidates.
func TestRefWriterVerifiesHashHits(t *testing.T) {
	rw := newRefWriter(1 << 20)
	a, b := bytes.Repeat([]byte{1}, 100), bytes.Repeat([]byte{2}, 100)
	rw.appendOp(nil, a)
	rw.index.insert(rw.hash(b), 0) // b "collides" with a.
	op := rw.appendOp(nil, b)
	if op[0] != refOpDefine || rw.win.next != 2 {
		t.Fatalf("op %x, %d strings defined: b was taken for a", op, rw.win.next)
	}
	if op := rw.appendOp(nil, b); op[0] != refOpFirst || len(op) != 1 {
		t.Fatalf("op %x for b again, want a reference to the last string", op)
	}
}

// TestRefIndexKeepsTheLatest: a bucket keeps the latest string of each
// hash, and, full, replaces its oldest entry.
func TestRefIndexKeepsTheLatest(t *testing.T) {
	x := newRefIndex(512)
	if len(x.buckets) != 1 {
		t.Fatalf("%d buckets for a window of 512 bytes", len(x.buckets))
	}
	for n := range uint64(refBucketWays) {
		x.insert(100+n, n)
	}
	x.insert(100, 7) // The same hash: replaces string 0.
	x.insert(999, 8) // A new hash: replaces the oldest, string 1.
	for h, want := range map[uint64]int64{100: 7, 101: -1, 102: 2, 103: 3, 999: 8, 5: -1} {
		n, ok := x.lookup(h)
		if (want < 0 && ok) || (want >= 0 && (!ok || n != uint64(want))) {
			t.Errorf("lookup(%d) = %d, %v; want %d", h, n, ok, want)
		}
	}
}
