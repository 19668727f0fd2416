package eventlog

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// blockReader reads the blocks of a stream file (see the format in
// stream.go) and hands out a block's data only once the whole block is
// read and its checksums match: what reads through it, the zstd decoder,
// never sees a damaged byte.
type blockReader struct {
	in *bufio.Reader
	// offset is the file offset of the next block.
	offset int64
	// header is the block header being read (a field, so that reading
	// into it does not allocate).
	header [blockHeaderBytes]byte
	// data is the block being handed out; rest, its part not read yet.
	data []byte
	rest []byte

	// err is the damage (or the read error) found; once set, Read returns
	// it.
	err error
	// ended tells that the file has ended, and cut that it ended inside
	// a block: in both cases, Read returns io.EOF.
	ended bool
	cut   bool
}

// newBlockReader reads blocks from in, whose first block is at offset.
func newBlockReader(in *bufio.Reader, offset int64) *blockReader {
	return &blockReader{in: in, offset: offset}
}

// Read hands out the data of the verified blocks.
func (b *blockReader) Read(p []byte) (int, error) {
	for len(b.rest) == 0 {
		switch {
		case b.err != nil:
			return 0, b.err
		case b.ended:
			return 0, io.EOF
		}
		b.readBlock()
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

// readBlock reads the next block into data and rest, or sets err or ended.
func (b *blockReader) readBlock() {
	h := b.header[:]
	if _, err := io.ReadFull(b.in, h); err != nil {
		b.end(err, err == io.ErrUnexpectedEOF)
		return
	}
	size := binary.LittleEndian.Uint32(h[0:])
	sum := binary.LittleEndian.Uint32(h[4:])
	switch {
	case crc32.Checksum(h[:8], castagnoli) != binary.LittleEndian.Uint32(h[8:]):
		b.err = b.damage("its header fails its checksum")
		return
	case size > maxBlockBytes:
		b.err = b.damage(fmt.Sprintf("its length %d is over the limit of %d", size, maxBlockBytes))
		return
	}
	var err error
	b.data, err = readSized(b.in, b.data, uint64(size))
	if err != nil {
		b.end(err, true)
		return
	}
	if crc32.Checksum(b.data, castagnoli) != sum {
		b.err = b.damage("its data fail their checksum")
		return
	}
	b.rest = b.data
	b.offset += blockHeaderBytes + int64(size)
}

// end records that reading a block failed with err: the file's end (inside
// a block if inBlock), or an error of the file itself.
func (b *blockReader) end(err error, inBlock bool) {
	if err != io.EOF && err != io.ErrUnexpectedEOF {
		b.err = fmt.Errorf("block at offset %d: %w", b.offset, err)
		return
	}
	b.ended, b.cut = true, inBlock
}

// damage returns the error for a damaged block at offset.
func (b *blockReader) damage(why string) error {
	return fmt.Errorf("block at offset %d is damaged: %s: %w", b.offset, why, ErrCorrupt)
}

// readSized reads size bytes from r into buf, reusing buf's memory. It
// reads (and allocates) at most readStep bytes at once, so that a damaged
// size costs no more memory than the data that is there. The end of r
// before size bytes is io.ErrUnexpectedEOF.
func readSized(r io.Reader, buf []byte, size uint64) ([]byte, error) {
	buf = buf[:0]
	for remaining := size; remaining > 0; {
		step := min(remaining, readStep)
		start := len(buf)
		buf = slices.Grow(buf, int(step))[:start+int(step)]
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return buf[:start], noEOF(err)
		}
		remaining -= step
	}
	return buf, nil
}

// readStep is the most of a frame's or block's data read (and allocated)
// at once.
const readStep = 1 << 20

// noEOF turns io.EOF inside a frame or block into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
