package eventlog

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
)

// References to repeated byte strings (stream format 3).
//
// A node's events carry the same large byte strings many times: a
// transaction's payload is in the client's submission, the mempool's batch,
// the messages that disseminate it, the batch fetcher's output and the
// application's input, and a signature in the message that carries it and
// the certificate that collects it. Compressing every copy was most of
// what recording cost. So the stream sink writes each CBOR byte
// string of refMinBytes or more once per file and, while it is within the
// file's reference window, refers to it afterwards. It knows nothing of the
// protocol: it looks for byte strings in the events' CBOR encodings.
//
// An entry with flagRefs holds, in place of the event's encoding, segments:
//
//	segment = uvarint n | n literal bytes | op
//	op      = uvarint: 0 end (nothing follows) |
//	          1 define: uvarint len | len bytes |
//	          k ≥ 2 refer to the string defined k-2 definitions before the
//	          last one
//
// The event's encoding is the concatenation of the literals and the
// strings defined or referred to, in order; the byte strings' CBOR heads
// are in the literals. Each definition is the next string of the file's
// window (numbered from 0 at the file's start), which holds the last
// definitions that fit in its size (StreamHeader.RefWindow), as refWindow
// lays them out: the writer and every reader evict the same strings at the
// same definitions, so a reference the writer made is to a string every
// reader still holds, and a reference to any other is damage. The window
// starts empty in every file, where reading starts, so no reference
// crosses files: a file reads by itself, as before.

const (
	// refMinBytes is the shortest byte string that is defined: a
	// reference costs 1–3 bytes, a definition 2–4, and each string a
	// lookup (a cache miss); shorter strings, such as 32-byte digests,
	// are many and would save little each. It takes in 64-byte
	// signatures. A definition shorter than this is damage: it bounds the
	// number of strings a window holds to its size / refMinBytes.
	refMinBytes = 64
	// DefaultRefWindowBytes is the reference window of StreamOptions'
	// zero value: at 50,000 transactions of 512 bytes per second, a node's
	// distinct payloads fill it in about 300 ms, longer than a
	// transaction takes from submission to execution at that load.
	DefaultRefWindowBytes = 8 << 20
	// maxRefWindowBytes bounds the window a reader accepts, and so the
	// memory one file's reader holds for it.
	maxRefWindowBytes = 64 << 20
)

// Segment ops.
const (
	refOpEnd    = 0
	refOpDefine = 1
	refOpFirst  = 2 // The op of a reference to the last definition.
)

// refWindow holds the strings of a file's window in a ring of size bytes:
// each new string goes where the last one ended, or at the ring's start if
// it does not fit before the end, and evicts the oldest strings until none
// left overlaps it. The live strings, oldest first, lie at or after at (up
// to where the ring wrapped), then before at.
type refWindow struct {
	size int
	// buf is the ring; it grows (up to size) as strings come, so that a
	// small file's reader does not allocate the whole window.
	buf []byte
	// ents are the live strings, oldest first, from ents[first].
	ents  []refEntry
	first int
	// next is the number of the next string defined.
	next uint64
	// at is where the last string ended.
	at int
}

// refEntry is a live string of a window: 8 bytes, since a window is at
// most maxRefWindowBytes.
type refEntry struct{ off, len int32 }

func newRefWindow(size int) *refWindow { return &refWindow{size: size} }

// reset empties the window, keeping its memory: a new file starts.
func (w *refWindow) reset() {
	w.ents, w.first, w.next, w.at = w.ents[:0], 0, 0, 0
}

// live returns how many strings the window holds.
func (w *refWindow) live() int { return len(w.ents) - w.first }

// add copies b into the window as string number next (b is at most size
// bytes long).
func (w *refWindow) add(b []byte) {
	start, wrapped := w.at, false
	if start+len(b) > w.size {
		start, wrapped = 0, true
	}
	end := start + len(b)
	for w.live() > 0 {
		off := int(w.ents[w.first].off)
		// Past the wrap, every string after at is older than those before
		// it, which the new one overwrites first.
		if !(wrapped && off >= w.at) && !(off >= start && off < end) {
			break
		}
		w.first++
	}
	if w.first > len(w.ents)/2 {
		w.ents = w.ents[:copy(w.ents, w.ents[w.first:])]
		w.first = 0
	}
	if end > len(w.buf) {
		w.grow(end)
	}
	copy(w.buf[start:end], b)
	if len(w.ents) == cap(w.ents) {
		w.growEnts()
	}
	w.ents = append(w.ents, refEntry{off: int32(start), len: int32(len(b))})
	w.next++
	w.at = end
}

