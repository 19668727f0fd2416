package wal

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		index   uint64
		payload []byte
	}{
		{"empty", 1, nil},
		{"one byte", 2, []byte{0}},
		{"zeros", 3, make([]byte, 100)},
		{"text", 1 << 40, []byte("hello, log")},
		{"largest index", ^uint64(0), []byte{1, 2, 3}},
		{"larger than a read chunk", 7, bytes.Repeat([]byte{0xab}, readChunkBytes+5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := appendFrame([]byte("prefix"), tt.index, tt.payload)[len("prefix"):]
			if int64(len(b)) != frameBytes(len(tt.payload)) {
				t.Fatalf("frame of %d bytes, want %d", len(b), frameBytes(len(tt.payload)))
			}
			s := newSegmentReader("test", bytes.NewReader(b), int64(len(b)))
			f, err := s.readFrame(0)
			if err != nil {
				t.Fatal(err)
			}
			if f.status != frameOK || f.index != tt.index || !bytes.Equal(f.payload, tt.payload) || f.next != int64(len(b)) {
				t.Fatalf("read back %+v", f)
			}
			// The checksum covers every byte after itself.
			for i := 4; i < len(b); i += max(1, len(b)/64) {
				flipped := bytes.Clone(b)
				flipped[i] ^= 0x10
				s := newSegmentReader("test", bytes.NewReader(flipped), int64(len(flipped)))
				if f, err := s.readFrame(0); err != nil || f.status == frameOK {
					t.Fatalf("flip at byte %d: read %+v, %v", i, f, err)
				}
			}
		})
	}
}

func TestReadFrame(t *testing.T) {
	good := appendFrame(nil, 5, []byte("abc"))
	header := func(crc, length uint32, index uint64) []byte {
		b := binary.LittleEndian.AppendUint32(nil, crc)
		b = binary.LittleEndian.AppendUint32(b, length)
		return binary.LittleEndian.AppendUint64(b, index)
	}
	tests := []struct {
		name   string
		data   []byte
		status frameStatus
		reason string
	}{
		{"nothing", nil, frameEnd, ""},
		{"zero header", make([]byte, 40), frameEnd, ""},
		{"zeros shorter than a header", make([]byte, 7), frameEnd, ""},
		{"header cut short", good[:9], frameBad, "cut short"},
		{"payload cut short", good[:len(good)-1], frameBad, "exceeds"},
		{"payload cut short, zeros after", append(bytes.Clone(good[:len(good)-1]), make([]byte, 40)...), frameBad, "checksum"},
		{"length beyond the file", append(header(0, 1000, 1), make([]byte, 100)...), frameBad, "exceeds"},
		{"length beyond the format's limit", append(header(0, maxRecordBytesLimit+1, 1), make([]byte, 100)...), frameBad, "exceeds"},
		{"checksum", append(header(1, 0, 1), 0), frameBad, "checksum"},
		{"zero payload behind a good header", append(bytes.Clone(good[:frameHeaderBytes]), 0, 0, 0), frameBad, "checksum"},
		{"good", good, frameOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSegmentReader("test", bytes.NewReader(tt.data), int64(len(tt.data)))
			f, err := s.readFrame(0)
			if err != nil {
				t.Fatal(err)
			}
			if f.status != tt.status || !strings.Contains(f.reason, tt.reason) {
				t.Fatalf("got status %d, reason %q; want %d, %q", f.status, f.reason, tt.status, tt.reason)
			}
		})
	}
}

