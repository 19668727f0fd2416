package mircat

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// TestRecordedNode reads what a real node recorded: module "a" answers its
// Init with a PingSent and a SendMessage for module "b".
func TestRecordedNode(t *testing.T) {
	dir := t.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "n0", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if _, ok := ev.(*stdevents.Init); ok {
			return stdtypes.ListOf(
				protocol.NewPingSent("b", 1),
				stdevents.NewSendMessage("b", &protocol.Ping{Seq: 1}, stdevents.To("a", "n1")),
			), nil
		}
		return nil, nil
	})
	b := modules.NewMockPassive(nil)
	node, err := mir.NewNode("n0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger), modules.Modules{"a": a, "b": b}, rec)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- node.Run(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(b.Received()) < 3 { // Init, PingSent, SendMessage
		if time.Now().After(deadline) {
			t.Fatal("b did not get its events")
		}
		time.Sleep(time.Millisecond)
	}
	node.Stop()
	if err := <-done; !errors.Is(err, mir.ErrStopped) {
		t.Fatalf("Run: %v", err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	r := mircat(t, "", "list", dir)
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "4 events, 1 nodes, 2 modules, 3 event types in 1 file\n") ||
		!tableRow("mir.Init", 2).MatchString(r.stdout) || !tableRow("b", 3).MatchString(r.stdout) {
		t.Errorf("list:\n%s", r.stdout)
	}
	r = mircat(t, "", "show", "--module", "b", "--event", "PingSent,SendMessage", dir)
	r.wantCode(t, exitOK)
	got := lines(r.stdout)
	if len(got) != 2 || !strings.Contains(got[0], "  n0  ") ||
		!strings.Contains(r.stdout, "  out  b             pingpong.PingSent    {Seq:1}\n") ||
		!strings.Contains(r.stdout, `  out  b             mir.SendMessage      {MsgDest:"a" Destinations:["n1"] Msg:pingpong.Ping{Seq:1}}`) {
		t.Errorf("show:\n%s", r.stdout)
	}
	r = mircat(t, "", "show", "--event", "Init", "--grep", "  in   ", dir)
	if len(lines(r.stdout)) != 2 {
		t.Errorf("the Init events are not inputs:\n%s", r.stdout)
	}
}
