package batchfetcher

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

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
// slot, the clients in the encoding of clientwindow.Clients.Append (the
// number of clients, then per client in the order of their IDs:
// the ID (length-prefixed), its low watermark, the number of transactions
// executed above it, and their numbers in increasing order, each as its
// distance from the one before (from the watermark for the first)); then
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
	return cs.Append(binary.AppendUvarint([]byte{stateVersion}, uint64(next)))
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
	st, err := decodeParts(data, p)
	if err != nil {
		return decodedState{}, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	if !bytes.Equal(encodeState(st.next, st.clients, st.app), data) {
		return decodedState{}, fmt.Errorf("%w: not in canonical form", ErrInvalidState)
	}
	return st, nil
}

// decodeParts reads the parts of encodeState's encoding.
func decodeParts(data []byte, p ModuleParams) (decodedState, error) {
	if len(data) == 0 {
		return decodedState{}, errors.New("truncated")
	}
	if data[0] != stateVersion {
		return decodedState{}, fmt.Errorf("version %d, want %d", data[0], stateVersion)
	}
	next, n := binary.Uvarint(data[1:])
	if n <= 0 {
		return decodedState{}, errors.New("truncated or overflowing slot number")
	}
	cs, rest, err := clientwindow.Decode(data[1+n:], clientwindow.Limits{
		MaxClients: p.MaxClients, MaxIDBytes: p.MaxClientIDBytes, Window: p.ClientWindow, MaxNo: MaxTxNo,
	})
	if err != nil {
		return decodedState{}, err
	}
	size, n := binary.Uvarint(rest)
	switch {
	case n <= 0:
		return decodedState{}, errors.New("truncated or overflowing size of the application data")
	case size > uint64(p.MaxAppStateBytes):
		return decodedState{}, fmt.Errorf("%d bytes of application data, at most %d", size, p.MaxAppStateBytes)
	case size != uint64(len(rest)-n):
		return decodedState{}, fmt.Errorf("%d bytes of application data, %d bytes left", size, len(rest)-n)
	}
	return decodedState{next: stdtypes.SeqNr(next), clients: cs, app: rest[n:len(rest):len(rest)]}, nil
}
