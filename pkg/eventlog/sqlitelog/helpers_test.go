package sqlitelog_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

// ping is a small registered event, like a protocol's message event.
type ping struct {
	stdtypes.Header
	N    uint64
	Text string
}

// pong is another registered event type.
type pong struct {
	stdtypes.Header
	From stdtypes.NodeID
	Data []byte
}

// unregistered is an event type not registered with package codec: its
// rows are Unencodable.
type unregistered struct {
	stdtypes.Header
	X int
}

var (
	_ = codec.Register[ping]("sqlitelog_test.Ping")
	_ = codec.Register[pong]("sqlitelog_test.Pong")
)

func newPing(dest stdtypes.ModuleID, n uint64) *ping {
	return &ping{Header: stdtypes.NewHeader(dest), N: n, Text: "hello"}
}

// dbPath returns a fresh database path in a temporary directory.
func dbPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "run.db")
}

// batchOf returns a batch of node's events numbered from seq.
func batchOf(node stdtypes.NodeID, number, seq uint64, at time.Time, evs ...stdtypes.Event) *eventlog.Batch {
	b := &eventlog.Batch{Node: node, Number: number, Time: at}
	for i, ev := range evs {
		b.Entries = append(b.Entries, eventlog.Entry{Seq: seq + uint64(i), Input: i%2 == 0, Event: ev})
	}
	return b
}
