package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// The on-disk format; doc.go describes it for users.

// formatVersion is written in every segment header. A reader refuses a
// segment of another version rather than guess at its layout.
const formatVersion = 1

// segmentMagic opens every segment file. The newline makes a segment
// opened by mistake in a text tool announce itself on the first line.
var segmentMagic = [8]byte{'M', 'I', 'R', '-', 'W', 'A', 'L', '\n'}

const (
	// segmentHeaderBytes is the size of a segment header: magic (8),
	// version (4), log ID (8), first index (8), CRC-32C of those 28 bytes (4).
	segmentHeaderBytes = 32

	// frameHeaderBytes is the size of a record's frame header: CRC-32C (4),
	// payload length (4), index (8). The checksum covers the length, the
	// index and the payload, so a record cannot be moved to another index
	// or cut short without detection.
	frameHeaderBytes = 16

	// maxRecordBytesLimit is the largest payload the format allows and the
	// largest Options.MaxRecordBytes. A record is held whole in memory by
	// the writer's queue and by a reader, and a reader allocates for it
	// after checking that the file holds that many bytes; a gigabyte is far
	// beyond any event (the codec refuses inputs over 16 MiB by default)
	// and still an allocation a server survives.
	maxRecordBytesLimit = 1 << 30

	// maxFirstIndex is the largest first index a segment header may
	// claim. It keeps index arithmetic (last+1, first-1, a count added to
	// a first index) far from overflow; appends cannot get there either:
	// at a million records a second, 2^62 of them take 146,000 years.
	maxFirstIndex = 1 << 62
)

// castagnoli is the CRC-32C table: the polynomial has hardware support on
// amd64 and arm64 and better error detection than IEEE's for the burst
// errors storage produces.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segmentHeader is the decoded header of a segment file.
type segmentHeader struct {
	logID      uint64
	firstIndex uint64
}

// appendSegmentHeader appends the encoded header h to dst.
func appendSegmentHeader(dst []byte, h segmentHeader) []byte {
	start := len(dst)
	dst = append(dst, segmentMagic[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, formatVersion)
	dst = binary.LittleEndian.AppendUint64(dst, h.logID)
	dst = binary.LittleEndian.AppendUint64(dst, h.firstIndex)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// parseSegmentHeader decodes a segment header; b must hold at least
// segmentHeaderBytes bytes. The error says what is wrong, without context.
func parseSegmentHeader(b []byte) (segmentHeader, error) {
	if len(b) < segmentHeaderBytes {
		return segmentHeader{}, fmt.Errorf("header is %d bytes, want %d", len(b), segmentHeaderBytes)
	}
	if [8]byte(b[:8]) != segmentMagic {
		return segmentHeader{}, fmt.Errorf("no segment magic (found %q)", b[:8])
	}
	if got, want := binary.LittleEndian.Uint32(b[28:32]), crc32.Checksum(b[:28], castagnoli); got != want {
		return segmentHeader{}, fmt.Errorf("header checksum %08x, want %08x", got, want)
	}
	if v := binary.LittleEndian.Uint32(b[8:12]); v != formatVersion {
		return segmentHeader{}, fmt.Errorf("format version %d, this reader knows %d", v, formatVersion)
	}
	h := segmentHeader{
		logID:      binary.LittleEndian.Uint64(b[12:20]),
		firstIndex: binary.LittleEndian.Uint64(b[20:28]),
	}
	if h.firstIndex == 0 || h.firstIndex > maxFirstIndex {
		return segmentHeader{}, fmt.Errorf("first index %d, want 1 to %d", h.firstIndex, uint64(maxFirstIndex))
	}
	return h, nil
}

// appendFrame appends the frame of one record to dst.
func appendFrame(dst []byte, index uint64, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0) // checksum, filled in below
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint64(dst, index)
	dst = append(dst, payload...)
	binary.LittleEndian.PutUint32(dst[start:], crc32.Checksum(dst[start+4:], castagnoli))
	return dst
}

// frameHeader is a decoded frame header, not yet checked against its
// payload.
type frameHeader struct {
	crc    uint32
	length uint32
	index  uint64
}

// parseFrameHeader decodes a frame header from the first frameHeaderBytes
// bytes of b.
func parseFrameHeader(b []byte) frameHeader {
	return frameHeader{
		crc:    binary.LittleEndian.Uint32(b[0:4]),
		length: binary.LittleEndian.Uint32(b[4:8]),
		index:  binary.LittleEndian.Uint64(b[8:16]),
	}
}

// isZero reports whether the frame header is all zeros, which marks the
// end of a segment's records: a real record has an index of at least 1.
func (h frameHeader) isZero() bool { return h == frameHeader{} }

// checksum returns the CRC-32C of a frame: b is the whole frame, header
// included.
func frameChecksum(b []byte) uint32 { return crc32.Checksum(b[4:], castagnoli) }

// frameBytes is the size of the frame of a payload of n bytes.
func frameBytes(n int) int64 { return frameHeaderBytes + int64(n) }

// Segment files are named after their first index, in 16 hexadecimal
// digits, so that the names sort as the indices do.
const (
	segmentSuffix = ".wal"
	tempSuffix    = ".tmp"
	lockName      = "LOCK"
	// spareName is the file a Log prepares for its next segment.
	spareName = "next" + segmentSuffix + tempSuffix
)

// segmentName returns the file name of the segment whose first record has
// index first.
func segmentName(first uint64) string { return fmt.Sprintf("%016x%s", first, segmentSuffix) }

// parseSegmentName returns the first index a segment file's name carries,
// and whether name is a segment's name at all.
func parseSegmentName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(hex) != 16 || strings.ToLower(hex) != hex {
		return 0, false
	}
	first, err := strconv.ParseUint(hex, 16, 64)
	if err != nil || first == 0 {
		return 0, false
	}
	return first, true
}
