package eventlog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// The stream format, version 3. A file is the 8-byte magic followed by
// blocks:
//
//	block = length (uint32) | CRC-32C of data (uint32) |
//	        CRC-32C of the 8 bytes before (uint32) | data (length bytes)
//
// all little-endian. A block holds what the compressor output for at most
// blockPlainMax bytes of input, or when it was flushed or closed. The
// blocks' data, concatenated, is one zstd stream (one compressor per file,
// not per record or per block, so that events repeated across blocks
// still compress) of frames, which may span blocks:
//
//	frame = kind (1 byte) | payload length (uvarint) | payload
//
// The kinds:
//
//	'H' header, first: JSON of StreamHeader.
//	'T' type: uvarint index | name. Names the type index used by entries.
//	'B' batch: uvarint number | varint time (Unix ns) | uvarint count |
//	    count entries, each: uvarint seq (the first absolute, the others
//	    as the difference to the previous one) | flags (1 byte: input,
//	    unencodable, same destination as the previous entry) | uvarint
//	    type index | [uvarint len | dest, unless the same] | uvarint len |
//	    data: the event's encoding, or, with flag refs, segments that
//	    refer to byte strings written before (see refs.go).
//	'G' gap: uvarint count of events dropped here.
//	'E' end, last: uvarint count of events in the file. A file without it
//	    was not closed (its writer was killed) and may be cut short.
//
// Damage and cut-offs. The reader hands the decompressor a block's data
// only once the whole block is read and both its checksums match, so
// every byte of a record handed out was verified. A killed writer
// leaves a prefix of what it wrote: the file may end anywhere, between
// blocks or inside one. Hence the rule: a file that ends before its last
// block is complete is cut off (the records in its whole blocks are read,
// with a warning); a complete block whose checksums do not match is damage
// (ErrCorrupt), wherever it is, the last one included. A flipped bit
// cannot shorten a file, and one in a length is caught by its header's
// checksum, so damage never passes for a cut-off. (Storage that loses
// writes the process made, as a power cut may before the file was synced,
// can leave garbage in place of the tail: that reads as damage.)
const (
	streamMagicPrefix = "MIRLOG\x00"
	streamMagic       = streamMagicPrefix + string(rune(StreamFormatVersion))
	frameHeader       = 'H'
	frameType         = 'T'
	frameBatch        = 'B'
	frameGap          = 'G'
	frameEnd          = 'E'
	flagInput         = 1 << 0
	flagUnencoded     = 1 << 1
	// flagSameDest marks an entry whose destination is the previous
	// entry's, which is then not repeated.
	flagSameDest = 1 << 2
	// flagRefs marks an entry whose data are segments (refs.go), not the
	// event's encoding itself (format 3).
	flagRefs = 1 << 3

	// maxFrame bounds a frame's payload, so that a corrupt length cannot
	// make the reader allocate without limit.
	maxFrame = 256 << 20
	// StreamExt is the extension of stream log files.
	StreamExt = ".mirlog"
)

// StreamFormatVersion is the version of the stream format this package
// writes. It reads this one and version 2, which had no references to
// byte strings written before (flagRefs). Version 1 had no checksum of its
// own per block (only zstd's, at the end of each file), so its records
// could not be verified before they were handed out; this package does
// not read it.
const StreamFormatVersion = 3

// minStreamFormatVersion is the oldest stream format this package reads.
const minStreamFormatVersion = 2

const (
	// blockHeaderBytes is the size of a block's header: length, CRC-32C
	// of the data, CRC-32C of the two before.
	blockHeaderBytes = 12
	// blockPlainMax bounds the frames' bytes handed to the compressor at
	// once, and so a block: it is the compressor's block size, so that
	// each such write outputs at most one compressed block. (Flushing the
	// compressor at each block instead, at frame boundaries, made files
	// about 45 % larger.)
	blockPlainMax = 128 << 10
	// maxBlockBytes bounds a block's data as the reader accepts it: a
	// compressed block of blockPlainMax bytes, which zstd stores raw at
	// worst (3 bytes more), and the zstd frame's header, with room to
	// spare.
	maxBlockBytes = blockPlainMax + 1<<10
)

// castagnoli is the CRC-32C table: the polynomial that processors compute
// in hardware, which makes checking a block cost next to nothing.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// StreamHeader is the first frame of a stream file.
type StreamHeader struct {
	// Format is StreamFormatVersion.
	Format int `json:"format"`
	// Node is the node whose events the file holds.
	Node stdtypes.NodeID `json:"node"`
	// Start is when the recorder started.
	Start time.Time `json:"start"`
	// File is the file's number among the node's files in its directory.
	File int `json:"file"`
	// Meta is what the recording's user attached, for example the name
	// under which the node's modules are registered for replay.
	Meta map[string]string `json:"meta,omitempty"`
	// RefWindow is the size in bytes of the file's window of byte strings
	// that entries refer to (refs.go); 0 if they refer to none.
	RefWindow int `json:"refWindow,omitempty"`
}

