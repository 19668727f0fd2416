package mircat

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// unregistered is an event type that is not registered with the codec: a
// recorder cannot encode it and records only its name.
type unregistered struct {
	stdtypes.Header
	N int
}

// unencodableBatches are a mir.Init for "a", an unregistered event for "b",
// and a mir.Init for "c".
func unencodableBatches() []batch {
	return []batch{{events: []stdtypes.Event{
		stdevents.NewInit("a"),
		&unregistered{Header: stdtypes.NewHeader("b"), N: 3},
		stdevents.NewInit("c"),
	}}}
}

// seqs returns the sequence numbers of show's lines, in order.
func seqs(t *testing.T, out string) []string {
	t.Helper()
	var s []string
	for _, l := range lines(out) {
		m := regexp.MustCompile(`  #(\d+) b\d+  `).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not an event line: %q", l)
		}
		s = append(s, m[1])
	}
	return s
}

func TestShow(t *testing.T) {
	r := mircat(t, "", "show", pingLog(t))
	r.wantCode(t, exitOK)
	got := lines(r.stdout)
	if len(got) != 9 || r.stderr != "" {
		t.Fatalf("want 9 lines and no stderr, got:\n%s\nstderr: %s", r.stdout, r.stderr)
	}
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z  0  #4 b3  out  net           mir.SendMessage      \{MsgDest:"pingpong" Destinations:\["1"\] Msg:pingpong.Ping\{Seq:1\}\}$`)
	if !line.MatchString(got[4]) {
		t.Errorf("line of seq 4:\n%s", got[4])
	}
	if !strings.Contains(got[0], "  #0 b0  in   pingpong      mir.Init             {}") {
		t.Errorf("line of seq 0:\n%s", got[0])
	}
	if !strings.Contains(got[6], `mir.MessageReceived  {From:"1" Msg:pingpong.Pong{Seq:1}}`) {
		t.Errorf("line of seq 6:\n%s", got[6])
	}
}

func TestShowFilters(t *testing.T) {
	log := pingLog(t)
	// The time of the events of batch 2 (seq 3): --from and --to by time.
	var tick jsonRecord
	r := mircat(t, "", "show", "--json", "--from", "3", "--to", "3", log)
	r.wantCode(t, exitOK)
	if err := json.Unmarshal([]byte(r.stdout), &tick); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	tickTime := tick.Time.Format(time.RFC3339Nano)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "0 1 2 3 4 5 6 7 8"},
		{[]string{"--node", "0"}, "0 1 2 3 4 5 6 7 8"},
		{[]string{"--node", "1"}, ""},
		{[]string{"--module", "pingpong"}, "0 3 6"},
		{[]string{"--module", "pingpong,reporter"}, "0 3 5 6 7"},
		{[]string{"--module", "pingpong", "--module", "net"}, "0 1 3 4 6"},
		{[]string{"--module", "iss"}, "8"},
		{[]string{"--module", "iss/pbft"}, "8"},
		{[]string{"--module", "is"}, ""},
		{[]string{"--event", "mir.Init"}, "0 1 2 8"},
		{[]string{"--event", "Init"}, "0 1 2 8"},
		{[]string{"--event", "pingpong.PingSent,mir.SendMessage"}, "4 5"},
		{[]string{"--event", "Ping"}, ""},
		{[]string{"--from", "5"}, "5 6 7 8"},
		{[]string{"--to", "2"}, "0 1 2"},
		{[]string{"--to", "0"}, "0"},
		{[]string{"--from", "2", "--to", "4"}, "2 3 4"},
		{[]string{"--from", tickTime}, "3 4 5 6 7 8"},
		{[]string{"--to", tickTime}, "0 1 2 3"},
		{[]string{"--from", tickTime, "--to", tickTime}, "3"},
		{[]string{"--from", "2000-01-01T00:00:00Z", "--to", "2000-01-02T00:00:00Z"}, ""},
		{[]string{"--grep", `Seq:1\b`}, "4 5 6 7"},
		{[]string{"--grep", `  out  `}, "4 5 7"},
		{[]string{"--grep", `^x`}, ""},
		{[]string{"--module", "reporter", "--grep", "Pong"}, "7"},
		{[]string{"--node", "0", "--event", "Init", "--from", "1", "--to", "7"}, "1 2"},
	} {
		for _, jsonOut := range []bool{false, true} {
			args := append([]string{"show", log}, tc.args...)
			if jsonOut {
				args = append(args, "--json")
			}
			r := mircat(t, "", args...)
			r.wantCode(t, exitOK)
			var got []string
			if jsonOut {
				for _, l := range lines(r.stdout) {
					var j jsonRecord
					if err := json.Unmarshal([]byte(l), &j); err != nil {
						t.Fatalf("%q: %v: %s", args, err, l)
					}
					got = append(got, strconv.FormatUint(j.Seq, 10))
				}
			} else {
				got = seqs(t, r.stdout)
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("%q: seqs %q, want %q", args, s, tc.want)
			}
		}
	}
}

