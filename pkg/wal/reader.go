package wal

import (
	"bytes"
	"fmt"
	"io"
)

// readChunkBytes is how much a segment reader reads at once: large enough
// that a scan costs few system calls, small enough to keep per reader.
const readChunkBytes = 1 << 20

// segmentReader reads one segment file front to back, frame by frame.
// Every length is checked against the bytes the file holds before
// anything is allocated for it, so a damaged or hostile file costs at most
// its own size in memory (and never more than one record of
// maxRecordBytesLimit).
type segmentReader struct {
	name string      // the file's name, for errors
	r    io.ReaderAt // the file
	size int64       // bytes of the file to read: its size, or less

	buf    []byte // a window on the file: bytes [bufOff, bufOff+len(buf))
	bufOff int64
}

func newSegmentReader(name string, r io.ReaderAt, size int64) *segmentReader {
	return &segmentReader{name: name, r: r, size: size}
}

// window returns the n bytes at off, which must lie within the first size
// bytes. The result is valid until the next call.
func (s *segmentReader) window(off int64, n int) ([]byte, error) {
	if off >= s.bufOff && off+int64(n) <= s.bufOff+int64(len(s.buf)) {
		return s.buf[off-s.bufOff:][:n], nil
	}
	want := min(max(int64(n), readChunkBytes), s.size-off)
	if int64(cap(s.buf)) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	s.bufOff = off
	got, err := s.r.ReadAt(s.buf, off)
	if int64(got) < want {
		s.buf = s.buf[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("wal: read %s at offset %d: %w", s.name, off, err)
	}
	return s.buf[:n], nil
}

// header reads and decodes the segment header.
func (s *segmentReader) header() (segmentHeader, error) {
	if s.size < segmentHeaderBytes {
		return segmentHeader{}, s.corrupt(0, fmt.Sprintf("file of %d bytes is shorter than a segment header", s.size))
	}
	b, err := s.window(0, segmentHeaderBytes)
	if err != nil {
		return segmentHeader{}, err
	}
	h, err := parseSegmentHeader(b)
	if err != nil {
		return segmentHeader{}, s.corrupt(0, err.Error())
	}
	return h, nil
}

// frameStatus is what readFrame found at an offset.
type frameStatus int

const (
	// frameOK: a whole record with a valid checksum.
	frameOK frameStatus = iota
	// frameEnd: the end of the records: the end of the file, or a frame
	// header of zeros (preallocated space never written).
	frameEnd
	// frameBad: bytes that are not a whole valid frame: torn or damaged.
	frameBad
)

// frame is the outcome of readFrame.
type frame struct {
	status  frameStatus
	index   uint64
	payload []byte // valid until the reader's next call
	next    int64  // offset after the frame (frameOK)
	reason  string // why the frame is bad (frameBad)
}

// readFrame reads the frame at off.
func (s *segmentReader) readFrame(off int64) (frame, error) {
	left := s.size - off
	if left == 0 {
		return frame{status: frameEnd}, nil
	}
	if left < frameHeaderBytes {
		b, err := s.window(off, int(left))
		if err != nil {
			return frame{}, err
		}
		if allZero(b) {
			return frame{status: frameEnd}, nil
		}
		return frame{status: frameBad, reason: fmt.Sprintf("frame header cut short at %d bytes", left)}, nil
	}
	b, err := s.window(off, frameHeaderBytes)
	if err != nil {
		return frame{}, err
	}
	h := parseFrameHeader(b)
	if h.isZero() {
		return frame{status: frameEnd}, nil
	}
	if h.length > maxRecordBytesLimit || int64(h.length) > left-frameHeaderBytes {
		return frame{status: frameBad, reason: fmt.Sprintf("record length %d exceeds the %d bytes left in the segment",
			h.length, left-frameHeaderBytes)}, nil
	}
	n := frameHeaderBytes + int(h.length)
	b, err = s.window(off, n)
	if err != nil {
		return frame{}, err
	}
	if got := frameChecksum(b); got != h.crc {
		return frame{status: frameBad, reason: fmt.Sprintf("checksum %08x, want %08x", got, h.crc)}, nil
	}
	return frame{status: frameOK, index: h.index, payload: b[frameHeaderBytes:], next: off + int64(n)}, nil
}

// nonZeroEnd returns the offset just after the last byte in [from, size)
// that is not zero, or from if there is none.
func (s *segmentReader) nonZeroEnd(from int64) (int64, error) {
	end := from
	for off := from; off < s.size; {
		n := int(min(readChunkBytes, s.size-off))
		b, err := s.window(off, n)
		if err != nil {
			return 0, err
		}
		if i := lastNonZero(b); i >= 0 {
			end = off + int64(i) + 1
		}
		off += int64(n)
	}
	return end, nil
}

// findFrame looks at every offset in [from, to) for a whole frame with a
// valid checksum and an index above after, and returns the first one's
// offset and index, or -1. A torn write leaves no such frame behind the
// place it tore; finding one means the damage is not a torn write.
func (s *segmentReader) findFrame(from, to int64, after uint64) (int64, uint64, error) {
	// More frames than this cannot fit in [from, to).
	maxIndex := after + uint64(to-from)/frameHeaderBytes + 1
	for off := from; off < to && off+frameHeaderBytes <= s.size; off++ {
		b, err := s.window(off, frameHeaderBytes)
		if err != nil {
			return 0, 0, err
		}
		if h := parseFrameHeader(b); h.index <= after || h.index > maxIndex {
			continue
		}
		f, err := s.readFrame(off)
		if err != nil {
			return 0, 0, err
		}
		if f.status == frameOK && f.index > after && f.index <= maxIndex {
			return off, f.index, nil
		}
	}
	return -1, 0, nil
}

// corrupt returns an ErrCorrupt naming the segment and the offset.
func (s *segmentReader) corrupt(off int64, what string) error {
	return fmt.Errorf("%w: segment %s, offset %d: %s", ErrCorrupt, s.name, off, what)
}

func allZero(b []byte) bool { return lastNonZero(b) < 0 }

// lastNonZero returns the index of the last byte of b that is not zero, or
// -1.
func lastNonZero(b []byte) int {
	var zeros [512]byte
	for end := len(b); end > 0; {
		start := max(0, end-len(zeros))
		if !bytes.Equal(b[start:end], zeros[:end-start]) {
			for i := end - 1; ; i-- {
				if b[i] != 0 {
					return i
				}
			}
		}
		end = start
	}
	return -1
}
