package eventlog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/mirframework/mir/stdtypes"
)

// ErrNotLog is returned when opening something that is not an event log.
var ErrNotLog = errors.New("not a Mir event log")

// ErrCorrupt is returned (wrapped) for a log that is damaged: a part that
// fails its checksum, or content that is invalid. A log cut off by a crash
// is not damaged: it ends early, with a warning (see StreamReader.Next).
var ErrCorrupt = errors.New("corrupt event log")

// maxDecoderWindow bounds the memory the zstd decoder may use for a file's
// window; the writer uses far less.
const maxDecoderWindow = 64 << 20

// maxDestCache bounds the cache of destination strings.
const maxDestCache = 4096

// StreamReader reads a stream file (see StreamSink). It is a Source.
type StreamReader struct {
	path string
	file *os.File
	// blocks reads the file's blocks, under zr; nil when the frames are
	// read from plain bytes.
	blocks *blockReader
	zr     *zstd.Decoder
	br     *bufio.Reader
	header StreamHeader

	payload []byte
	types   []string
	dests   map[string]stdtypes.ModuleID
	// refs holds the byte strings that entries refer to (refs.go); nil
	// if the file's header gives no window. resolved holds the current
	// batch's events that refer to them, as they were encoded, and
	// spans where each is in it.
	refs     *refWindow
	resolved []byte
	spans    []resolvedSpan

	// pending are the records of the current batch frame not yet returned.
	pending []Record
	next    int

	records  uint64
	sawEnd   bool
	done     bool
	warnings []string
	dropped  uint64
}