// growEnts doubles the capacity of ents, up to what it can need: the
// live strings, disjoint and of refMinBytes or more, are fewer than
// size/refMinBytes before a new one is added, and the compaction in add
// keeps no more dead ones than live ones. So the bookkeeping takes at most
// 16 bytes per refMinBytes of the window, a quarter of its size (append's
// growth took up to two and a half times that).
func (w *refWindow) growEnts() {
	ents := make([]refEntry, len(w.ents), min(max(2*cap(w.ents), 16), 2*(w.size/refMinBytes)))
	copy(ents, w.ents)
	w.ents = ents
}

// grow makes buf at least n bytes long, doubling its capacity up to size.
func (w *refWindow) grow(n int) {
	if n <= cap(w.buf) {
		w.buf = w.buf[:n]
		return
	}
	buf := make([]byte, n, min(w.size, max(n, 2*cap(w.buf))))
	copy(buf, w.buf)
	w.buf = buf
}

// get returns string number n, if the window holds it.
func (w *refWindow) get(n uint64) ([]byte, bool) {
	if n >= w.next || w.next-n > uint64(w.live()) {
		return nil, false
	}
	e := w.ents[w.first+w.live()-int(w.next-n)]
	return w.buf[e.off : e.off+e.len], true
}

// refWriter finds the byte strings of events that the window holds.
type refWriter struct {
	win *refWindow
	// maxString bounds the strings defined: a string as large as the
	// window would evict all the others.
	maxString int
	seed      maphash.Seed
	index     refIndex
}

func newRefWriter(windowBytes int) *refWriter {
	win := newRefWindow(windowBytes)
	// A recorder fills its window within seconds: the ring is allocated
	// whole, rather than grown and copied (which cost 1 % of a recorded
	// Trantor run's CPU in its first seconds). Its pages are touched as
	// strings come.
	win.buf = make([]byte, 0, windowBytes)
	return &refWriter{win: win, maxString: windowBytes / 8, seed: maphash.MakeSeed(), index: newRefIndex(windowBytes)}
}

// reset empties the window: a new file starts.
func (rw *refWriter) reset() {
	rw.win.reset()
	clear(rw.index.buckets)
}

// hash returns the hash of b (at least refMinBytes long) by which the
// index finds it: that of its first and last 64 bytes and its length,
// a quarter of the time a hash of 512 bytes takes. Strings that differ
// only in between share their hash; that costs references (the index
// keeps one of them), never a wrong one: candidates are compared whole.
func (rw *refWriter) hash(b []byte) uint64 {
	const sample = 64
	h := maphash.Bytes(rw.seed, b[:min(len(b), sample)])
	if len(b) > sample {
		h ^= maphash.Bytes(rw.seed, b[len(b)-sample:])*0x9e3779b97f4a7c15 + uint64(len(b))
	}
	return h
}

// refIndex finds the number of a string in the window from its hash: a
// hash table of buckets of refBucketWays entries, an entry the hash of a
// string and its number plus 1 (0: empty). A bucket keeps the latest
// strings whose hashes fall in it. Unlike a Go map (which the first
// version used, at about the same cost per lookup: a cache miss), its
// memory is fixed, and entries need not be removed when the window evicts
// their strings: the window tells. A bucket is one cache line, so a lookup
// costs one miss at most.
type refIndex struct {
	buckets []refBucket
	mask    uint64
}

const refBucketWays = 4

type refBucket [refBucketWays]struct{ hash, n1 uint64 }

// newRefIndex returns an index with room for 4 strings per 512 bytes of
// the window: the window holds fewer of a protocol's transactions, and
// signatures (64 bytes) are fewer than transactions.
func newRefIndex(windowBytes int) refIndex {
	n := 1
	for n*512 < windowBytes {
		n *= 2
	}
	return refIndex{buckets: make([]refBucket, n), mask: uint64(n - 1)}
}

// lookup returns the number of the latest string indexed with hash h.
func (x *refIndex) lookup(h uint64) (uint64, bool) {
	b := &x.buckets[h&x.mask]
	for i := range b {
		if b[i].hash == h && b[i].n1 != 0 {
			return b[i].n1 - 1, true
		}
	}
	return 0, false
}

// insert indexes string n with hash h, in place of the entry with the
// same hash or, if none, the oldest.
func (x *refIndex) insert(h, n uint64) {
	b := &x.buckets[h&x.mask]
	at := 0
	for i := range b {
		if b[i].hash == h {
			at = i
			break
		}
		if b[i].n1 < b[at].n1 {
			at = i
		}
	}
	b[at].hash, b[at].n1 = h, n+1
}

