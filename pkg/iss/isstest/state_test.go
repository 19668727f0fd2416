package isstest

import (
	"bytes"
	"testing"
)

// TestClientWatermark: requests of a client executed out of order move
// its watermark once the gap below them is filled, and the state keeps
// only what is above it.
func TestClientWatermark(t *testing.T) {
	s := newState()
	id := func(seq uint64) RequestID { return RequestID{Client: "c", Seq: seq} }
	for _, seq := range []uint64{2, 0, 4} {
		s.execute(id(seq))
	}
	c := s.clients["c"]
	if c.Low != 1 || len(c.Above) != 2 {
		t.Fatalf("low %d, above %v; want 1 and {2, 4}", c.Low, c.Above)
	}
	s.execute(id(1))
	if c.Low != 3 || len(c.Above) != 1 {
		t.Fatalf("low %d, above %v; want 3 and {4}", c.Low, c.Above)
	}
	for seq, want := range map[uint64]bool{0: true, 1: true, 2: true, 3: false, 4: true, 5: false} {
		if s.executed(id(seq)) != want {
			t.Errorf("executed(%d) = %v", seq, !want)
		}
	}
	if !s.inWindow(id(3+7), 8) || s.inWindow(id(3+8), 8) || !s.inWindow(id(0), 8) || !s.inWindow(RequestID{Client: "new", Seq: 7}, 8) {
		t.Error("window wrong")
	}
	// The encoding round-trips, and is the same for the same state.
	s.next, s.chain = 9, Digest{7}
	data := s.encode()
	back, err := decodeState(data, 4, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.encode(), data) || back.next != 9 || back.chain != s.chain || !back.executed(id(4)) || back.executed(id(3)) {
		t.Errorf("state decoded as %+v", back)
	}
}

// TestDecodeStateRefuses: every state that encode would not write, or
// beyond the limits, is refused.
func TestDecodeStateRefuses(t *testing.T) {
	enc := func(parts ...any) []byte { return encodeParts(stateVersion, parts...) }
	chain := make([]byte, 32)
	good := enc(5, chain, 1, "c", 3, 1, 2)
	if _, err := decodeState(good, 4, 8, 8); err != nil {
		t.Fatalf("good state refused: %v", err)
	}
	// Request MaxSeq executed: the watermark is one above it.
	if _, err := decodeState(enc(5, chain, 1, "c", MaxSeq+1, 0), 4, 8, 8); err != nil {
		t.Fatalf("the state after request MaxSeq refused: %v", err)
	}
	for name, data := range map[string][]byte{
		"version":              append([]byte{2}, good[1:]...),
		"truncated":            good[:len(good)-1],
		"trailing":             append(good, 0),
		"too many clients":     enc(5, chain, 5),
		"empty client":         enc(5, chain, 1, "", 3, 0),
		"long client":          enc(5, chain, 1, "123456789", 3, 0),
		"clients out of order": enc(5, chain, 2, "d", 1, 0, "c", 1, 0),
		"client twice":         enc(5, chain, 2, "c", 1, 0, "c", 1, 0),
		"nothing executed":     enc(5, chain, 1, "c", 0, 0),
		"zero delta":           enc(5, chain, 1, "c", 3, 1, 0),
		"beyond window":        enc(5, chain, 1, "c", 3, 1, 8),
		"window full":          enc(5, chain, 1, "c", 3, 8, 1, 1, 1, 1, 1, 1, 1, 1),
		"low too high":         enc(5, chain, 1, "c", MaxSeq+2, 0),
		"above too high":       enc(5, chain, 1, "c", MaxSeq, 1, 1),
		"long varint":          append(append([]byte{stateVersion, 0x85, 0x00}, chain...), 0),
	} {
		if _, err := decodeState(data, 4, 8, 8); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