// OpenStream opens a stream file and reads its header. A file that is
// empty, is not a stream log, or whose header cannot be read is an error
// (errors.Is ErrNotLog or ErrCorrupt).
func OpenStream(path string) (*StreamReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := newStreamReader(path, f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewStreamReader reads a stream log from rd, for example a file already
// open; name is used in messages. Close does not close rd.
func NewStreamReader(name string, rd io.Reader) (*StreamReader, error) {
	return newStreamReader(name, rd)
}

func newStreamReader(path string, rd io.Reader) (*StreamReader, error) {
	in := bufio.NewReaderSize(rd, 256<<10)
	magic := make([]byte, len(streamMagic))
	n, err := io.ReadFull(in, magic)
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil, fmt.Errorf("%s: empty file: %w", path, ErrNotLog)
	case err != nil && err != io.ErrUnexpectedEOF:
		return nil, fmt.Errorf("%s: %w", path, err)
	case n < len(streamMagic):
		return nil, fmt.Errorf("%s: %w (too short for a stream log)", path, ErrNotLog)
	case !bytes.Equal(magic[:7], []byte(streamMagicPrefix)):
		return nil, fmt.Errorf("%s: %w (no stream log header)", path, ErrNotLog)
	case magic[7] < minStreamFormatVersion || magic[7] > StreamFormatVersion:
		return nil, fmt.Errorf("%s: stream format version %d, this build reads %d to %d (read it with the build that wrote it): %w",
			path, magic[7], minStreamFormatVersion, StreamFormatVersion, ErrNotLog)
	}
	blocks := newBlockReader(in, int64(len(streamMagic)))
	zr, err := zstd.NewReader(blocks, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxDecoderWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r, err := newFrameReader(path, zr, blocks)
	if err == nil && r.header.Format != int(magic[7]) {
		// The magic has no checksum of its own: a flipped bit can turn
		// one version into another.
		err = fmt.Errorf("%s: the version at offset %d says format %d, the header %d: %w",
			path, len(streamMagic)-1, magic[7], r.header.Format, ErrCorrupt)
	}
	if err != nil {
		zr.Close()
		return nil, err
	}
	r.zr = zr
	return r, nil
}

// newFrameReader reads the frames of a stream log from plain, the
// decompressed content, starting with the header. blocks is what plain
// decompresses, nil if plain is the frames as they are.
func newFrameReader(path string, plain io.Reader, blocks *blockReader) (*StreamReader, error) {
	r := &StreamReader{path: path, blocks: blocks, br: bufio.NewReaderSize(plain, 256<<10), dests: make(map[string]stdtypes.ModuleID)}
	kind, payload, err := r.readFrame()
	if err != nil {
		if _, err := r.classify(err); err != nil {
			return nil, fmt.Errorf("%s: cannot read the log header: %w", path, err)
		}
		return nil, fmt.Errorf("%s: cannot read the log header: the file is cut off before its end: %w", path, ErrCorrupt)
	}
	if kind != frameHeader {
		return nil, fmt.Errorf("%s: the first frame is %q, not the header: %w", path, kind, ErrCorrupt)
	}
	if err := json.Unmarshal(payload, &r.header); err != nil {
		return nil, fmt.Errorf("%s: log header: %v: %w", path, err, ErrCorrupt)
	}
	if r.header.Format < minStreamFormatVersion || r.header.Format > StreamFormatVersion {
		return nil, fmt.Errorf("%s: stream format %d, this build reads %d to %d: %w",
			path, r.header.Format, minStreamFormatVersion, StreamFormatVersion, ErrNotLog)
	}
	switch w := r.header.RefWindow; {
	case w < 0 || w > maxRefWindowBytes || (w > 0 && r.header.Format < 3):
		return nil, fmt.Errorf("%s: log header: reference window of %d bytes (format %d, at most %d): %w",
			path, w, r.header.Format, maxRefWindowBytes, ErrCorrupt)
	case w > 0:
		r.refs = newRefWindow(w)
	}
	if r.header.Node == "" {
		return nil, fmt.Errorf("%s: log header names no node: %w", path, ErrCorrupt)
	}
	return r, nil
}

// Header returns the file's header.
func (r *StreamReader) Header() StreamHeader { return r.header }

// Path returns the file's path.
func (r *StreamReader) Path() string { return r.path }

// Warnings returns what was found wrong with the file so far without
// stopping the reading: a file cut off by a crash, events dropped by the
// recorder.
func (r *StreamReader) Warnings() []string { return r.warnings }

// Dropped returns how many events the recorder dropped (OnFull Drop) in
// the part of the file read so far.
func (r *StreamReader) Dropped() uint64 { return r.dropped }

// readFrame reads the next frame; io.EOF means the stream ended cleanly
// between frames.
func (r *StreamReader) readFrame() (byte, []byte, error) {
	kind, err := r.br.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	size, err := binary.ReadUvarint(r.br)
	if err != nil {
		return 0, nil, noEOF(err)
	}
	if size > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes: %w", size, ErrCorrupt)
	}
	r.payload, err = readSized(r.br, r.payload, size)
	if err != nil {
		return 0, nil, err
	}
	return kind, r.payload, nil
}

// classify tells what err, which ended the reading of frames, means: the
// file's clean end (false, nil), a cut-off (true, nil), or damage or a
// failure to read (the error). See "Damage and cut-offs" in stream.go.
func (r *StreamReader) classify(err error) (cut bool, _ error) {
	b := r.blocks
	switch {
	case b != nil && b.err != nil:
		return false, b.err
	case errors.Is(err, ErrCorrupt):
		return false, err
	case b == nil && err != io.EOF && err != io.ErrUnexpectedEOF:
		return false, err
	case b != nil && !b.ended:
		// The decompressor failed on blocks that passed their checksums,
		// and the file goes on: they were written wrong.
		return false, fmt.Errorf("undecodable data before offset %d: %v: %w", b.offset, err, ErrCorrupt)
	case err == io.EOF && r.sawEnd && (b == nil || !b.cut):
		return false, nil
	}
	// The file ended where the frames, or the zstd stream, need more:
	// every byte read was verified, so nothing but the missing ones is
	// wrong.
	return true, nil
}

// Next returns the next record, or io.EOF after the last one. The record is
// valid until the next call (Clone keeps it). No record is returned before
// the blocks that hold it have been verified. A file cut off (by a crash)
// ends with the last record its whole blocks hold, and a warning
// (Warnings); damage, a block that fails its checksum wherever it is, is
// an error wrapping ErrCorrupt that names the file and the block's offset,
// after the records of the blocks before it.
func (r *StreamReader) Next() (*Record, error) {
	for r.next >= len(r.pending) {
		if r.done {
			return nil, io.EOF
		}
		if err := r.readBatch(); err != nil {
			return nil, err
		}
	}
	rec := &r.pending[r.next]
	r.next++
	r.records++
	return rec, nil
}

// readBatch reads frames until a batch frame fills pending or the file ends.
func (r *StreamReader) readBatch() error {
	r.pending = r.pending[:0]
	r.next = 0
	for {
		kind, payload, err := r.readFrame()
		if err != nil {
			r.done = true
			cut, err := r.classify(err)
			switch {
			case err != nil:
				return fmt.Errorf("%s: after %d events: %w", r.path, r.records, err)
			case cut && r.blocks != nil:
				r.warn("the log is cut off at offset %d, after %d events: its recorder did not close it (the process was killed?)",
					r.blocks.offset, r.records)
			case cut:
				r.warn("the log is cut off after %d events: its recorder did not close it (the process was killed?)", r.records)
			}
			return nil
		}
		if r.sawEnd {
			r.done = true
			return fmt.Errorf("%s: data after the end mark: %w", r.path, ErrCorrupt)
		}
		switch kind {
		case frameBatch:
			if err := r.parseBatch(payload); err != nil {
				r.done = true
				return fmt.Errorf("%s: after %d events: %w", r.path, r.records, err)
			}
			if len(r.pending) > 0 {
				return nil
			}
		case frameType:
			idx, n := binary.Uvarint(payload)
			if n <= 0 || idx != uint64(len(r.types)) {
				r.done = true
				return fmt.Errorf("%s: type frame out of order: %w", r.path, ErrCorrupt)
			}
			r.types = append(r.types, string(payload[n:]))
		case frameGap:
			dropped, n := binary.Uvarint(payload)
			if n <= 0 {
				r.done = true
				return fmt.Errorf("%s: bad gap frame: %w", r.path, ErrCorrupt)
			}
			r.dropped += dropped
			r.warn("the recorder dropped %d events after event %d (its buffer was full)", dropped, r.records)
		case frameEnd:
			count, n := binary.Uvarint(payload)
			if n <= 0 {
				r.done = true
				return fmt.Errorf("%s: bad end frame: %w", r.path, ErrCorrupt)
			}
			if count != r.records+uint64(len(r.pending)) {
				r.warn("the end mark counts %d events, the file holds %d", count, r.records)
			}
			r.sawEnd = true
		default:
			r.done = true
			return fmt.Errorf("%s: unknown frame kind %q: %w", r.path, kind, ErrCorrupt)
		}
	}
}

// maxWarnings bounds the warnings kept: a damaged or hostile file must
// not make the reader's memory grow with its size.
const maxWarnings = 100

func (r *StreamReader) warn(format string, args ...any) {
	switch {
	case len(r.warnings) < maxWarnings:
		r.warnings = append(r.warnings, r.path+": "+fmt.Sprintf(format, args...))
	case len(r.warnings) == maxWarnings:
		r.warnings = append(r.warnings, r.path+": more warnings not shown")
	}
}

// parseBatch decodes a batch frame into pending. Data and names point into
// payload or the type table; nothing is allocated per record but the
// destination of a module not seen before.
func (r *StreamReader) parseBatch(p []byte) error {
	d := frameDecoder{p: p}
	number := d.uvarint()
	nanos := d.varint()
	count := d.uvarint()
	if d.err != nil {
		return d.err
	}
	// Each entry takes at least 5 bytes: a bound on count before allocating.
	if count > uint64(len(p)) {
		return fmt.Errorf("batch of %d events in %d bytes: %w", count, len(p), ErrCorrupt)
	}
	t := time.Unix(0, nanos)
	r.resolved, r.spans = r.resolved[:0], r.spans[:0]
	var seq uint64
	for i := range count {
		delta := d.uvarint()
		if i == 0 {
			seq = delta
		} else {
			if delta == 0 {
				return fmt.Errorf("sequence numbers not increasing: %w", ErrCorrupt)
			}
			seq += delta
		}
		flags := d.byte()
		idx := d.uvarint()
		var dest stdtypes.ModuleID
		if flags&flagSameDest != 0 {
			if i == 0 {
				return fmt.Errorf("first entry of a batch refers to a previous destination: %w", ErrCorrupt)
			}
			dest = r.pending[len(r.pending)-1].Dest
		} else {
			dest = r.dest(d.bytes())
		}
		data := d.bytes()
		if d.err != nil {
			return d.err
		}
		if idx >= uint64(len(r.types)) {
			return fmt.Errorf("type index %d not defined: %w", idx, ErrCorrupt)
		}
		if flags&^(flagInput|flagUnencoded|flagSameDest|flagRefs) != 0 {
			return fmt.Errorf("unknown flags %#x: %w", flags, ErrCorrupt)
		}
		if flags&flagRefs != 0 {
			if err := r.resolve(data); err != nil {
				return err
			}
			data = nil // Set below, once resolved stops growing.
		}
		r.pending = append(r.pending, Record{
			Node:        r.header.Node,
			Run:         r.header.Start.UnixNano(),
			Seq:         seq,
			Batch:       number,
			Time:        t,
			Dest:        dest,
			Type:        r.types[idx],
			Input:       flags&flagInput != 0,
			Unencodable: flags&flagUnencoded != 0,
			Data:        data,
			File:        r.path,
		})
	}
	if len(d.p) != 0 {
		return fmt.Errorf("%d stray bytes after a batch: %w", len(d.p), ErrCorrupt)
	}
	for _, sp := range r.spans {
		r.pending[sp.record].Data = r.resolved[sp.start:sp.end:sp.end]
	}
	return nil
}

// resolvedSpan is where a record's data is in resolved.
type resolvedSpan struct{ record, start, end int }

// resolve appends the encoding that the segments seg stand for to
// resolved, for the next record of pending. A batch's events, resolved,
// take at most maxFrame bytes, as a frame does.
func (r *StreamReader) resolve(seg []byte) error {
	if r.refs == nil {
		return fmt.Errorf("an entry refers to byte strings, and the log's header gives no window: %w", ErrCorrupt)
	}
	start := len(r.resolved)
	var err error
	r.resolved, err = r.refs.resolve(r.resolved, seg, maxFrame)
	if err != nil {
		return err
	}
	r.spans = append(r.spans, resolvedSpan{record: len(r.pending), start: start, end: len(r.resolved)})
	return nil
}

// dest returns b as a ModuleID, from the cache when it was seen before.
func (r *StreamReader) dest(b []byte) stdtypes.ModuleID {
	if id, ok := r.dests[string(b)]; ok {
		return id
	}
	id := stdtypes.ModuleID(b)
	if len(r.dests) < maxDestCache {
		r.dests[string(id)] = id
	}
	return id
}

// Close releases the reader and closes the file it opened.
func (r *StreamReader) Close() error {
	if r.zr != nil {
		r.zr.Close()
	}
	if r.file != nil {
		err := r.file.Close()
		r.file = nil
		return err
	}
	return nil
}

// frameDecoder reads the fields of a frame, remembering the first error.
type frameDecoder struct {
	p   []byte
	err error
}

func (d *frameDecoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("truncated field: %w", ErrCorrupt)
	}
	d.p = nil
}

func (d *frameDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *frameDecoder) varint() int64 {
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *frameDecoder) byte() byte {
	if len(d.p) == 0 {
		d.fail()
		return 0
	}
	b := d.p[0]
	d.p = d.p[1:]
	return b
}

func (d *frameDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.p)) {
		d.fail()
		return nil
	}
	b := d.p[:n:n]
	d.p = d.p[n:]
	return b
}
