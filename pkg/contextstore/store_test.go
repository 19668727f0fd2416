package contextstore_test

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/contextstore"
	"github.com/mirframework/mir/stdtypes"
)

// contents returns the IDs and values of s, in iteration order.
func contents(s *contextstore.Store[string]) ([]uint64, []string) {
	var ids []uint64
	var vals []string
	for id, v := range s.All() {
		ids = append(ids, id)
		vals = append(vals, v)
	}
	return ids, vals
}

func check(t *testing.T, s *contextstore.Store[string], wantIDs []uint64, wantVals []string) {
	t.Helper()
	ids, vals := contents(s)
	if !slices.Equal(ids, wantIDs) || !slices.Equal(vals, wantVals) {
		t.Errorf("store holds %v %q, want %v %q", ids, vals, wantIDs, wantVals)
	}
	if s.Len() != len(wantIDs) {
		t.Errorf("Len() = %d, want %d", s.Len(), len(wantIDs))
	}
}

func TestZeroValue(t *testing.T) {
	var s contextstore.Store[string]
	check(t, &s, nil, nil)
	for _, id := range []uint64{0, 1, 1 << 63} {
		if v, ok := s.Get(id); ok || v != "" {
			t.Errorf("Get(%d) = %q, %v on an empty store", id, v, ok)
		}
		if v, ok := s.Recover(id); ok || v != "" {
			t.Errorf("Recover(%d) = %q, %v on an empty store", id, v, ok)
		}
		if s.Dispose(id) {
			t.Errorf("Dispose(%d) on an empty store", id)
		}
	}
	if s.GarbageCollect(10) != 0 || s.DisposeIf(func(uint64, string) bool { return true }) != 0 || s.DisposeIf(nil) != 0 {
		t.Error("bulk removal from an empty store removed something")
	}
}

func TestStoreGetRecover(t *testing.T) {
	var s contextstore.Store[string]
	a, b, c := s.Store("a"), s.Store("b"), s.StoreWithRetention("c", 5)
	if a != 1 || b != 2 || c != 3 {
		t.Fatalf("IDs %d %d %d, want 1 2 3", a, b, c)
	}
	check(t, &s, []uint64{1, 2, 3}, []string{"a", "b", "c"})

	if v, ok := s.Get(b); !ok || v != "b" {
		t.Errorf("Get(%d) = %q, %v", b, v, ok)
	}
	if v, ok := s.Get(b); !ok || v != "b" {
		t.Errorf("Get does not keep the value: %q, %v", v, ok)
	}
	if v, ok := s.Recover(b); !ok || v != "b" {
		t.Errorf("Recover(%d) = %q, %v", b, v, ok)
	}
	if _, ok := s.Recover(b); ok {
		t.Error("Recover found a value twice")
	}
	if _, ok := s.Get(b); ok {
		t.Error("Get found a recovered value")
	}
	if _, ok := s.Get(0); ok {
		t.Error("Get(0) found something")
	}
	if _, ok := s.Get(4); ok {
		t.Error("Get found an ID not given yet")
	}
	check(t, &s, []uint64{1, 3}, []string{"a", "c"})

	if !s.Dispose(a) || s.Dispose(a) {
		t.Error("Dispose does not report whether the value was there")
	}
	check(t, &s, []uint64{3}, []string{"c"})

	// IDs are never reused, even once everything is gone.
	s.Dispose(c)
	check(t, &s, nil, nil)
	if d := s.Store("d"); d != 4 {
		t.Errorf("ID after removing everything = %d, want 4", d)
	}
}

