package bracha_test

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/samples/bracha"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// newWALNode returns node self's protocol module with a WAL, after its
// Init.
func newWALNode(t *testing.T, self stdtypes.NodeID) *dsl.Module {
	t.Helper()
	walMC := mc
	walMC.WAL = "wal"
	m, err := bracha.New(self, walMC, bracha.DefaultModuleParams(members))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, m, stdevents.NewInit(mc.Self))
	return m
}

// sent is what the WAL module hands back to node 1 when it restarts.
func sent(msg stdtypes.Message) *bracha.Sent {
	return &bracha.Sent{Header: stdtypes.NewHeader(mc.Self), Msg: msg}
}

// TestPersistThenSend: with a WAL, every message is persisted first, and
// sent as the Append's follow-up, once durable.
func TestPersistThenSend(t *testing.T) {
	m := newWALNode(t, "1")
	check(t, "SEND", apply(t, m, receive("0", &bracha.SendMsg{Seq: 1, Value: "v"})),
		`persist ECHO 0/1 "v", then send "0/1/e" ECHO 0/1 "v" to [0 1 2 3]`)
	check(t, "broadcast", apply(t, m, bracha.NewBroadcast(mc.Self, "1", 1, "w")),
		`persist SEND 1 "w", then send "1/1/s" SEND 1 "w" to [0 1 2 3]`)
}

// TestRestoreFromWAL: what the WAL hands back after a restart restores
// what node 1 sent, which it sends again; it then echoes nothing else,
// and a request to broadcast again what it broadcast changes nothing.
func TestRestoreFromWAL(t *testing.T) {
	m := newWALNode(t, "1")
	check(t, "restore", apply(t, m, sent(echo("v")), sent(&bracha.SendMsg{Seq: 2, Value: "mine"}), sent(echo("v"))),
		`send "0/1/e" ECHO 0/1 "v" to [0 1 2 3]`+"\n"+`send "1/2/s" SEND 2 "mine" to [0 1 2 3]`)
	check(t, "a forged SEND", apply(t, m, receive("0", &bracha.SendMsg{Seq: 1, Value: "forged"})), "")
	check(t, "the broadcast again", apply(t, m, bracha.NewBroadcast(mc.Self, "1", 2, "mine")), "")
	// Readied on f+1 READYs: persisted as ever.
	check(t, "2 READYs", apply(t, m, receive("2", ready("v")), receive("3", ready("v"))),
		`persist READY 0/1 "v", then send "0/1/r" READY 0/1 "v" to [0 1 2 3]`)
}

// TestBadRecords: a record the node cannot trust stops it; unlike a
// message from the network, it is not dropped.
func TestBadRecords(t *testing.T) {
	for name, evs := range map[string][]stdtypes.Event{
		"two values":      {sent(echo("v")), sent(echo("w"))},
		"not a member":    {sent(&bracha.EchoMsg{Origin: "9", Seq: 1, Value: "v"})},
		"sequence 0":      {sent(&bracha.ReadyMsg{Origin: "0", Seq: 0, Value: "v"})},
		"a HELLO":         {sent(&bracha.HelloMsg{Incarnation: 1})},
		"a value too big": {sent(&bracha.SendMsg{Seq: 1, Value: strings.Repeat("v", 2000)})},
	} {
		m := newWALNode(t, "1")
		if _, err := m.ApplyEvents(stdtypes.ListOf(evs...)); err == nil || !strings.Contains(err.Error(), "restoring from the WAL") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}