func TestSegmentHeader(t *testing.T) {
	good := appendSegmentHeader(nil, segmentHeader{logID: 0xfeed, firstIndex: 42})
	if len(good) != segmentHeaderBytes {
		t.Fatalf("header of %d bytes, want %d", len(good), segmentHeaderBytes)
	}
	h, err := parseSegmentHeader(good)
	if err != nil || h != (segmentHeader{logID: 0xfeed, firstIndex: 42}) {
		t.Fatalf("parsed %+v, %v", h, err)
	}
	withCRC := func(b []byte) []byte {
		b = bytes.Clone(b)
		return binary.LittleEndian.AppendUint32(b[:28], crcOf(b[:28]))
	}
	version2 := bytes.Clone(good)
	binary.LittleEndian.PutUint32(version2[8:], 2)
	index0 := bytes.Clone(good)
	binary.LittleEndian.PutUint64(index0[20:], 0)
	indexMax := bytes.Clone(good)
	binary.LittleEndian.PutUint64(indexMax[20:], maxFirstIndex+1)
	flipped := bytes.Clone(good)
	flipped[15] ^= 1
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"short", good[:31], "header is 31 bytes"},
		{"magic", append([]byte("MIR-WAX\n"), good[8:]...), "no segment magic"},
		{"checksum", flipped, "checksum"},
		{"version", withCRC(version2), "format version 2"},
		{"first index 0", withCRC(index0), "first index 0"},
		{"first index too large", withCRC(indexMax), "first index 4611686018427387905"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSegmentHeader(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func crcOf(b []byte) uint32 { return frameChecksum(append(make([]byte, 4), b...)) }

func TestSegmentName(t *testing.T) {
	if got := segmentName(0x1f); got != "000000000000001f.wal" {
		t.Fatalf("segmentName(0x1f) = %q", got)
	}
	tests := []struct {
		name  string
		first uint64
		ok    bool
	}{
		{"000000000000001f.wal", 0x1f, true},
		{"ffffffffffffffff.wal", ^uint64(0), true},
		{"0000000000000000.wal", 0, false},
		{"000000000000001F.wal", 0, false},
		{"00000000000001f.wal", 0, false},
		{"000000000000001f.wal.tmp", 0, false},
		{"000000000000001f", 0, false},
		{"-00000000000001f.wal", 0, false},
		{"LOCK", 0, false},
	}
	for _, tt := range tests {
		first, ok := parseSegmentName(tt.name)
		if first != tt.first || ok != tt.ok {
			t.Errorf("parseSegmentName(%q) = %d, %v; want %d, %v", tt.name, first, ok, tt.first, tt.ok)
		}
	}
	if !isTempSegment("000000000000001f.wal.tmp") || isTempSegment("x.wal.tmp") {
		t.Error("isTempSegment")
	}
}

func TestLastNonZero(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 2000} {
		b := make([]byte, n)
		if got := lastNonZero(b); got != -1 {
			t.Fatalf("zeros of %d: %d", n, got)
		}
		for _, i := range []int{0, n / 3, n - 1} {
			if i < 0 || i >= n {
				continue
			}
			c := bytes.Clone(b)
			c[i] = 1
			if i > 0 {
				c[i-1] = 1
			}
			if got := lastNonZero(c); got != i {
				t.Fatalf("len %d, last non-zero at %d: got %d", n, i, got)
			}
		}
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string // error text; "" for valid
	}{
		{"zero", Options{}, ""},
		{"small segments", Options{SegmentBytes: minSegmentBytes}, ""},
		{"segments too small", Options{SegmentBytes: minSegmentBytes - 1}, "SegmentBytes"},
		{"record too large for segments", Options{SegmentBytes: 4096, MaxRecordBytes: 4096}, "does not fit"},
		{"record over the format's limit", Options{SegmentBytes: 4 << 30, MaxRecordBytes: maxRecordBytesLimit + 1}, "MaxRecordBytes"},
		{"negative record size", Options{MaxRecordBytes: -1}, "MaxRecordBytes"},
		{"queue too small", Options{MaxPendingBytes: 100}, "MaxPendingBytes"},
		{"sync policy", Options{Sync: -2}, "sync policy"},
		{"interval", Options{Sync: SyncInterval(5)}, ""},
		{"unsafe", Options{Sync: UnsafeNoSync}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.opts.withDefaults()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if o.SegmentBytes == 0 || o.MaxRecordBytes == 0 || o.MaxPendingBytes == 0 || o.FS == nil {
					t.Fatalf("defaults not set: %+v", o)
				}
				if int64(o.MaxRecordBytes)+segmentHeaderBytes+frameHeaderBytes > o.SegmentBytes {
					t.Fatalf("the largest record does not fit a segment: %+v", o)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if got := SyncInterval(5e6).String(); got != "SyncInterval(5ms)" {
		t.Errorf("String: %q", got)
	}
	if SyncEveryGroup.String() != "SyncEveryGroup" || UnsafeNoSync.String() != "UnsafeNoSync" {
		t.Error("String of the named policies")
	}
}
