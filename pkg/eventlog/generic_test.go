package eventlog_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// tagBytes returns the CBOR head of the tag of a type registered, or not,
// as name.
func tagBytes(name string) []byte {
	return binary.BigEndian.AppendUint64([]byte{0xdb}, codec.TagOf(name))
}

// alienRecords returns a record of a SendMessage whose message is of a type
// this binary does not register, and of an event of such a type, whose
// name the record holds.
func alienRecords(t *testing.T) (send, alien *eventlog.Record) {
	t.Helper()
	data, err := codec.EncodeEvent(stdevents.NewSendMessage("net", &note{Text: "hi"}, stdevents.To("proto", "1")))
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, tagBytes("eventlogtest.Note"), tagBytes("alien.Note"), 1)
	send = &eventlog.Record{Node: "0", Seq: 1, Dest: "net", Type: "mir.SendMessage", Data: data}
	hop, err := codec.EncodeEvent(newHop("a", 5))
	if err != nil {
		t.Fatal(err)
	}
	hop = bytes.Replace(hop, tagBytes("eventlogtest.Hop"), tagBytes("alien.Hop"), 1)
	alien = &eventlog.Record{Node: "0", Seq: 2, Dest: "a", Type: "alien.Hop", Data: hop}
	return send, alien
}

func TestRecordDecodeGeneric(t *testing.T) {
	send, alien := alienRecords(t)
	for _, rec := range []*eventlog.Record{send, alien} {
		if _, err := rec.Decode(); !errors.Is(err, codec.ErrUnknownType) {
			t.Fatalf("%s: Decode: %v, want ErrUnknownType", rec.Type, err)
		}
	}
	g, err := send.DecodeGeneric()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"DestModule":"net","Destinations":["1"],"Msg":{"$tag":` + strconv.FormatUint(codec.TagOf("alien.Note"), 10) + `,"Text":"hi"},"MsgDest":"proto"}`
	if g.Name != "mir.SendMessage" || string(eventlog.GenericJSON(g.Value)) != want {
		t.Errorf("SendMessage: %s %s\nwant %s", g.Name, eventlog.GenericJSON(g.Value), want)
	}
	g, err = alien.DecodeGeneric()
	if err != nil {
		t.Fatal(err)
	}
	// The log's type name names the event.
	if got := string(eventlog.GenericJSON(g)); g.Name != "alien.Hop" || got != `{"$type":"alien.Hop","DestModule":"a","N":5,"Note":""}` {
		t.Errorf("alien event: %s", got)
	}

	for name, bad := range map[string]*eventlog.Record{
		"unencodable": {Type: "x.Y", Unencodable: true, Data: []byte("unknown type")},
		"untagged":    {Type: "x.Y", Data: []byte{0xa0}},
		"garbage":     {Type: "x.Y", Data: []byte{0xff}},
	} {
		if g, err := bad.DecodeGeneric(); err == nil {
			t.Errorf("%s: decoded %+v", name, g)
		}
	}
}

func TestGenericJSON(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, `null`},
		{map[string]any{"b": []byte{1}, "a": []any{uint64(1), int64(-1), 0.5, true, nil}}, `{"a":[1,-1,0.5,true,null],"b":"AQ=="}`},
		{[]any{math.NaN(), math.Inf(-1)}, `["NaN","-Inf"]`},
		{&codec.Generic{Name: "x.Y", Tag: 7, Value: "s"}, `{"$type":"x.Y","value":"s"}`},
		{&codec.Generic{Tag: 7, Value: map[string]any{}}, `{"$tag":7}`},
		{&codec.Generic{Name: "q\"<", Tag: 7, Value: map[string]any{"k\x00": "\xff"}}, `{"$type":"q\"\u003c","k\u0000":"\ufffd"}`},
	} {
		got := eventlog.GenericJSON(c.v)
		if string(got) != c.want || !json.Valid(got) {
			t.Errorf("GenericJSON(%#v)\n got %s\nwant %s", c.v, got, c.want)
		}
	}
}

// FuzzGenericJSON decodes arbitrary input generically and renders it: the
// result must be valid JSON, whatever the input held.
func FuzzGenericJSON(f *testing.F) {
	for _, ev := range []stdtypes.Event{
		stdevents.NewSendMessage("net", &note{Text: "hi"}, stdevents.To("proto", "1")),
		stdtypes.WithFollowUps(newHop("a", 1), newHop("b", 2)),
	} {
		data, err := codec.EncodeEvent(ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{0x82, 0xf9, 0x7e, 0x00, 0xc3, 0x41, 0x05})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := codec.DecodeGeneric(data)
		if err != nil {
			return
		}
		if out := eventlog.GenericJSON(v); !json.Valid(out) {
			t.Fatalf("invalid JSON for %x: %s", data, out)
		}
	})
}