// StreamOptions configure a StreamSink. The zero value is valid.
type StreamOptions struct {
	// MaxFileSize, if not 0, starts a new file once the current one has
	// this many bytes, compressed. It is checked after each batch against
	// the blocks written, which lag behind by what the sink gathers before
	// compressing (64 KiB) and what the compressor keeps until it has a
	// whole compressed block (at most 128 KiB), so files end a little
	// larger.
	MaxFileSize int64
	// Meta is written in each file's header (StreamHeader.Meta).
	Meta map[string]string
	// RefWindowBytes is how many bytes of the byte strings (of at least
	// 64 bytes) in the events' encodings the sink keeps, to write a
	// reference in place of a string it wrote before (see refs.go): 0
	// means DefaultRefWindowBytes, a negative value writes every string
	// in full. The sink holds this much memory, an eighth more (its
	// index of the strings; up to a quarter for a size not a power of 2)
	// and up to a quarter more (16 bytes of bookkeeping per 64 bytes),
	// and each reader of its files at most this much and a quarter more
	// (the bookkeeping); at most 64 MiB.
	RefWindowBytes int
}

// StreamSink writes a node's events to zstd-compressed stream files in a
// directory: NODE.N.mirlog, with N counting up from the first number not
// yet used there, so a restarted node never overwrites its earlier files.
type StreamSink struct {
	dir  string
	node stdtypes.NodeID
	opts StreamOptions
	// start is the header's Start.
	start time.Time

	file    *os.File
	counter countingWriter
	buf     *bufio.Writer
	zw      *zstd.Encoder
	// zout collects what zw outputs, until it is written as a block.
	zout    bytes.Buffer
	fileNum int
	// inFile counts the events written to the current file.
	inFile uint64

	// types maps event types to their index in the current file.
	types    map[reflect.Type]uint64
	lastType reflect.Type
	lastIdx  uint64
	// refs finds repeated byte strings; nil if the sink writes none.
	refs *refWriter

	out     []byte
	payload []byte
	evBuf   []byte
	segs    []byte
	files   []string
}

// NewStreamRecorder returns a Recorder of node's events writing stream files
// to dir (see StreamSink), creating dir if needed.
func NewStreamRecorder(dir string, node stdtypes.NodeID, opts StreamOptions, ropts RecorderOptions) (*Recorder, error) {
	sink, err := NewStreamSink(dir, node, opts)
	if err != nil {
		return nil, err
	}
	r, err := NewRecorder(node, sink, ropts)
	if err != nil {
		_ = sink.Close()
		return nil, err
	}
	return r, nil
}

// NewStreamSink creates dir if needed and the node's first file in it.
func NewStreamSink(dir string, node stdtypes.NodeID, opts StreamOptions) (*StreamSink, error) {
	if node == "" {
		return nil, errors.New("eventlog: stream sink needs a node ID")
	}
	if opts.MaxFileSize < 0 {
		return nil, fmt.Errorf("eventlog: MaxFileSize %d is negative", opts.MaxFileSize)
	}
	if opts.RefWindowBytes > maxRefWindowBytes {
		return nil, fmt.Errorf("eventlog: RefWindowBytes %d is over the limit of %d", opts.RefWindowBytes, maxRefWindowBytes)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	first, err := nextFileNumber(dir, node)
	if err != nil {
		return nil, err
	}
	s := &StreamSink{dir: dir, node: node, opts: opts, start: time.Now(), fileNum: first - 1}
	switch {
	case opts.RefWindowBytes == 0:
		s.refs = newRefWriter(DefaultRefWindowBytes)
	case opts.RefWindowBytes > 0:
		s.refs = newRefWriter(opts.RefWindowBytes)
	}
	if err := s.openNext(); err != nil {
		return nil, err
	}
	return s, nil
}

// streamFilePrefix is the part of a node's file names before the number.
func streamFilePrefix(node stdtypes.NodeID) string {
	return url.PathEscape(string(node)) + "."
}

// nextFileNumber returns the first file number after those of node's files
// already in dir.
func nextFileNumber(dir string, node stdtypes.NodeID) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("eventlog: %w", err)
	}
	prefix := streamFilePrefix(node)
	next := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, StreamExt) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, prefix), StreamExt))
		if err == nil && n >= next {
			next = n + 1
		}
	}
	return next, nil
}

