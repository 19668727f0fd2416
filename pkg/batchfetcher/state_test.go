package batchfetcher

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mirframework/mir/internal/clientwindow"
	"github.com/mirframework/mir/pkg/mempool"
)

func stateParams() ModuleParams {
	return ModuleParams{NumBuckets: 1, ClientWindow: 8, MaxClients: 3, MaxClientIDBytes: 4, MaxAppStateBytes: 8, MaxPendingSlots: 1}
}

// execute, executed and inWindow ask cs about transaction id.
func execute(cs clients, id mempool.TxID)       { cs.Execute(id.ClientID, id.TxNo) }
func executed(cs clients, id mempool.TxID) bool { return cs.Executed(id.ClientID, id.TxNo) }
func inWindow(cs clients, id mempool.TxID, window uint64) bool {
	return cs.InWindow(id.ClientID, id.TxNo, window)
}

// clientsOf executes the transactions and returns the clients.
func clientsOf(ids ...mempool.TxID) clients {
	cs := make(clients)
	for _, id := range ids {
		execute(cs, id)
	}
	return cs
}

func TestClientsWatermark(t *testing.T) {
	cs := clientsOf(mempool.TxID{ClientID: "c", TxNo: 2}, mempool.TxID{ClientID: "c", TxNo: 0})
	if c := cs["c"]; c.Low != 1 || len(c.Above) != 1 {
		t.Fatalf("after 2 and 0: low %d, %d above, want 1 and 1", c.Low, len(c.Above))
	}
	execute(cs, mempool.TxID{ClientID: "c", TxNo: 1})
	if c := cs["c"]; c.Low != 3 || len(c.Above) != 0 {
		t.Fatalf("after 2, 0 and 1: low %d, %d above, want 3 and 0", c.Low, len(c.Above))
	}
	for no, want := range []bool{true, true, true, false} {
		if got := executed(cs, mempool.TxID{ClientID: "c", TxNo: uint64(no)}); got != want {
			t.Errorf("executed(c.%d) = %v", no, got)
		}
	}
	if inWindow(cs, mempool.TxID{ClientID: "c", TxNo: 11}, 8) || !inWindow(cs, mempool.TxID{ClientID: "c", TxNo: 10}, 8) {
		t.Error("the window of c is not [3, 11)")
	}
}

// Encoded states decode to what was encoded, and re-encode to the same
// bytes.
func TestStateRoundTrip(t *testing.T) {
	p := stateParams()
	for _, cs := range []clients{
		clientsOf(),
		clientsOf(mempool.TxID{ClientID: "", TxNo: 0}),
		clientsOf(mempool.TxID{ClientID: "b", TxNo: 7}, mempool.TxID{ClientID: "a", TxNo: 0}, mempool.TxID{ClientID: "b", TxNo: 3}),
		{"big": &clientwindow.Client{Low: MaxTxNo + 1, Above: map[uint64]struct{}{}}},
		{"big": &clientwindow.Client{Low: MaxTxNo - 1, Above: map[uint64]struct{}{MaxTxNo: {}}}},
	} {
		data := encodeState(42, cs, []byte("app"))
		st, err := decodeState(data, p)
		if err != nil {
			t.Fatalf("%x: %v", data, err)
		}
		if st.next != 42 || string(st.app) != "app" || !bytes.Equal(encodeState(st.next, st.clients, st.app), data) {
			t.Fatalf("%x decoded to slot %d, app %q, clients re-encoded differently", data, st.next, st.app)
		}
	}
}

// What encodeState would not write, or beyond the limits, is refused.
func TestDecodeStateRefuses(t *testing.T) {
	p := stateParams()
	valid := encodeState(1, clientsOf(mempool.TxID{ClientID: "a", TxNo: 2}), []byte("x"))
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"version", append([]byte{2}, valid[1:]...)},
		{"truncated", valid[:len(valid)-1]},
		{"trailing", append(bytes.Clone(valid), 0)},
		{"non-minimal varint", []byte{1, 0x81, 0x00, 0, 0}},
		{"too many clients", []byte{1, 0, 4, 1, 'a', 1, 0, 1, 'b', 1, 0, 1, 'c', 1, 0, 1, 'd', 1, 0, 0}},
		{"long client ID", []byte{1, 0, 1, 5, 'a', 'b', 'c', 'd', 'e', 1, 0, 0}},
		{"IDs out of order", []byte{1, 0, 2, 1, 'b', 1, 0, 1, 'a', 1, 0, 0}},
		{"duplicate ID", []byte{1, 0, 2, 1, 'a', 1, 0, 1, 'a', 2, 0, 0}},
		{"client with nothing executed", []byte{1, 0, 1, 1, 'a', 0, 0, 0}},
		{"zero distance", []byte{1, 0, 1, 1, 'a', 0, 1, 0, 0}},
		{"beyond the window", []byte{1, 0, 1, 1, 'a', 0, 1, 8, 0}},
		{"above fills the window", []byte{1, 0, 1, 1, 'a', 0, 8, 1, 1, 1, 1, 1, 1, 1, 1, 0}},
		{"watermark beyond MaxTxNo", []byte{1, 0, 1, 1, 'a', 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0}},
		{"app data too large", []byte{1, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeState(tc.data, p)
			if !errors.Is(err, ErrInvalidState) {
				t.Fatalf("decodeState(%x): error %v, want ErrInvalidState", tc.data, err)
			}
		})
	}
}

// A state at every limit decodes, and fits MaxStateBytes with at most a
// byte per client to spare (a watermark with numbers above it is at most
// MaxTxNo, a 9-byte varint; MaxStateBytes counts 10).
func TestMaxStateBytesBound(t *testing.T) {
	for _, p := range []ModuleParams{stateParams(), {NumBuckets: 1, ClientWindow: 200, MaxClients: 2, MaxClientIDBytes: 130, MaxAppStateBytes: 300, MaxPendingSlots: 1}} {
		cs := make(clients)
		for i := range p.MaxClients {
			c := &clientwindow.Client{Low: MaxTxNo - p.ClientWindow, Above: map[uint64]struct{}{}}
			for d := uint64(1); d < p.ClientWindow; d++ {
				c.Above[c.Low+d] = struct{}{}
			}
			cs[strings.Repeat(string(rune('a'+i)), p.MaxClientIDBytes)] = c
		}
		data := encodeState(1<<63, cs, bytes.Repeat([]byte{'x'}, p.MaxAppStateBytes))
		if _, err := decodeState(data, p); err != nil {
			t.Fatalf("%+v: a state at the limits: %v", p, err)
		}
		if n, limit := len(data), p.MaxStateBytes(); n > limit || n < limit-p.MaxClients {
			t.Errorf("%+v: a state at the limits has %d bytes, MaxStateBytes %d", p, n, limit)
		}
	}
}