func TestShowJSON(t *testing.T) {
	r := mircat(t, "", "show", "--json", "--event", "SendMessage", pingLog(t))
	r.wantCode(t, exitOK)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	for k, want := range map[string]any{
		"node": "0", "seq": 4.0, "batch": 3.0, "dest": "net", "type": "mir.SendMessage", "input": false,
	} {
		if got[k] != want {
			t.Errorf("%s: %v, want %v", k, got[k], want)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, got["time"].(string)); err != nil {
		t.Errorf("time: %v", err)
	}
	ev, ok := got["event"].(map[string]any)
	if !ok || ev["MsgDest"] != "pingpong" || ev["Msg"].(map[string]any)["Seq"] != 1.0 {
		t.Errorf("event: %v", got["event"])
	}
	if _, ok := got["note"]; ok {
		t.Errorf("note on a decoded event: %v", got["note"])
	}
	// Fields in a fixed order, for diffs and greps of the output.
	if !strings.HasPrefix(r.stdout, `{"node":"0","seq":4,"batch":3,"time":"`) {
		t.Errorf("field order: %s", r.stdout)
	}
}

func TestShowUnknownType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raw.mirlog")
	writeRawLog(t, path, false)
	r := mircat(t, "", "show", path)
	r.wantCode(t, exitOK)
	got := lines(r.stdout)
	if len(got) != 3 {
		t.Fatalf("want 3 lines:\n%s\nstderr: %s", r.stdout, r.stderr)
	}
	// Its fields decoded generically, sorted by name; the message of
	// another unknown type shown by its tag.
	msgTag := strconv.FormatUint(codec.TagOf("mircattest.Msg"), 10)
	if !strings.HasSuffix(got[1], "  7  #1 b1  in   b             mircattest.Unknown   {Msg:<tag "+msgTag+">{Seq:1} N:3 Payload:0x0102}") {
		t.Errorf("unknown type's line: %q", got[1])
	}
	if !strings.Contains(got[2], "mir.Init") {
		t.Errorf("after the unknown type: %q", got[2])
	}

	r = mircat(t, "", "show", "--json", "--module", "b", path)
	r.wantCode(t, exitOK)
	var j map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stdout, `"event":{"DestModule":"b","Msg":{"$tag":`+msgTag+`,"Seq":1},"N":3,"Payload":"AQI="}`) ||
		j["note"] != "type not registered in this binary: decoded generically" || j["type"] != unknownTypeName {
		t.Errorf("json: %s", r.stdout)
	}
	// Filtering by the unknown type works: it needs only the name.
	r = mircat(t, "", "show", "--event", unknownTypeName, path)
	if len(lines(r.stdout)) != 1 {
		t.Errorf("--event %s:\n%s", unknownTypeName, r.stdout)
	}
}

func TestShowUnencodable(t *testing.T) {
	log := writeLog(t, t.TempDir(), "0", unencodableBatches())
	r := mircat(t, "", "show", log)
	r.wantCode(t, exitOK)
	got := lines(r.stdout)
	if len(got) != 3 || !strings.Contains(got[1], "mircat.unregistered  (not encodable when recorded: ") {
		t.Errorf("output:\n%s", r.stdout)
	}
}

// failingWriter fails every write with err.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestShowClosedPipe(t *testing.T) {
	// Enough events to fill the output buffer many times over: show must
	// stop at the first failed write, not read on.
	var batches []batch
	for i := range 5000 {
		batches = append(batches, batch{events: []stdtypes.Event{
			stdevents.NewSendMessage("net", &protocol.Ping{Seq: uint64(i + 1)}, stdevents.To("pingpong", "1", "2", "3")),
		}})
	}
	log := writeLog(t, t.TempDir(), "0", batches)

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close() // Like head after its lines.
	defer pw.Close()
	var stderr strings.Builder
	code := Run(t.Context(), []string{"show", log}, strings.NewReader(""), pw, &stderr)
	if code != exitOK || stderr.String() != "" {
		t.Errorf("closed pipe: exit %d, stderr %q", code, stderr.String())
	}

	// Any other output error is a failure.
	stderr.Reset()
	code = Run(t.Context(), []string{"show", log}, strings.NewReader(""), failingWriter{errors.New("disk full")}, &stderr)
	if code != exitFailure || !strings.Contains(stderr.String(), "mircat: writing the output: disk full") {
		t.Errorf("failing output: exit %d, stderr %q", code, stderr.String())
	}
}