// Files returns the paths of the files written so far.
func (s *StreamSink) Files() []string { return append([]string(nil), s.files...) }

func (s *StreamSink) openNext() error {
	s.fileNum++
	path := filepath.Join(s.dir, fmt.Sprintf("%s%06d%s", streamFilePrefix(s.node), s.fileNum, StreamExt))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	s.file = f
	s.buf = bufio.NewWriterSize(f, 256<<10)
	s.counter = countingWriter{w: s.buf}
	if _, err := s.counter.Write([]byte(streamMagic)); err != nil {
		return s.fail(err)
	}
	if s.zw == nil {
		// One goroutine, the recorder's, compresses: the node's loop has
		// the other core, and the recorder must keep up with it. Hence the
		// fastest level without entropy coding (about a quarter less CPU
		// per event for somewhat larger files: the matches, which is where
		// repeated event encodings compress, are kept), and a small window,
		// which keeps the history the encoder moves at each block cheap;
		// events repeat within a few batches. zstd's checksum is left out:
		// it covers a whole file and is checked only at its end, after the
		// records; each block has its own (writeBlock).
		s.zw, err = zstd.NewWriter(&s.zout, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20), zstd.WithNoEntropyCompression(true),
			zstd.WithEncoderCRC(false))
		if err != nil {
			return s.fail(err)
		}
	} else {
		s.zout.Reset()
		s.zw.Reset(&s.zout)
	}
	s.files = append(s.files, path)
	s.inFile = 0
	s.types = make(map[reflect.Type]uint64)
	s.lastType = nil
	hdr := StreamHeader{Format: StreamFormatVersion, Node: s.node, Start: s.start, File: s.fileNum, Meta: s.opts.Meta}
	if s.refs != nil {
		// A reader starts at a file's start: references stay within it.
		s.refs.reset()
		hdr.RefWindow = s.refs.win.size
	}
	header, err := json.Marshal(hdr)
	if err != nil {
		return s.fail(err)
	}
	if err := s.writeFrame(frameHeader, header); err != nil {
		return err
	}
	// The header goes to the file at once: a file cut off by a crash then
	// holds at least its header, and reads as a cut-off rather than as no
	// log at all.
	return s.Flush()
}

// fail closes the current file after an error and returns the error.
func (s *StreamSink) fail(err error) error {
	if s.file != nil {
		_ = s.file.Close()
		s.file = nil
	}
	return fmt.Errorf("eventlog: %w", err)
}

// writeFrame adds a frame to out, and hands out to the compressor once it
// holds outFlushSize bytes: each call into the compressor has a cost of its
// own (checksum, block bookkeeping), which frames of one small event would
// pay each.
func (s *StreamSink) writeFrame(kind byte, payload []byte) error {
	s.out = append(s.out, kind)
	s.out = binary.AppendUvarint(s.out, uint64(len(payload)))
	s.out = append(s.out, payload...)
	if len(s.out) >= outFlushSize {
		return s.drainOut()
	}
	return nil
}

// outFlushSize is how many bytes of frames the sink gathers before handing
// them to the compressor.
const outFlushSize = 64 << 10

// drainOut hands the gathered frames to the compressor, blockPlainMax
// bytes at a time, and writes what it outputs as blocks. The compressor
// keeps what does not fill a compressed block until more comes or it is
// flushed.
func (s *StreamSink) drainOut() error {
	for p := s.out; len(p) > 0; {
		n := min(len(p), blockPlainMax)
		if _, err := s.zw.Write(p[:n]); err != nil {
			return s.fail(err)
		}
		if err := s.writeBlock(); err != nil {
			return err
		}
		p = p[n:]
	}
	s.out = s.out[:0]
	return nil
}

// writeBlock writes what the compressor has output since the last block
// as a block, if anything.
func (s *StreamSink) writeBlock() error {
	data := s.zout.Bytes()
	if len(data) == 0 {
		return nil
	}
	var h [blockHeaderBytes]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(data, castagnoli))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(h[:8], castagnoli))
	_, err := s.counter.Write(h[:])
	if err == nil {
		_, err = s.counter.Write(data)
	}
	s.zout.Reset()
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// typeIndex returns the index of ev's type in the current file, writing
// its 'T' frame the first time.
func (s *StreamSink) typeIndex(ev stdtypes.Event) (uint64, error) {
	t := reflect.TypeOf(ev)
	if t == s.lastType {
		return s.lastIdx, nil
	}
	idx, ok := s.types[t]
	if !ok {
		idx = uint64(len(s.types))
		s.types[t] = idx
		p := binary.AppendUvarint(nil, idx)
		p = append(p, typeNameOf(ev)...)
		if err := s.writeFrame(frameType, p); err != nil {
			return 0, err
		}
	}
	s.lastType, s.lastIdx = t, idx
	return idx, nil
}

