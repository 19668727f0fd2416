package kvstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/samples/kvstore"
)

func newStore(t testing.TB, maxStateBytes int) *kvstore.Store {
	t.Helper()
	s, err := kvstore.New(maxStateBytes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// apply applies the operations (or raw transactions) and returns the
// decoded results.
func apply(t testing.TB, s *kvstore.Store, ops ...any) []kvstore.Result {
	t.Helper()
	txs := make([]mempool.Tx, len(ops))
	for i, op := range ops {
		switch op := op.(type) {
		case kvstore.Op:
			txs[i].Data = encode(t, op)
		case []byte:
			txs[i].Data = op
		}
	}
	res, err := s.Apply(txs)
	if err != nil || len(res) != len(ops) {
		t.Fatalf("Apply: %d results, %v", len(res), err)
	}
	out := make([]kvstore.Result, len(res))
	for i, r := range res {
		if out[i], err = kvstore.DecodeResult(r); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func put(k, v string) kvstore.Op {
	return kvstore.Op{Kind: kvstore.Put, Key: []byte(k), Value: []byte(v)}
}
func get(k string) kvstore.Op { return kvstore.Op{Kind: kvstore.Get, Key: []byte(k)} }
func cas(k, old, v string) kvstore.Op {
	return kvstore.Op{Kind: kvstore.CAS, Key: []byte(k), Old: []byte(old), Value: []byte(v)}
}

func TestStoreOperations(t *testing.T) {
	s := newStore(t, 0)
	got := apply(t, s, get("a"), put("a", "1"), get("a"), cas("a", "0", "2"), cas("a", "1", "2"), get("a"),
		cas("b", "", "x"), put("a", ""), get("a"), []byte("garbage"))
	want := []kvstore.Result{
		{Status: kvstore.OK}, {Status: kvstore.OK}, {Status: kvstore.OK, Value: []byte("1")},
		{Status: kvstore.Mismatch, Value: []byte("1")}, {Status: kvstore.OK, Value: []byte("2")}, {Status: kvstore.OK, Value: []byte("2")},
		{Status: kvstore.OK, Value: []byte("x")}, {Status: kvstore.OK}, {Status: kvstore.OK}, {Status: kvstore.Invalid},
	}
	for i := range want {
		if got[i].Status != want[i].Status || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Errorf("operation %d: %v %q, want %v %q", i, got[i].Status, got[i].Value, want[i].Status, want[i].Value)
		}
	}
}

// TestStoreSnapshotRestore: a snapshot restores to the same state, on a
// store that held other keys; it is the same whatever the order of the
// writes that made the state (no map order leaks); and the membership
// goes with it.
func TestStoreSnapshotRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var ops []any
	for i := range 500 {
		ops = append(ops, put(fmt.Sprint("k", r.IntN(100)), fmt.Sprint("v", i)))
	}
	voters := membership.EqualVoters("0", "1", "2", "3", "4")
	ops = append(ops, kvstore.Op{Kind: kvstore.SetVoters, Voters: voters})
	a := newStore(t, 0)
	apply(t, a, ops...)
	snap, next, err := a.Snapshot()
	if err != nil || !slices.Equal(next, voters) {
		t.Fatalf("snapshot: voters %v, %v", next, err)
	}
	b := newStore(t, 0)
	apply(t, b, put("other", "x"))
	if err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	again, next2, _ := b.Snapshot()
	if !bytes.Equal(again, snap) || !slices.Equal(next2, voters) {
		t.Error("a restored store snapshots differently")
	}
	if res := apply(t, b, get("other")); len(res[0].Value) != 0 {
		t.Error("a key of the state before the restore survived it")
	}
	// The final values only, written in another order.
	c := newStore(t, 0)
	final := map[string]string{}
	for _, op := range ops[:500] {
		final[string(op.(kvstore.Op).Key)] = string(op.(kvstore.Op).Value)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range final {
			if !yield(k) {
				return
			}
		}
	})
	slices.Reverse(keys)
	for _, k := range keys {
		apply(t, c, put(k, final[k]))
	}
	apply(t, c, kvstore.Op{Kind: kvstore.SetVoters, Voters: voters})
	if s, _, _ := c.Snapshot(); !bytes.Equal(s, snap) {
		t.Error("the same state written in another order snapshots differently")
	}
}

// TestStoreFull: writes that would take the snapshot over its bound are
// refused, and the snapshot never exceeds it; deletes free room.
func TestStoreFull(t *testing.T) {
	const maxState = 8192
	s := newStore(t, maxState)
	full := 0
	for i := range 200 {
		res := apply(t, s, put(fmt.Sprint("key", i), string(bytes.Repeat([]byte("v"), 100))))
		if res[0].Status == kvstore.Full {
			full++
		}
		snap, _, err := s.Snapshot()
		if err != nil || len(snap) > maxState {
			t.Fatalf("snapshot of %d bytes, bound %d: %v", len(snap), maxState, err)
		}
	}
	if full == 0 {
		t.Fatal("no write refused")
	}
	if res := apply(t, s, put("key0", ""), put("new", "x")); res[1].Status != kvstore.OK {
		t.Errorf("a write after a delete: %v", res[1].Status)
	}
	if _, err := kvstore.New(10); err == nil {
		t.Error("a bound below a membership's size accepted")
	}
}

// TestStoreRestoreRefuses: Restore takes only what Snapshot gives, and
// leaves the store as it was on an error.
func TestStoreRestoreRefuses(t *testing.T) {
	s := newStore(t, 0)
	apply(t, s, put("a", "1"), put("b", "2"))
	good, _, _ := s.Snapshot()
	for name, b := range map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{2}, good[1:]...),
		"trailing":      append(slices.Clone(good), 0),
		"truncated":     good[:len(good)-1],
		"out of order":  {1, 0, 2, 1, 'b', 1, '2', 1, 'a', 1, '1'},
		"duplicate key": {1, 0, 2, 1, 'a', 1, '2', 1, 'a', 1, '1'},
		"empty value":   {1, 0, 1, 1, 'a', 0},
		"bad voters":    {1, 1, 1, 'a', 0, 0},
		"huge count":    {1, 0, 0xff, 0xff, 0xff, 0x7f},
	} {
		if err := s.Restore(b); !errors.Is(err, kvstore.ErrBadState) {
			t.Errorf("%s: %v, want ErrBadState", name, err)
		}
	}
	if after, _, _ := s.Snapshot(); !bytes.Equal(after, good) {
		t.Error("a refused restore changed the store")
	}
}

// FuzzRestore: Restore never panics, and a state it takes snapshots back
// to the same bytes.
func FuzzRestore(f *testing.F) {
	s := newStore(f, 0)
	apply(f, s, put("a", "1"), put("b", "2"), kvstore.Op{Kind: kvstore.SetVoters, Voters: membership.EqualVoters("0")})
	snap, _, _ := s.Snapshot()
	f.Add(snap)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := newStore(t, 0)
		if s.Restore(b) != nil {
			return
		}
		again, _, err := s.Snapshot()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("%x restores to a state that snapshots to %x, %v", b, again, err)
		}
	})
}
