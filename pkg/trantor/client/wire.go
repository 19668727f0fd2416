package client

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// The wire format, version 1 (doc.go describes it for implementers in other
// languages). A frame is a 4-byte big-endian body length, then the body:
//
//	version (1 byte, = 1) | kind (1 byte) | uvarint(len(clientID)) | clientID | uvarint(txNo) | payload
//
// kind is kindSubmit (client to node; the payload is the transaction) or
// kindReply (node to client; the payload is the result). The payload runs to
// the end of the body.
const (
	wireVersion      = 1
	kindSubmit       = 1
	kindReply        = 2
	frameHeaderBytes = 4
)

// MaxClientIDBytes bounds a client ID: it is repeated in every frame and
// kept per connection, and IDs are names, not data.
const MaxClientIDBytes = 256

// readChunkBytes is the first step by which the buffer for a frame's body
// grows as its bytes arrive (later steps double it), so that a header
// claiming a large body costs memory only once the body comes.
const readChunkBytes = 4 << 10

// Errors of the frame reader and decoder. A server closes a connection
// whose frame meets one, and counts it (ServerMetrics.BadFrames).
var (
	// ErrFrameTooLarge: the header claims a body longer than the maximum.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrTruncated: the connection ended inside a frame.
	ErrTruncated = errors.New("truncated frame")
	// ErrBadFrame: the body is not a valid frame of the expected kind.
	ErrBadFrame = errors.New("undecodable frame")
)

// frame is a decoded body.
type frame struct {
	kind byte
	// clientID and payload share memory with the body they were decoded
	// from: a reader that keeps the ID interns it (a connection's frames
	// name few clients), not allocating one per frame.
	clientID []byte
	txNo     uint64
	payload  []byte
}

// appendFrame appends the frame of kind with clientID, txNo and payload to
// dst.
func appendFrame(dst []byte, kind byte, clientID string, txNo uint64, payload []byte) []byte {
	return append(appendFrameHead(dst, kind, clientID, txNo, len(payload)), payload...)
}

// appendFrameHead appends what precedes the payload of payloadBytes in
// the frame appendFrame makes, for a payload written from where it is.
func appendFrameHead(dst []byte, kind byte, clientID string, txNo uint64, payloadBytes int) []byte {
	start := len(dst)
	b := append(dst, 0, 0, 0, 0, wireVersion, kind)
	b = binary.AppendUvarint(b, uint64(len(clientID)))
	b = append(b, clientID...)
	b = binary.AppendUvarint(b, txNo)
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-frameHeaderBytes+payloadBytes))
	return b
}

// frameBytes is the size of the frame appendFrame makes.
func frameBytes(clientID string, txNo uint64, payload []byte) int {
	return frameHeaderBytes + 2 + uvarintLen(uint64(len(clientID))) + len(clientID) + uvarintLen(txNo) + len(payload)
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

// decodeFrame decodes body, which must be of kind want. The client ID must
// be 1 to MaxClientIDBytes bytes of valid UTF-8 (it ends up in logs and
// events), and integers minimally encoded, so that each frame has one
// encoding.
func decodeFrame(body []byte, want byte) (frame, error) {
	if len(body) < 2 {
		return frame{}, fmt.Errorf("%w: %d-byte body", ErrBadFrame, len(body))
	}
	if body[0] != wireVersion {
		return frame{}, fmt.Errorf("%w: version %d, want %d", ErrBadFrame, body[0], wireVersion)
	}
	if body[1] != want {
		return frame{}, fmt.Errorf("%w: kind %d, want %d", ErrBadFrame, body[1], want)
	}
	rest := body[2:]
	idLen, rest, err := uvarint(rest)
	if err != nil {
		return frame{}, fmt.Errorf("%w: client ID length: %w", ErrBadFrame, err)
	}
	if idLen == 0 || idLen > MaxClientIDBytes || idLen > uint64(len(rest)) {
		return frame{}, fmt.Errorf("%w: client ID of %d bytes", ErrBadFrame, idLen)
	}
	id := rest[:idLen]
	if !utf8.Valid(id) {
		return frame{}, fmt.Errorf("%w: client ID not UTF-8", ErrBadFrame)
	}
	txNo, rest, err := uvarint(rest[idLen:])
	if err != nil {
		return frame{}, fmt.Errorf("%w: transaction number: %w", ErrBadFrame, err)
	}
	return frame{kind: want, clientID: id, txNo: txNo, payload: rest}, nil
}

// uvarint decodes a minimally encoded uvarint at the start of b.
func uvarint(b []byte) (uint64, []byte, error) {
	x, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, nil, errors.New("bad uvarint")
	}
	if k != uvarintLen(x) {
		return 0, nil, errors.New("uvarint not minimally encoded")
	}
	return x, b[k:], nil
}

// frameBuffered reports whether br holds a whole frame. It does not read
// (Peek reads only what is buffered already).
func frameBuffered(br *bufio.Reader) bool {
	if br.Buffered() < frameHeaderBytes {
		return false
	}
	hdr, _ := br.Peek(frameHeaderBytes)
	return uint64(br.Buffered()) >= frameHeaderBytes+uint64(binary.BigEndian.Uint32(hdr))
}

// readFrame reads the next frame's body from br into buf (reused; the body
// is valid until the next call). The body is at most maxBody bytes. The
// error is io.EOF if the connection ended cleanly between frames, wraps
// ErrFrameTooLarge or ErrTruncated for a bad frame, and is the
// connection's error otherwise.
func readFrame(br *bufio.Reader, buf []byte, maxBody int) ([]byte, error) {
	var hdr [frameHeaderBytes]byte
	if n, err := io.ReadFull(br, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %d header bytes", ErrTruncated, n)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(maxBody) {
		return nil, fmt.Errorf("%w: header claims %d bytes, at most %d", ErrFrameTooLarge, n, maxBody)
	}
	size := int(n)
	buf = buf[:0]
	for len(buf) < size {
		step := min(size-len(buf), max(len(buf), readChunkBytes))
		buf = slices.Grow(buf, step)
		got, err := io.ReadFull(br, buf[len(buf):len(buf)+step])
		buf = buf[:len(buf)+got]
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%w: %d of %d body bytes", ErrTruncated, len(buf), size)
			}
			return nil, err
		}
	}
	return buf, nil
}