func TestCompact(t *testing.T) {
	for _, tc := range []struct {
		ev   stdtypes.Event
		want string
	}{
		{stdevents.NewInit("a"), "{}"},
		{stdevents.NewSendMessage("net", &protocol.Ping{Seq: 2}, stdevents.To("pp", "1", "2")), `{MsgDest:"pp" Destinations:["1" "2"] Msg:pingpong.Ping{Seq:2}}`},
		{stdevents.NewSendMessage("net", nil, stdevents.To("pp")), `{MsgDest:"pp" Destinations:[] Msg:nil}`},
		{stdevents.NewTimerDelay("timer", 1500*time.Millisecond, protocol.NewTick("pp")), `{Events:[pingpong.Tick{DestModule:"pp"}] Delay:1.5s}`},
		{stdtypes.WithFollowUps(stdevents.NewInit("a"), stdevents.NewInit("b")), `{Next:[mir.Init{DestModule:"b"}]}`},
		{&unregistered{Header: stdtypes.NewHeader("b"), N: 3}, "{N:3}"},
		{&bytesEvent{B: []byte{1, 2, 0xff}, M: map[string]int{"z": 1, "a": 2}, S: "x\ny"}, `{B:0x0102ff M:map["a":2 "z":1] S:"x\ny" Many:[]}`},
		{&bytesEvent{B: make([]byte, 40), Many: make([]int, 20)}, `{B:0x` + strings.Repeat("00", 32) + `…(40 bytes) M:map[] S:"" Many:[0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 …4 more]}`},
	} {
		if got := compact(tc.ev); got != tc.want {
			t.Errorf("compact(%T):\n got %s\nwant %s", tc.ev, got, tc.want)
		}
	}
}

// bytesEvent has fields of the kinds compact renders specially.
type bytesEvent struct {
	stdtypes.Header
	B    []byte
	M    map[string]int
	S    string
	Many []int `json:",omitempty"`
}

// alienSend returns a record of a SendMessage whose Ping is of a type this
// binary does not know, as a mircat built without the ping-pong protocol
// would read it.
func alienSend(t *testing.T) *eventlog.Record {
	t.Helper()
	data := mustEncode(t, stdevents.NewSendMessage("net", &protocol.Ping{Seq: 1}, stdevents.To("pingpong", "1")))
	tagHead := func(name string) []byte { return binary.BigEndian.AppendUint64([]byte{0xdb}, codec.TagOf(name)) }
	data = bytes.Replace(data, tagHead("pingpong.Ping"), tagHead("alien.Ping"), 1)
	return &eventlog.Record{Node: "0", Seq: 4, Dest: "net", Type: "mir.SendMessage", Data: data}
}

func TestShowKnownEventHoldingUnknownMessage(t *testing.T) {
	d := decode(alienSend(t))
	if d.ev != nil || d.generic == nil || d.note != "holds a value of a type not registered in this binary: decoded generically" {
		t.Fatalf("decoded %+v", d)
	}
	tag := strconv.FormatUint(codec.TagOf("alien.Ping"), 10)
	if line := string(appendLine(nil, d)); !strings.HasSuffix(line, `  out  net           mir.SendMessage      {Destinations:["1"] Msg:<tag `+tag+`>{Seq:1} MsgDest:"pingpong"}`) {
		t.Errorf("line: %s", line)
	}
	j, err := json.Marshal(toJSON(d))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"event":{"DestModule":"net","Destinations":["1"],"Msg":{"$tag":`+tag+`,"Seq":1},"MsgDest":"pingpong"},"note":"holds a value`) {
		t.Errorf("json: %s", j)
	}
}

func TestCompactGeneric(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(1), 100)
	deep := any(uint64(1))
	for range maxRenderDepth + 2 {
		deep = []any{deep}
	}
	many := map[string]any{}
	for i := range maxRenderMap + 1 {
		many[strconv.Itoa(i)] = uint64(i)
	}
	for _, tc := range []struct {
		g    *codec.Generic
		want string
	}{
		{&codec.Generic{Name: "x.Ev", Value: map[string]any{"DestModule": "a", "Next": []any{&codec.Generic{Name: "mir.Init", Value: map[string]any{"DestModule": "b"}}}}},
			`{Next:[mir.Init{DestModule:"b"}]}`},
		{&codec.Generic{Value: map[string]any{"B": big1, "L": []any{uint64(1), int64(-2), "s", nil, true, 0.5}, "with space": "x", "0x01": []byte{1}}},
			`{"0x01":0x01 B:1267650600228229401496703205376 L:[1 -2 "s" nil true 0.5] "with space":"x"}`},
		{&codec.Generic{Value: map[string]any{"T": time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "P": &codec.Generic{Tag: 9, Value: "plain"}}},
			`{P:<tag 9>("plain") T:2025-01-02 03:04:05 +0000 UTC}`},
		{&codec.Generic{Value: "not a struct"}, `"not a struct"`},
		{&codec.Generic{Value: map[string]any{"M": many}}, fmt.Sprintf("{M:{…%d fields}}", maxRenderMap+1)},
		{&codec.Generic{Value: map[string]any{"D": deep}}, "{D:[[[[[[[[…]]]]]]]]}"},
	} {
		if got := compactGeneric(tc.g); got != tc.want {
			t.Errorf("compactGeneric(%+v):\n got %s\nwant %s", tc.g, got, tc.want)
		}
	}
}
