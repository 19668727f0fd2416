package batchfetcher

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/mirframework/mir/internal/clientwindow"
	"github.com/mirframework/mir/stdtypes"
)

// MaxTxNo is the highest transaction number that executes: a client's low
// watermark moves past every number it executes, and must not wrap.
const MaxTxNo = 1<<63 - 1

// clients is the replicated part of the fetcher's state: the same at every
// correct node after the same slots, and part of every snapshot.
type clients = clientwindow.Clients

// stateVersion is the first byte of an encoded state: a later format
// gets another, and a node refuses a version it does not know.
const stateVersion = 1

// ErrInvalidState is wrapped by the error the fetcher returns for a
// RestoreState whose Data it cannot decode.
var ErrInvalidState = errors.New("batchfetcher: invalid state")

// encodeState returns a snapshot's Data: the version byte 1, the next
// slot, the number of clients, then per client in the order of their IDs:
// the ID (length-prefixed), its low watermark, the number of transactions
// executed above it, and their numbers in increasing order, each as its
// distance from the one before (from the watermark for the first); then
// the application's data (length-prefixed). Integers are unsigned
// varints. Equal states have equal encodings.
func encodeState(next stdtypes.SeqNr, cs clients, app []byte) []byte {
	return appendApp(encodeFetcherPart(next, cs), app)
}

// encodeFetcherPart returns encodeState's encoding up to the application's
// data: the fetcher encodes it when it asks the application for its
// snapshot, as its clients are then, and appends the application's data
// when it comes (appendApp).
func encodeFetcherPart(next stdtypes.SeqNr, cs clients) []byte {
	out := binary.AppendUvarint([]byte{stateVersion}, uint64(next))
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

// appendApp completes encodeFetcherPart's prefix with the application's
// data.
func appendApp(prefix, app []byte) []byte {
	out := binary.AppendUvarint(prefix, uint64(len(app)))
	return append(out, app...)
}

// decodedState is what decodeState returns.
type decodedState struct {
	next    stdtypes.SeqNr
	clients clients
	app     []byte
}

// decodeState decodes what encodeState returned, within the limits of p:
// at most MaxClients clients, IDs of at most MaxClientIDBytes, numbers
// executed above a watermark within ClientWindow of it, application data
// of at most MaxAppStateBytes. It refuses anything encodeState would not
// have written (so that a state has one encoding, whose hash the
// checkpoint signs), allocates in proportion to len(data) only, and never
// panics: data comes from another node, by state transfer. The app slice
// shares data's memory.
func decodeState(data []byte, p ModuleParams) (decodedState, error) {
	r := reader{data: data}
	st := decodedState{clients: make(clients)}
	if v := r.byte(); r.err == nil && v != stateVersion {
		r.fail("version %d, want %d", v, stateVersion)
	}
	st.next = stdtypes.SeqNr(r.uvarint())
	n := r.uvarint()
	if r.err == nil && (n > uint64(p.MaxClients) || n > uint64(r.left())) {
		r.fail("%d clients, at most %d", n, p.MaxClients)
	}
	prevID := ""
	for i := uint64(0); r.err == nil && i < n; i++ {
		id := string(r.bytes(p.MaxClientIDBytes))
		c := clientwindow.NewClient(r.uvarint())
		count := r.uvarint()
		switch {
		case r.err != nil:
		case i > 0 && id <= prevID:
			r.fail("client %d: ID %q out of order", i, id)
		case c.Low > MaxTxNo+1:
			r.fail("client %q: watermark %d above %d", id, c.Low, uint64(MaxTxNo)+1)
		case c.Low == 0 && count == 0:
			r.fail("client %q: nothing executed", id)
		case count >= p.ClientWindow || count > uint64(r.left()):
			r.fail("client %q: %d executed above its watermark, window %d", id, count, p.ClientWindow)
		}
		no := c.Low
		for j := uint64(0); r.err == nil && j < count; j++ {
			delta := r.uvarint()
			if r.err == nil && (delta == 0 || delta >= p.ClientWindow || no-c.Low+delta >= p.ClientWindow) {
				r.fail("client %q: number %d above its watermark %d out of order or beyond the window %d", id, j, c.Low, p.ClientWindow)
			}
			no += delta
			if r.err == nil && no > MaxTxNo {
				r.fail("client %q: number %d above %d", id, no, uint64(MaxTxNo))
			}
			c.Above[no] = struct{}{}
		}
		st.clients[id] = c
		prevID = id
	}
	st.app = r.bytes(p.MaxAppStateBytes)
	if r.err == nil && r.left() != 0 {
		r.fail("%d trailing bytes", r.left())
	}
	if r.err != nil {
		return decodedState{}, fmt.Errorf("%w: %w", ErrInvalidState, r.err)
	}
	if !bytes.Equal(encodeState(st.next, st.clients, st.app), data) {
		return decodedState{}, fmt.Errorf("%w: not in canonical form", ErrInvalidState)
	}
	return st, nil
}

// reader reads encodeState's format; the first error sticks, and every
// read after it returns zero values.
type reader struct {
	data []byte
	err  error
}

func (r *reader) left() int { return len(r.data) }

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.data) == 0 {
		r.fail("truncated")
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
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
