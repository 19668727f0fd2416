package kvstore_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/samples/kvstore"
	"github.com/mirframework/mir/stdtypes"
)

func encode(t testing.TB, op kvstore.Op) []byte {
	t.Helper()
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameOp(a, b kvstore.Op) bool {
	return a.Kind == b.Kind && bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value) && bytes.Equal(a.Old, b.Old) &&
		slices.Equal(a.Voters, b.Voters)
}

func TestOpRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte("v"), kvstore.MaxValueBytes)
	for _, op := range []kvstore.Op{
		{Kind: kvstore.Put, Key: []byte("k"), Value: []byte("v")},
		{Kind: kvstore.Put, Key: bytes.Repeat([]byte("k"), kvstore.MaxKeyBytes), Value: long},
		{Kind: kvstore.Put, Key: []byte("k")},
		{Kind: kvstore.Get, Key: []byte("k")},
		{Kind: kvstore.CAS, Key: []byte("k"), Old: []byte("a"), Value: []byte("b")},
		{Kind: kvstore.CAS, Key: []byte("k"), Value: long},
		{Kind: kvstore.SetVoters, Voters: membership.EqualVoters("0", "1", "2", "3", "4")},
	} {
		got, err := kvstore.DecodeOp(encode(t, op))
		if err != nil || !sameOp(got, op) {
			t.Errorf("%+v decodes to %+v, %v", op, got, err)
		}
	}
}

// TestOpRefused: Encode refuses an operation out of its limits, and
// DecodeOp every encoding but the one Encode gives.
func TestOpRefused(t *testing.T) {
	for name, op := range map[string]kvstore.Op{
		"no key":          {Kind: kvstore.Get},
		"long key":        {Kind: kvstore.Get, Key: make([]byte, kvstore.MaxKeyBytes+1)},
		"long value":      {Kind: kvstore.Put, Key: []byte("k"), Value: make([]byte, kvstore.MaxValueBytes+1)},
		"long old":        {Kind: kvstore.CAS, Key: []byte("k"), Old: make([]byte, kvstore.MaxValueBytes+1)},
		"get with value":  {Kind: kvstore.Get, Key: []byte("k"), Value: []byte("v")},
		"put with old":    {Kind: kvstore.Put, Key: []byte("k"), Old: []byte("v")},
		"put with voters": {Kind: kvstore.Put, Key: []byte("k"), Voters: membership.EqualVoters("0")},
		"no voters":       {Kind: kvstore.SetVoters},
		"voters with key": {Kind: kvstore.SetVoters, Key: []byte("k"), Voters: membership.EqualVoters("0")},
		"voter twice":     {Kind: kvstore.SetVoters, Voters: membership.EqualVoters("0", "0")},
		"long voter ID":   {Kind: kvstore.SetVoters, Voters: membership.EqualVoters(stdtypes.NodeID(strings.Repeat("x", kvstore.MaxVoterIDBytes+1)))},
		"unknown kind":    {Kind: 9, Key: []byte("k")},
	} {
		if _, err := op.Encode(); !errors.Is(err, kvstore.ErrBadOp) {
			t.Errorf("%s: Encode: %v, want ErrBadOp", name, err)
		}
	}
	put := encode(t, kvstore.Op{Kind: kvstore.Put, Key: []byte("k"), Value: []byte("v")})
	for name, b := range map[string][]byte{
		"empty":          nil,
		"version":        append([]byte{2}, put[1:]...),
		"kind":           {1, 9, 1, 'k'},
		"trailing":       append(slices.Clone(put), 0),
		"truncated":      put[:len(put)-1],
		"long uvarint":   {1, 2, 0x81, 0x00, 'k'},
		"key over limit": append([]byte{1, 2, 0x81, 0x01}, make([]byte, 129)...),
		"empty key":      {1, 2, 0},
		"huge length":    {1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"zero voters":    {1, 4, 0},
		"zero weight":    {1, 4, 1, 1, 'a', 0},
		"many voters":    {1, 4, kvstore.MaxVoters + 1},
	} {
		if op, err := kvstore.DecodeOp(b); !errors.Is(err, kvstore.ErrBadOp) {
			t.Errorf("%s: decodes to %+v, %v", name, op, err)
		}
	}
}

func TestResultRoundTrip(t *testing.T) {
	for _, r := range []kvstore.Result{{Status: kvstore.OK}, {Status: kvstore.OK, Value: []byte("v")}, {Status: kvstore.Mismatch, Value: []byte("w")}, {Status: kvstore.Full}} {
		got, err := kvstore.DecodeResult(r.Encode())
		if err != nil || got.Status != r.Status || !bytes.Equal(got.Value, r.Value) {
			t.Errorf("%+v decodes to %+v, %v", r, got, err)
		}
	}
	for _, b := range [][]byte{nil, {9}, {byte(kvstore.Invalid), 'x'}, append([]byte{0}, make([]byte, kvstore.MaxValueBytes+1)...)} {
		if _, err := kvstore.DecodeResult(b); !errors.Is(err, kvstore.ErrBadResult) {
			t.Errorf("%x: %v, want ErrBadResult", b, err)
		}
	}
}

// FuzzDecodeOp: DecodeOp never panics, and what it accepts encodes back
// to the same bytes (one encoding per operation).
func FuzzDecodeOp(f *testing.F) {
	f.Add(encode(f, kvstore.Op{Kind: kvstore.Put, Key: []byte("k"), Value: []byte("v")}))
	f.Add(encode(f, kvstore.Op{Kind: kvstore.CAS, Key: []byte("k"), Old: []byte("a"), Value: []byte("b")}))
	f.Add(encode(f, kvstore.Op{Kind: kvstore.Get, Key: []byte("k")}))
	f.Add(encode(f, kvstore.Op{Kind: kvstore.SetVoters, Voters: membership.EqualVoters("0", "1")}))
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := kvstore.DecodeOp(b)
		if err != nil {
			return
		}
		if again := encode(t, op); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, op, again)
		}
	})
}