func TestGarbageCollect(t *testing.T) {
	var s contextstore.Store[string]
	s.StoreWithRetention("e2", 2)
	s.StoreWithRetention("e0", 0)
	s.StoreWithRetention("e3", 3)
	s.StoreWithRetention("e1", 1)
	s.Store("plain")
	if n := s.GarbageCollect(0); n != 0 {
		t.Errorf("GarbageCollect(0) removed %d", n)
	}
	if n := s.GarbageCollect(2); n != 3 {
		t.Errorf("GarbageCollect(2) removed %d, want e0, e1 and plain", n)
	}
	check(t, &s, []uint64{1, 3}, []string{"e2", "e3"})
	if n := s.GarbageCollect(2); n != 0 {
		t.Errorf("GarbageCollect(2) again removed %d", n)
	}
	// Storing below the collected index is allowed; the next collection
	// removes it.
	s.StoreWithRetention("late", 1)
	if n := s.GarbageCollect(^stdtypes.RetentionIndex(0)); n != 3 {
		t.Errorf("GarbageCollect(max) removed %d, want 3", n)
	}
	check(t, &s, nil, nil)
}

func TestDisposeIf(t *testing.T) {
	var s contextstore.Store[string]
	for _, v := range []string{"a", "b", "c", "d", "e"} {
		s.Store(v)
	}
	s.Dispose(2)
	var asked []uint64
	n := s.DisposeIf(func(id uint64, v string) bool {
		asked = append(asked, id)
		return v == "a" || v == "d"
	})
	if n != 2 {
		t.Errorf("DisposeIf removed %d, want 2", n)
	}
	if want := []uint64{1, 3, 4, 5}; !slices.Equal(asked, want) {
		t.Errorf("DisposeIf asked about %v, want the live IDs in order %v", asked, want)
	}
	check(t, &s, []uint64{3, 5}, []string{"c", "e"})
}

func TestAllStopsEarly(t *testing.T) {
	var s contextstore.Store[string]
	s.Store("a")
	s.Store("b")
	for id := range s.All() {
		if id != 1 {
			t.Errorf("first ID %d", id)
		}
		break
	}
}

// TestManyOutstanding runs a long stream of requests answered in various
// orders, as a crypto pool answers them, against a map as a model: every
// value is found until it is recovered, and compaction loses nothing.
func TestManyOutstanding(t *testing.T) {
	var s contextstore.Store[string]
	model := make(map[uint64]string)
	var outstanding []uint64
	r := uint64(1)
	next := func(n int) int { // A small deterministic generator.
		r = r*6364136223846793005 + 1442695040888963407
		return int(r>>33) % n
	}
	for step := range 20000 {
		if len(outstanding) == 0 || next(3) > 0 && len(outstanding) < 500 {
			v := string(rune('a' + step%26))
			id := s.StoreWithRetention(v, stdtypes.RetentionIndex(step/1000))
			model[id] = v
			outstanding = append(outstanding, id)
			continue
		}
		i := next(len(outstanding))
		id := outstanding[i]
		outstanding = slices.Delete(outstanding, i, i+1)
		v, ok := s.Recover(id)
		if !ok || v != model[id] {
			t.Fatalf("step %d: Recover(%d) = %q, %v, want %q", step, id, v, ok, model[id])
		}
		delete(model, id)
		if s.Len() != len(model) {
			t.Fatalf("step %d: Len() = %d, want %d", step, s.Len(), len(model))
		}
	}
	for id, v := range model {
		if got, ok := s.Get(id); !ok || got != v {
			t.Errorf("Get(%d) = %q, %v, want %q", id, got, ok, v)
		}
	}
	removed := s.GarbageCollect(19)
	for id, v := range s.All() {
		if model[id] != v {
			t.Errorf("after GC: %d holds %q, want %q", id, v, model[id])
		}
	}
	if removed+s.Len() != len(model) {
		t.Errorf("GC removed %d and kept %d of %d", removed, s.Len(), len(model))
	}
}

// TestFIFOStaysSmall checks that a module answering requests in order,
// one outstanding at a time, does not make the store grow.
func TestFIFOStaysSmall(t *testing.T) {
	var s contextstore.Store[[]byte]
	allocs := testing.AllocsPerRun(1000, func() {
		id := s.Store(nil)
		s.Recover(id)
	})
	if allocs > 0.1 {
		t.Errorf("%.2f allocations per store and recover, want none in steady state", allocs)
	}
}
