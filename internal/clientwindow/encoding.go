package clientwindow

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
)

// Append appends the encoding of cs to out and returns it: the number of
// clients, then per client in the order of their IDs: the ID
// (length-prefixed), its watermark, the number of requests executed above
// it, and their numbers in increasing order, each as its distance from
// the one before (from the watermark for the first). Every integer is an
// unsigned varint. Equal clients have equal encodings: the encoding is
// part of replicated snapshots, whose hashes nodes sign.
func (cs Clients) Append(out []byte) []byte {
	out = binary.AppendUvarint(out, uint64(len(cs)))
	for _, id := range slices.Sorted(maps.Keys(cs)) {
		c := cs[id]
		out = binary.AppendUvarint(out, uint64(len(id)))
		out = append(out, id...)
		out = binary.AppendUvarint(out, c.Low)
		out = binary.AppendUvarint(out, uint64(len(c.Above)))
		prev := c.Low
		for _, no := range slices.Sorted(maps.Keys(c.Above)) {
			out = binary.AppendUvarint(out, no-prev)
			prev = no
		}
	}
	return out
}

// Limits bound what Decode accepts.
type Limits struct {
	// MaxClients bounds the clients, MaxIDBytes the length of an ID.
	MaxClients, MaxIDBytes int
	// Window bounds the requests executed above a watermark: each is
	// less than Window above it (so there are fewer than Window).
	Window uint64
	// MaxNo is the highest number a request executes with: a watermark
	// is at most MaxNo+1.
	MaxNo uint64
}

// Decode decodes the encoding Append writes at the start of data, within
// lim, and returns the clients and the rest of data. It refuses what
// Append would not write (IDs out of order or repeated, a client with
// nothing executed, numbers out of order, beyond the window or above
// MaxNo), allocates in proportion to len(data) only, and never panics:
// data may come from another node. It does not check that the varints are
// minimal: a caller compares the encoding of what it decoded with data.
func Decode(data []byte, lim Limits) (Clients, []byte, error) {
	r := reader{data: data}
	cs := make(Clients)
	n := r.uvarint()
	if r.err == nil && (n > uint64(lim.MaxClients) || n > uint64(len(r.data))) {
		r.fail("%d clients, at most %d", n, lim.MaxClients)
	}
	prevID := ""
	for i := uint64(0); r.err == nil && i < n; i++ {
		id := string(r.bytes(lim.MaxIDBytes))
		c := NewClient(r.uvarint())
		count := r.uvarint()
		switch {
		case r.err != nil:
		case i > 0 && id <= prevID:
			r.fail("client %d: ID %q out of order", i, id)
		case lim.MaxNo < 1<<64-1 && c.Low > lim.MaxNo+1:
			r.fail("client %q: watermark %d above %d", id, c.Low, lim.MaxNo+1)
		case c.Low == 0 && count == 0:
			r.fail("client %q: nothing executed", id)
		case count >= lim.Window || count > uint64(len(r.data)):
			r.fail("client %q: %d executed above its watermark, window %d", id, count, lim.Window)
		}
		no := c.Low
		for j := uint64(0); r.err == nil && j < count; j++ {
			delta := r.uvarint()
			switch {
			case r.err != nil:
			case delta == 0 || delta >= lim.Window || no-c.Low+delta >= lim.Window:
				r.fail("client %q: number %d above its watermark %d out of order or beyond the window %d", id, j, c.Low, lim.Window)
			case no+delta > lim.MaxNo:
				r.fail("client %q: number %d above %d", id, no+delta, lim.MaxNo)
			}
			no += delta
			c.Above[no] = struct{}{}
		}
		cs[id] = c
		prevID = id
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	return cs, r.data, nil
}

// reader reads Append's format; the first error sticks, and every read
// after it returns zero values.
type reader struct {
	data []byte
	err  error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.fail("truncated or overflowing integer")
		return 0
	}
	r.data = r.data[n:]
	return v
}

// bytes reads a length-prefixed string of at most maxLen bytes; the
// result shares the input's memory.
func (r *reader) bytes(maxLen int) []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(maxLen) || n > uint64(len(r.data)) {
		r.fail("a string of %d bytes, at most %d, with %d left", n, maxLen, len(r.data))
		return nil
	}
	b := r.data[:n:n]
	r.data = r.data[n:]
	return b
}
