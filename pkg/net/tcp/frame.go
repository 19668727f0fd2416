package tcp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// A frame is a 4-byte big-endian length n, then n bytes of body. A data
// frame's body is an envelope:
//
//	uvarint(len(dest)) | dest | message encoded by codec.AppendMessage
//
// where dest is the module that receives the message on the receiving node.
// The sender's ID is not in the frame: the receiver knows it from the
// connection, which is authenticated.
const frameHeaderBytes = 4

// maxDestBytes bounds the destination module ID in an envelope. Module IDs
// are short paths; a longer one is refused when sending and when receiving.
const maxDestBytes = 1 << 10

// Errors of the frame reader. A connection whose reader meets one is closed
// and the frame counted (PeerMetrics.BadFrames).
var (
	// ErrFrameTooLarge: the header claims a body longer than the maximum
	// (Options.MaxFrameBytes). Nothing is allocated for it.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrTruncated: the connection ended inside a frame.
	ErrTruncated = errors.New("truncated frame")
	// ErrBadFrame: the body is not a valid envelope: empty, a bad
	// destination, or a message package codec refuses.
	ErrBadFrame = errors.New("undecodable frame")
)

// frame is an encoded frame, ready to be written to any number of peers.
type frame struct {
	b []byte
	// big, if not nil, is the pooled buffer b lives in: it goes back to
	// the pool once every peer queue is done with the frame (release).
	big *bigBuf
}

// bigBuf is a buffer for one large frame, reference-counted: one
// reference for each queue holding the frame, one for its maker while it
// queues it. Large messages come in runs (state transfers, big batches),
// so reusing their buffers saves allocating, zeroing and faulting in
// megabytes for every one of them.
type bigBuf struct {
	buf  []byte
	refs atomic.Int32
}

// bigPool holds *bigBuf of any size, for frames larger than half an arena
// chunk.
var bigPool sync.Pool

// getBig returns a bigBuf with room for n bytes, holding one reference.
func getBig(n int) *bigBuf {
	bb, _ := bigPool.Get().(*bigBuf)
	if bb == nil || cap(bb.buf) < n {
		bb = &bigBuf{buf: make([]byte, 0, n)}
	}
	bb.refs.Store(1)
	return bb
}

// acquire adds a reference to the frame's buffer, if it has one.
func (f frame) acquire() {
	if f.big != nil {
		f.big.refs.Add(1)
	}
}

// release drops a reference to the frame's buffer, returning it to the
// pool when it was the last. The frame must not be used after.
func (f frame) release() {
	if f.big != nil && f.big.refs.Add(-1) == 0 {
		f.big.buf = f.big.buf[:0]
		bigPool.Put(f.big)
	}
}

// frameArena makes the frames of the messages ApplyEvents sends. Small
// frames are carved from chunks of arenaChunkBytes, so a small message
// costs a fraction of an allocation; a frame, once handed to peers'
// queues, is never written again, and a chunk is dropped, never reused,
// when it is full: the garbage collector frees it once every frame in it
// has been written. Large frames get pooled buffers of their own. Only
// ApplyEvents uses the arena.
type frameArena struct {
	buf []byte
	// largeHint is the size of the last large frame. The next frame is
	// expected to be large too and encoded in a pooled buffer that large,
	// so that a run of large messages is encoded without growing a buffer
	// again and again.
	largeHint int
}

// Chunk sizes of the arena: a new chunk when less than arenaMinFreeBytes is
// left; a frame larger than half a chunk is large.
const (
	arenaChunkBytes   = 64 << 10
	arenaMinFreeBytes = 1 << 10
)

// errFrameTooLarge is what frame returns for a message whose frame would
// be larger than the maximum.
var errFrameTooLarge = errors.New("message too large for a frame")

// frame returns the frame carrying msg for module dest. The frame's body
// is at most maxBody bytes, else it returns an error wrapping
// errFrameTooLarge. An encoding error (an unregistered message type) is
// returned as it is. The caller holds one reference to the frame and
// releases it once it has queued it.
func (a *frameArena) frame(dest stdtypes.ModuleID, msg stdtypes.Message, maxBody int) (frame, error) {
	if len(dest) > maxDestBytes {
		return frame{}, fmt.Errorf("%w: destination module ID of %d bytes, at most %d", errFrameTooLarge, len(dest), maxDestBytes)
	}
	var big *bigBuf
	dst := a.buf
	if a.largeHint > 0 {
		big = getBig(a.largeHint)
		dst = big.buf
	} else if cap(dst)-len(dst) < arenaMinFreeBytes {
		dst = make([]byte, 0, arenaChunkBytes)
	}
	f, b, err := appendFrame(dst, dest, msg, maxBody)
	if err != nil {
		if big != nil {
			frame{big: big}.release()
		}
		return frame{}, err
	}
	large := len(f) > arenaChunkBytes/2
	switch {
	case large && big != nil:
		big.buf = b[:0] // b may have outgrown the pooled buffer.
	case large:
		// An unexpected large frame, in the arena's chunk; the chunk is
		// the frame's alone from now on.
		a.buf = nil
	case big != nil:
		// A small frame after a large one: the buffer becomes a chunk.
		a.buf, big = b, nil
	default:
		a.buf = b
	}
	if large {
		a.largeHint = len(f) + len(f)/8
	} else {
		a.largeHint = 0
	}
	return frame{b: f, big: big}, nil
}

