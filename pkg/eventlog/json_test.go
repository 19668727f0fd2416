package eventlog_test

import (
	"encoding/json"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// note is a message the JSON tests render.
type note struct {
	stdtypes.MessageBase
	Text string
}

var _ = codec.Register[note]("eventlogtest.Note")

// odd is an event encoding/json cannot render.
type odd struct {
	stdtypes.Header
	C chan int
}

func TestEventJSON(t *testing.T) {
	cases := []struct {
		ev   stdtypes.Event
		want string
	}{
		{newHop("a", 3), `{"DestModule":"a","Next":null,"N":3,"Note":""}`},
		{stdevents.NewSendMessage("net", &note{Text: "hi"}, stdevents.To("proto", "1", "2")),
			`{"DestModule":"net","Next":null,"MsgDest":"proto","Destinations":["1","2"],"Msg":{"$type":"eventlogtest.Note","Text":"hi"}}`},
		{stdtypes.WithFollowUps(newHop("a", 1), newHop("b", 2), nil),
			`{"DestModule":"a","Next":[{"$type":"eventlogtest.Hop","DestModule":"b","Next":null,"N":2,"Note":""},null],"N":1,"Note":""}`},
		{stdtypes.WithFollowUps(newHop("a", 1), stdtypes.WithFollowUps(newHop("b", 2), stdevents.NewInit("c"))),
			`{"DestModule":"a","Next":[{"$type":"eventlogtest.Hop","DestModule":"b","Next":[{"$type":"mir.Init","DestModule":"c","Next":null}],"N":2,"Note":""}],"N":1,"Note":""}`},
	}
	for _, c := range cases {
		got := string(eventlog.EventJSON(c.ev))
		if got != c.want {
			t.Errorf("EventJSON(%T)\n got %s\nwant %s", c.ev, got, c.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("EventJSON(%T) is not valid JSON: %s", c.ev, got)
		}
	}
	bad := string(eventlog.EventJSON(&odd{Header: stdtypes.NewHeader("a"), C: make(chan int)}))
	var v map[string]string
	if err := json.Unmarshal([]byte(bad), &v); err != nil || v["unrenderable"] == "" || v["error"] == "" {
		t.Errorf("unrenderable event: %s", bad)
	}
}