// appendSegments appends to dst the segments that stand for data, an
// event's CBOR encoding, and reports true; if data holds no byte string to
// define or refer to, it returns dst unchanged and false.
func (rw *refWriter) appendSegments(dst, data []byte) ([]byte, bool) {
	if len(data) < refMinBytes+2 {
		// Too short to hold a string worth it (its head takes 2 bytes):
		// most events, whose scan would cost as much as their encoding.
		return dst, false
	}
	orig, lit := len(dst), 0
	for pos := 0; ; {
		s, e, ok := nextByteString(data, pos, refMinBytes)
		if !ok {
			break
		}
		pos = e
		if e-s > rw.maxString {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(s-lit))
		dst = append(dst, data[lit:s]...)
		dst = rw.appendOp(dst, data[s:e])
		lit = e
	}
	if lit == 0 {
		return dst[:orig], false
	}
	dst = binary.AppendUvarint(dst, uint64(len(data)-lit))
	dst = append(dst, data[lit:]...)
	return binary.AppendUvarint(dst, refOpEnd), true
}

// appendOp appends the op for string b: a reference if the window holds
// it, a definition otherwise.
func (rw *refWriter) appendOp(dst, b []byte) []byte {
	h := rw.hash(b)
	if n, ok := rw.index.lookup(h); ok {
		if s, ok := rw.win.get(n); ok && bytes.Equal(s, b) {
			return binary.AppendUvarint(dst, refOpFirst+(rw.win.next-1-n))
		}
	}
	rw.win.add(b)
	rw.index.insert(h, rw.win.next-1)
	dst = binary.AppendUvarint(dst, refOpDefine)
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// resolve appends to dst the encoding that the segments seg stand for,
// adding their definitions to the window. An invalid segment, a definition
// outside the limits or a reference to a string the window does not hold
// is damage (ErrCorrupt), as is an encoding that would grow dst past
// maxBytes.
func (w *refWindow) resolve(dst, seg []byte, maxBytes int) ([]byte, error) {
	d := frameDecoder{p: seg}
	for {
		lit := d.bytes()
		op := d.uvarint()
		if d.err != nil {
			return dst, d.err
		}
		var s []byte
		switch {
		case op == refOpEnd:
			if len(d.p) != 0 {
				return dst, fmt.Errorf("%d stray bytes after an event's segments: %w", len(d.p), ErrCorrupt)
			}
		case op == refOpDefine:
			s = d.bytes()
			if d.err != nil {
				return dst, d.err
			}
			if len(s) < refMinBytes || len(s) > w.size {
				return dst, fmt.Errorf("defined string of %d bytes, outside [%d, %d]: %w", len(s), refMinBytes, w.size, ErrCorrupt)
			}
			w.add(s)
		default:
			back, ok := op-refOpFirst, false
			if back < w.next {
				s, ok = w.get(w.next - 1 - back)
			}
			if !ok {
				return dst, fmt.Errorf("reference to string %d definitions back, of %d in the file and %d in its window: %w",
					back+1, w.next, w.live(), ErrCorrupt)
			}
		}
		// Checked before copying: a few bytes of references can stand
		// for many copies of a long string.
		if len(dst)+len(lit)+len(s) > maxBytes {
			return dst, fmt.Errorf("an event's encoding over %d bytes: %w", maxBytes, ErrCorrupt)
		}
		dst = append(append(dst, lit...), s...)
		if op == refOpEnd {
			return dst, nil
		}
	}
}

// nextByteString finds the first CBOR byte string of at least minBytes
// that starts at or after pos in data, a sequence of CBOR items, and
// returns its content's bounds. It reads the items' heads one after the
// other: the content of a string is skipped, and that of an array, a map
// or a tag is the items that follow, so no stack is needed. It reports
// false at the end of data, or at anything the codec does not write
// (indefinite lengths, a string past the end): the rest is then left as
// it is.
func nextByteString(data []byte, pos, minBytes int) (start, end int, ok bool) {
	for pos < len(data) {
		major, info := data[pos]>>5, data[pos]&31
		pos++
		var arg uint64
		switch {
		case info < 24:
			arg = uint64(info)
		case info <= 27:
			n := 1 << (info - 24)
			if n > len(data)-pos {
				return 0, 0, false
			}
			for _, b := range data[pos : pos+n] {
				arg = arg<<8 | uint64(b)
			}
			pos += n
		default:
			return 0, 0, false
		}
		if major != 2 && major != 3 {
			continue
		}
		if arg > uint64(len(data)-pos) {
			return 0, 0, false
		}
		if major == 2 && arg >= uint64(minBytes) {
			return pos, pos + int(arg), true
		}
		pos += int(arg)
	}
	return 0, 0, false
}