// appendFrame appends the frame of msg for dest to dst. It returns the
// frame, capped so that nobody appends over what follows, and the extended
// slice.
func appendFrame(dst []byte, dest stdtypes.ModuleID, msg stdtypes.Message, maxBody int) ([]byte, []byte, error) {
	start := len(dst)
	b := append(dst, 0, 0, 0, 0)
	b = binary.AppendUvarint(b, uint64(len(dest)))
	b = append(b, dest...)
	b, err := codec.AppendMessage(b, msg)
	if err != nil {
		return nil, nil, err
	}
	body := len(b) - start - frameHeaderBytes
	if body > maxBody {
		return nil, nil, fmt.Errorf("%w: body of %d bytes, at most %d", errFrameTooLarge, body, maxBody)
	}
	binary.BigEndian.PutUint32(b[start:], uint32(body))
	return b[start:len(b):len(b)], b, nil
}

// frameReader reads data frames from a connection and decodes their
// envelopes. It never allocates more than what has arrived: a body that
// fits in the bufio.Reader's buffer is decoded in place, and a longer one
// is read into a buffer that grows with the bytes read, not with the
// length the header claims.
type frameReader struct {
	br      *bufio.Reader
	maxBody int
	dec     *codec.Decoder
	// large holds bodies longer than br's buffer; it is kept for the next
	// one, so it is at most about twice maxBody.
	large []byte
	// lastDest is the destination of the previous frame, reused while
	// frames keep naming the same module, which saves converting the same
	// bytes to a string for every message.
	lastDest stdtypes.ModuleID
}

func newFrameReader(br *bufio.Reader, maxBody int, dec *codec.Decoder) *frameReader {
	return &frameReader{br: br, maxBody: maxBody, dec: dec}
}

// largeChunkBytes is the first step by which the buffer for a large body
// grows; later steps double it.
const largeChunkBytes = 64 << 10

// next reads and decodes the next frame. It returns the envelope's
// destination and message and the frame's size, header included. The
// error is io.EOF if the connection ended cleanly between frames; it wraps
// ErrFrameTooLarge, ErrTruncated or ErrBadFrame for a bad frame, and is
// the connection's error otherwise.
func (r *frameReader) next() (stdtypes.ModuleID, stdtypes.Message, int, error) {
	hdr, err := r.br.Peek(frameHeaderBytes)
	if err != nil {
		if err == io.EOF && len(hdr) > 0 {
			return "", nil, 0, fmt.Errorf("%w: %d header bytes", ErrTruncated, len(hdr))
		}
		return "", nil, 0, err
	}
	n := binary.BigEndian.Uint32(hdr)
	if uint64(n) > uint64(r.maxBody) {
		return "", nil, 0, fmt.Errorf("%w: header claims %d bytes, at most %d", ErrFrameTooLarge, n, r.maxBody)
	}
	size := int(n)
	if _, err := r.br.Discard(frameHeaderBytes); err != nil {
		return "", nil, 0, err // Cannot happen: the header was buffered.
	}
	var dest stdtypes.ModuleID
	var msg stdtypes.Message
	if size <= r.br.Size() {
		body, err := r.br.Peek(size)
		if err != nil {
			return "", nil, 0, truncated(err, len(body), size)
		}
		dest, msg, err = r.decode(body)
		if err != nil {
			return "", nil, 0, err
		}
		if _, err := r.br.Discard(size); err != nil {
			return "", nil, 0, err // Cannot happen: the body was buffered.
		}
	} else {
		body, err := r.readLarge(size)
		if err != nil {
			return "", nil, 0, err
		}
		if dest, msg, err = r.decode(body); err != nil {
			return "", nil, 0, err
		}
	}
	return dest, msg, frameHeaderBytes + size, nil
}

// readLarge reads a body of size bytes, longer than br's buffer, into
// r.large, growing it only as bytes arrive.
func (r *frameReader) readLarge(size int) ([]byte, error) {
	buf := r.large[:0]
	for len(buf) < size {
		step := min(size-len(buf), max(len(buf), largeChunkBytes))
		buf = slices.Grow(buf, step)
		got, err := io.ReadFull(r.br, buf[len(buf):len(buf)+step])
		buf = buf[:len(buf)+got]
		if err != nil {
			r.large = buf[:0]
			return nil, truncated(err, len(buf), size)
		}
	}
	r.large = buf[:0]
	return buf, nil
}

// truncated turns the error of a short read of a body into ErrTruncated if
// the connection ended; other errors (a closed or reset connection) are
// returned as they are.
func truncated(err error, got, want int) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %d of %d body bytes", ErrTruncated, got, want)
	}
	return err
}

// decode decodes the envelope in body. The message shares no memory with
// body (package codec copies), so body may be reused.
func (r *frameReader) decode(body []byte) (stdtypes.ModuleID, stdtypes.Message, error) {
	destLen, k := binary.Uvarint(body)
	if k <= 0 || destLen == 0 || destLen > maxDestBytes || destLen > uint64(len(body)-k) {
		return "", nil, fmt.Errorf("%w: bad destination length", ErrBadFrame)
	}
	destBytes := body[k : k+int(destLen)]
	dest := r.lastDest
	if string(destBytes) != string(dest) { // Compared without allocating.
		dest = stdtypes.ModuleID(destBytes)
		if err := dest.Validate(); err != nil {
			return "", nil, fmt.Errorf("%w: destination: %w", ErrBadFrame, err)
		}
		r.lastDest = dest
	}
	msg, err := r.dec.DecodeMessage(body[k+int(destLen):])
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBadFrame, err)
	}
	return dest, msg, nil
}

// buffered reports whether a whole frame is buffered, so that next returns
// without reading from the connection.
func (r *frameReader) buffered() bool {
	avail := r.br.Buffered()
	if avail < frameHeaderBytes {
		return false
	}
	hdr, _ := r.br.Peek(frameHeaderBytes)
	return uint64(avail-frameHeaderBytes) >= uint64(binary.BigEndian.Uint32(hdr))
}
