package mircat

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// result is what one run of mircat produced.
type result struct {
	stdout, stderr string
	code           int
}

// testBuilders are the replay builders of the mircat the tests run: the
// ping-pong protocol's, and alteredBuilder.
var testBuilders = WithReplayBuilders(protocol.Replay.Builder(), alteredBuilder)

// mircat runs the command tree in-process with args and stdin.
func mircat(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errOut, testBuilders)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// wantCode fails the test if r did not end with code.
func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// batch is one batch handed to a recorder: events, and which are inputs.
type batch struct {
	events []stdtypes.Event
	inputs []bool
}

// writeLog records batches as node's events in a stream log in dir through
// a Recorder, as a node would, and returns the file's path.
func writeLog(t *testing.T, dir string, node stdtypes.NodeID, batches []batch) string {
	t.Helper()
	sink, err := eventlog.NewStreamSink(dir, node, eventlog.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := eventlog.NewRecorder(node, sink, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	record(t, rec, batches)
	files := sink.Files()
	if len(files) != 1 {
		t.Fatalf("recorder wrote %d files, want 1", len(files))
	}
	return files[0]
}

// record has rec record batches, as a node's dispatches, and closes it.
func record(t *testing.T, rec *eventlog.Recorder, batches []batch) {
	t.Helper()
	for _, b := range batches {
		if err := rec.InterceptInputs(stdtypes.ListOf(b.events...), b.inputs); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
}

// pingBatches are the events of a small ping-pong run on the pinging node:
// 9 events, seq 0 to 8, in 5 batches.
//
//	seq  dest          type
//	0    pingpong      mir.Init             in
//	1    net           mir.Init             in
//	2    timer         mir.Init             in
//	3    pingpong      pingpong.Tick        in
//	4    net           mir.SendMessage      out  (Ping 1)
//	5    reporter      pingpong.PingSent    out
//	6    pingpong      mir.MessageReceived  in   (Pong 1)
//	7    reporter      pingpong.PongReceived out
//	8    iss/pbft/3    mir.Init             in
func pingBatches() []batch {
	return []batch{
		{events: []stdtypes.Event{stdevents.NewInit("pingpong")}, inputs: []bool{true}},
		{events: []stdtypes.Event{stdevents.NewInit("net"), stdevents.NewInit("timer")}, inputs: []bool{true, true}},
		{events: []stdtypes.Event{protocol.NewTick("pingpong")}, inputs: []bool{true}},
		{
			events: []stdtypes.Event{stdevents.NewSendMessage("net", &protocol.Ping{Seq: 1}, stdevents.To("pingpong", "1")), protocol.NewPingSent("reporter", 1)},
			inputs: []bool{false, false},
		},
		{
			events: []stdtypes.Event{
				stdevents.NewMessageReceived("pingpong", "1", &protocol.Pong{Seq: 1}),
				protocol.NewPongReceived("reporter", "1", 1),
				stdevents.NewInit("iss/pbft/3"),
			},
			inputs: []bool{true, false, true},
		},
	}
}

// pingLog writes pingBatches as node "0"'s log in a new directory.
func pingLog(t *testing.T) string {
	t.Helper()
	return writeLog(t, t.TempDir(), "0", pingBatches())
}

// unknownTypeName is a type name that no package registers.
const unknownTypeName = "mircattest.Unknown"

// writeRawLog writes a stream log by hand, frame by frame (see the format
// in package eventlog's stream.go), so that it can hold what no recorder
// in this binary writes: an event of a type that is not registered here.
// Its events are: seq 0, a mir.Init for "a"; seq 1, an unknownTypeName
// event for "b" (encoded as the codec would, with the type's tag), with
// fields N 3, Payload 0x0102 and Msg, a message of another unknown type
// with Seq 1; seq 2, a mir.Init for "c". If damaged, a frame of an unknown kind follows the
// first event, so that the log is damaged in its middle.
func writeRawLog(t *testing.T, path string, damaged bool) {
	t.Helper()
	var frames []byte
	frame := func(kind byte, payload []byte) {
		frames = append(frames, kind)
		frames = binary.AppendUvarint(frames, uint64(len(payload)))
		frames = append(frames, payload...)
	}
	// Format 2, as its magic below says: mircat reads files of the format
	// before references too.
	header, err := json.Marshal(eventlog.StreamHeader{Format: 2, Node: "7", Start: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	frame('H', header)
	frame('T', append(binary.AppendUvarint(nil, 0), "mir.Init"...))
	frame('T', append(binary.AppendUvarint(nil, 1), unknownTypeName...))

	initData := func(dest string) []byte {
		return mustEncode(t, stdevents.NewInit(stdtypes.ModuleID(dest)))
	}
	// An event as the codec would encode it, with a message of another
	// type this binary does not know.
	unknown, err := cbor.Marshal(cbor.Tag{Number: codec.TagOf(unknownTypeName), Content: map[string]any{
		"DestModule": "b", "N": 3, "Payload": []byte{1, 2},
		"Msg": cbor.Tag{Number: codec.TagOf("mircattest.Msg"), Content: map[string]any{"Seq": 1}},
	}})
	if err != nil {
		t.Fatal(err)
	}

	type entry struct {
		idx  uint64
		dest string
		data []byte
	}
	entries := []entry{{0, "a", initData("a")}, {1, "b", unknown}, {0, "c", initData("c")}}
	for i, e := range entries {
		p := binary.AppendUvarint(nil, uint64(i))         // batch number
		p = binary.AppendVarint(p, time.Now().UnixNano()) // time
		p = binary.AppendUvarint(p, 1)                    // count
		p = binary.AppendUvarint(p, uint64(i))            // seq
		p = append(p, 1)                                  // flags: input
		p = binary.AppendUvarint(p, e.idx)                // type index
		p = append(binary.AppendUvarint(p, uint64(len(e.dest))), e.dest...)
		p = append(binary.AppendUvarint(p, uint64(len(e.data))), e.data...)
		frame('B', p)
		if damaged && i == 0 {
			frame('Z', []byte("?"))
		}
	}
	frame('E', binary.AppendUvarint(nil, uint64(len(entries))))

	var z bytes.Buffer
	zw, err := zstd.NewWriter(&z)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(frames); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	// The compressed frames in one block: length, CRC-32C of the data,
	// CRC-32C of those 8 bytes.
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	file := binary.LittleEndian.AppendUint32([]byte("MIRLOG\x00\x02"), uint32(z.Len()))
	file = binary.LittleEndian.AppendUint32(file, crc32.Checksum(z.Bytes(), castagnoli))
	file = binary.LittleEndian.AppendUint32(file, crc32.Checksum(file[8:16], castagnoli))
	if err := os.WriteFile(path, append(file, z.Bytes()...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustEncode returns ev's encoding as a log holds it.
func mustEncode(t *testing.T, ev stdtypes.Event) []byte {
	t.Helper()
	// Recording one event and reading it back gives exactly what a log
	// holds, without depending on how the recorder calls the codec.
	path := writeLog(t, t.TempDir(), "x", []batch{{events: []stdtypes.Event{ev}}})
	r, err := eventlog.OpenStream(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), rec.Data...)
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"},
		{"help"},
		{"list", "--help"},
		{"show", "--help"},
		{"debug", "--help"},
		{"help", "show"},
	} {
		r := mircat(t, "", args...)
		r.wantCode(t, exitOK)
		if !strings.Contains(r.stdout, "Exit codes:") || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%q: help without usage or exit codes:\n%s", args, r.stdout)
		}
	}
	r := mircat(t, "", "--help")
	for _, sub := range []string{"list", "show", "debug"} {
		if !strings.Contains(r.stdout, "\n  "+sub+" ") {
			t.Errorf("root help does not list %s:\n%s", sub, r.stdout)
		}
	}
	if r := mircat(t, "", "show", "--help"); !strings.Contains(r.stdout, "--grep") {
		t.Errorf("show help lacks --grep:\n%s", r.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	log := pingLog(t)
	for _, args := range [][]string{
		{"frobnicate"},
		{"list"},
		{"show"},
		{"debug"},
		{"show", "--bogus", log},
		{"show", "--from", "yesterday", log},
		{"show", "--to", "-1", log},
		{"show", "--grep", "(", log},
		{"show", "--module", "a//b", log},
		{"list", "--full-path=maybe", log},
	} {
		r := mircat(t, "", args...)
		r.wantCode(t, exitUsage)
		if r.stdout != "" {
			t.Errorf("%q: output on a usage error:\n%s", args, r.stdout)
		}
		if !strings.HasPrefix(r.stderr, "mircat: ") {
			t.Errorf("%q: stderr %q", args, r.stderr)
		}
	}
}
