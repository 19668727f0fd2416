package isstest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/mirframework/mir/pkg/mempool"
)

// RequestID names a request: its client and the client's sequence number
// for it. A client numbers its requests from 0; each is executed at most
// once.
type RequestID struct {
	Client string
	Seq    uint64
}

// String returns "client/seq", the form failure reports use.
func (id RequestID) String() string { return id.Client + "/" + strconv.FormatUint(id.Seq, 10) }

// MaxSeq bounds a request's sequence number, so that a client's
// watermark plus a window never overflows.
const MaxSeq = 1 << 62

// Request is what a client asks the replicated application to execute.
type Request struct {
	RequestID
	Payload []byte
}

// BucketOf returns the bucket of the request hash space that request id
// falls in, out of numBuckets: Trantor's (mempool.BucketOf of the client
// and sequence number), so that the test application assigns requests
// to leaders as Trantor does. numBuckets must be positive.
func BucketOf(id RequestID, numBuckets int) int {
	return mempool.BucketOf(mempool.TxID{ClientID: id.Client, TxNo: id.Seq}, numBuckets)
}

// batchVersion is the first byte of every encoded batch, so that a later
// format can be told apart.
const batchVersion = 1

// ErrInvalidBatch is wrapped by every error DecodeBatch returns.
var ErrInvalidBatch = errors.New("invalid batch")

// Limits bounds what a batch may hold. A batch comes from the network (a
// leader's proposal), so every size is checked before anything is
// allocated for it.
type Limits struct {
	// MaxRequests bounds the requests in a batch.
	MaxRequests int
	// MaxBytes bounds the encoded batch.
	MaxBytes int
	// MaxClientBytes bounds a client's ID.
	MaxClientBytes int
	// MaxPayloadBytes bounds a request's payload.
	MaxPayloadBytes int
}

// EncodeBatch returns the encoding of a non-empty batch of requests, the
// value a leader proposes: the version byte 1, the number of requests,
// then for each request the length of its client ID, the ID, its sequence
// number, the length of its payload and the payload, every integer an
// unsigned varint. The encoding is a function of the requests and their
// order only, and DecodeBatch accepts no other encoding of the same batch.
func EncodeBatch(reqs []Request) []byte {
	size := 1 + binary.MaxVarintLen64
	for _, r := range reqs {
		size += 3*binary.MaxVarintLen64 + len(r.Client) + len(r.Payload)
	}
	out := make([]byte, 0, size)
	out = append(out, batchVersion)
	out = binary.AppendUvarint(out, uint64(len(reqs)))
	for _, r := range reqs {
		out = appendRequest(out, r)
	}
	return out
}

// appendRequest appends the encoding of one request of a batch.
func appendRequest(out []byte, r Request) []byte {
	out = binary.AppendUvarint(out, uint64(len(r.Client)))
	out = append(out, r.Client...)
	out = binary.AppendUvarint(out, r.Seq)
	out = binary.AppendUvarint(out, uint64(len(r.Payload)))
	return append(out, r.Payload...)
}

// encodedRequestBytes returns the size of a request's encoding in a batch.
func encodedRequestBytes(r Request) int {
	return uvarintLen(uint64(len(r.Client))) + len(r.Client) + uvarintLen(r.Seq) +
		uvarintLen(uint64(len(r.Payload))) + len(r.Payload)
}

// uvarintLen returns the length of the uvarint encoding of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// DecodeBatch decodes a batch that EncodeBatch encoded, within lim: it
// refuses an empty batch (a leader with nothing proposes an empty value,
// not an empty batch), trailing bytes, any encoding other than
// EncodeBatch's, a request with an empty client ID, and anything beyond
// the limits. It never panics. The payloads of the requests share data's
// memory.
func DecodeBatch(data []byte, lim Limits) ([]Request, error) {
	if len(data) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidBatch, len(data), lim.MaxBytes)
	}
	d := decoder{data: data}
	if v := d.byte(); d.err == nil && v != batchVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrInvalidBatch, v, batchVersion)
	}
	n := d.uvarint()
	switch {
	case d.err != nil:
		return nil, fmt.Errorf("%w: %w", ErrInvalidBatch, d.err)
	case n == 0:
		return nil, fmt.Errorf("%w: no requests", ErrInvalidBatch)
	case n > uint64(lim.MaxRequests):
		return nil, fmt.Errorf("%w: %d requests, at most %d", ErrInvalidBatch, n, lim.MaxRequests)
	case n > uint64(d.remaining()/4):
		// A request takes at least 4 bytes: bound the allocation by
		// what data can hold.
		return nil, fmt.Errorf("%w: %d requests in %d bytes", ErrInvalidBatch, n, d.remaining())
	}
	reqs := make([]Request, n)
	for i := range reqs {
		client := d.bytes(lim.MaxClientBytes)
		reqs[i].Client = string(client)
		reqs[i].Seq = d.uvarint()
		reqs[i].Payload = d.bytes(lim.MaxPayloadBytes)
		switch {
		case d.err != nil:
		case len(client) == 0:
			d.err = errors.New("empty client ID")
		case reqs[i].Seq > MaxSeq:
			d.err = fmt.Errorf("sequence number %d above %d", reqs[i].Seq, uint64(MaxSeq))
		}
		if d.err != nil {
			return nil, fmt.Errorf("%w: request %d: %w", ErrInvalidBatch, i, d.err)
		}
	}
	if d.remaining() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrInvalidBatch, d.remaining())
	}
	// Varints have more than one encoding of a value: accept only the
	// shortest, so that one batch has one encoding (and one digest).
	if !bytes.Equal(EncodeBatch(reqs), data) {
		return nil, fmt.Errorf("%w: not in canonical form", ErrInvalidBatch)
	}
	return reqs, nil
}

// decoder reads the integers and strings of the encodings of this package
// from data; the first error sticks, and every read after it returns zero.
type decoder struct {
	data []byte
	pos  int
	err  error
}

func (d *decoder) remaining() int { return len(d.data) - d.pos }

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.remaining() < 1 {
		d.err = errors.New("truncated")
		return 0
	}
	d.pos++
	return d.data[d.pos-1]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data[d.pos:])
	if n <= 0 {
		d.err = errors.New("truncated or overflowing integer")
		return 0
	}
	d.pos += n
	return v
}

// bytes reads a length-prefixed byte string of at most maxLen bytes; the
// result shares data's memory.
func (d *decoder) bytes(maxLen int) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(maxLen) || n > uint64(d.remaining()) {
		d.err = fmt.Errorf("a string of %d bytes, at most %d, with %d bytes left", n, maxLen, d.remaining())
		return nil
	}
	b := d.data[d.pos : d.pos+int(n) : d.pos+int(n)]
	d.pos += int(n)
	return b
}

// fixed reads n bytes.
func (d *decoder) fixed(n int) []byte {
	if d.err != nil {
		return nil
	}
	if d.remaining() < n {
		d.err = errors.New("truncated")
		return nil
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b
}
