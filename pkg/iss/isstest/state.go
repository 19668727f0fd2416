package isstest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mirframework/mir/internal/clientwindow"
	"github.com/mirframework/mir/stdtypes"
)

// Digest is a SHA-256 digest: a link of the log's hash chain.
type Digest [sha256.Size]byte

// String returns the first 8 hex digits, enough to tell digests apart in
// a report.
func (d Digest) String() string { return fmt.Sprintf("%x", d[:4]) }

// ChainNext returns the link of the log's hash chain after slot sn, given
// the link before it: SHA-256(prev || uint64be(sn) || aborted || value),
// with aborted one byte, 1 for ⊥ and 0 for a value. The chain starts at
// the zero Digest before slot 0. Two nodes with the same link after slot
// sn have delivered the same log up to sn.
func ChainNext(prev Digest, sn stdtypes.SeqNr, aborted bool, value []byte) Digest {
	var hdr [sha256.Size + 9]byte
	copy(hdr[:], prev[:])
	binary.BigEndian.PutUint64(hdr[sha256.Size:], uint64(sn))
	if aborted {
		hdr[sha256.Size+8] = 1
	}
	h := sha256.New()
	h.Write(hdr[:])
	h.Write(value)
	var d Digest
	h.Sum(d[:0])
	return d
}

// state is the application's replicated state, the same at every correct
// node after the same slots: what a Snapshot holds.
type state struct {
	// next is the slot the application executes next.
	next stdtypes.SeqNr
	// chain is the link of the log's hash chain before slot next.
	chain Digest
	// clients are the clients with an executed request, by ID.
	clients clientwindow.Clients
}

func newState() state { return state{clients: make(clientwindow.Clients)} }

// executed reports whether request id was executed.
func (s *state) executed(id RequestID) bool { return s.clients.Executed(id.Client, id.Seq) }

// inWindow reports whether request id may be executed now: its sequence
// number is below the client's watermark plus window.
func (s *state) inWindow(id RequestID, window uint64) bool {
	return s.clients.InWindow(id.Client, id.Seq, window)
}

// knows reports whether the client of id has executed requests.
func (s *state) knows(client string) bool { return s.clients[client] != nil }

// execute records request id as executed. The caller has checked that it
// was not, and that it is in the window.
func (s *state) execute(id RequestID) { s.clients.Execute(id.Client, id.Seq) }

// stateVersion is the first byte of an encoded state.
const stateVersion = 1

// ErrInvalidState is wrapped by every error decodeState returns.
var ErrInvalidState = errors.New("invalid application state")

// encode returns the state's encoding, a Snapshot's Data: the version byte
// 1, next, the chain link (32 bytes), then the clients in the encoding of
// clientwindow.Clients.Append: the number of clients, then per
// client in the order of their IDs: the ID (length-prefixed), low, the
// number of executed requests above low, and their sequence numbers in
// increasing order, each as its distance from the one before (from low
// for the first). Integers are unsigned varints. Equal states have equal
// encodings.
func (s *state) encode() []byte {
	out := []byte{stateVersion}
	out = binary.AppendUvarint(out, uint64(s.next))
	out = append(out, s.chain[:]...)
	return s.clients.Append(out)
}

// decodeState decodes what encode returned, within the application's
// limits: at most maxClients clients, IDs of at most maxClientBytes, and
// executed requests above a watermark only within window of it. It
// refuses anything encode would not have written, and never panics.
func decodeState(data []byte, maxClients, maxClientBytes int, window uint64) (state, error) {
	s := newState()
	d := decoder{data: data}
	if v := d.byte(); d.err == nil && v != stateVersion {
		return s, fmt.Errorf("%w: version %d, want %d", ErrInvalidState, v, stateVersion)
	}
	s.next = stdtypes.SeqNr(d.uvarint())
	copy(s.chain[:], d.fixed(len(s.chain)))
	if d.err == nil {
		lim := clientwindow.Limits{MaxClients: maxClients, MaxIDBytes: maxClientBytes, Window: window, MaxNo: MaxSeq}
		var rest []byte
		if s.clients, rest, d.err = clientwindow.Decode(d.data[d.pos:], lim); d.err == nil {
			d.pos = len(d.data) - len(rest)
		}
	}
	if _, ok := s.clients[""]; ok && d.err == nil {
		d.err = errors.New("a client with an empty ID")
	}
	if d.err == nil && d.remaining() != 0 {
		d.err = fmt.Errorf("%d trailing bytes", d.remaining())
	}
	if d.err != nil {
		return newState(), fmt.Errorf("%w: %w", ErrInvalidState, d.err)
	}
	if !bytes.Equal(s.encode(), data) {
		return newState(), fmt.Errorf("%w: not in canonical form", ErrInvalidState)
	}
	return s, nil
}