// typeNameOf is the name a log gives ev's type: its codec name, or its Go
// name if it is not registered.
func typeNameOf(ev stdtypes.Event) string {
	if name, ok := codec.Name(ev); ok {
		return name
	}
	return stdtypes.TypeName(ev)
}

// WriteBatch writes a 'B' frame.
func (s *StreamSink) WriteBatch(b *Batch) error {
	if s.file == nil {
		return errors.New("eventlog: stream sink is closed or failed")
	}
	// Type frames must precede the batch that uses them, so indices are
	// assigned first.
	p := s.payload[:0]
	p = binary.AppendUvarint(p, b.Number)
	p = binary.AppendVarint(p, b.Time.UnixNano())
	p = binary.AppendUvarint(p, uint64(len(b.Entries)))
	var prevSeq uint64
	var prevDest stdtypes.ModuleID
	for i, e := range b.Entries {
		if i == 0 {
			p = binary.AppendUvarint(p, e.Seq)
		} else {
			p = binary.AppendUvarint(p, e.Seq-prevSeq)
		}
		prevSeq = e.Seq
		var flags byte
		if e.Input {
			flags |= flagInput
		}
		var err error
		s.evBuf, err = codec.AppendEvent(s.evBuf[:0], e.Event)
		if err != nil {
			flags |= flagUnencoded
			s.evBuf = append(s.evBuf[:0], err.Error()...)
		}
		idx, err := s.typeIndex(e.Event)
		if err != nil {
			return err
		}
		dest := e.Event.Dest()
		if i > 0 && dest == prevDest {
			flags |= flagSameDest
		}
		prevDest = dest
		data := s.evBuf
		if s.refs != nil && flags&flagUnencoded == 0 {
			var ok bool
			if s.segs, ok = s.refs.appendSegments(s.segs[:0], s.evBuf); ok {
				flags |= flagRefs
				data = s.segs
			}
		}
		p = append(p, flags)
		p = binary.AppendUvarint(p, idx)
		if flags&flagSameDest == 0 {
			p = binary.AppendUvarint(p, uint64(len(dest)))
			p = append(p, dest...)
		}
		p = binary.AppendUvarint(p, uint64(len(data)))
		p = append(p, data...)
	}
	s.payload = p
	if err := s.writeFrame(frameBatch, p); err != nil {
		return err
	}
	s.inFile += uint64(len(b.Entries))
	if s.opts.MaxFileSize > 0 && s.counter.n >= s.opts.MaxFileSize {
		if err := s.closeFile(); err != nil {
			return err
		}
		return s.openNext()
	}
	return nil
}

// WriteGap writes a 'G' frame.
func (s *StreamSink) WriteGap(dropped uint64) error {
	if s.file == nil {
		return errors.New("eventlog: stream sink is closed or failed")
	}
	return s.writeFrame(frameGap, binary.AppendUvarint(nil, dropped))
}

// Flush hands what was written to the operating system.
func (s *StreamSink) Flush() error {
	if s.file == nil {
		return errors.New("eventlog: stream sink is closed or failed")
	}
	if err := s.drainOut(); err != nil {
		return err
	}
	if err := s.zw.Flush(); err != nil {
		return s.fail(err)
	}
	if err := s.writeBlock(); err != nil {
		return err
	}
	if err := s.buf.Flush(); err != nil {
		return s.fail(err)
	}
	return nil
}

// closeFile ends the current file with its 'E' frame and syncs it.
func (s *StreamSink) closeFile() error {
	if err := s.writeFrame(frameEnd, binary.AppendUvarint(nil, s.inFile)); err != nil {
		return err
	}
	if err := s.drainOut(); err != nil {
		return err
	}
	if err := s.zw.Close(); err != nil {
		return s.fail(err)
	}
	if err := s.writeBlock(); err != nil {
		return err
	}
	if err := s.buf.Flush(); err != nil {
		return s.fail(err)
	}
	if err := s.file.Sync(); err != nil {
		return s.fail(err)
	}
	err := s.file.Close()
	s.file = nil
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	return nil
}

// Close ends and closes the current file.
func (s *StreamSink) Close() error {
	if s.file == nil {
		return nil
	}
	return s.closeFile()
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
