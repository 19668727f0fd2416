package client

import (
	"fmt"
	"testing"
)

// TestReplyCacheBounds: the cache keeps at most its entries and bytes,
// forgetting the oldest first, and skips a result too large for it.
func TestReplyCacheBounds(t *testing.T) {
	c := newReplyCache(3, 3*(1+10+cacheEntryOverheadBytes))
	for i := range 5 {
		c.put("c", uint64(i), []byte(fmt.Sprintf("%010d", i)))
	}
	for i := range 5 {
		_, ok := c.get("c", uint64(i))
		if want := i >= 2; ok != want {
			t.Errorf("entry %d kept: %v, want %v", i, ok, want)
		}
	}
	c.put("c", 9, make([]byte, 20)) // Bytes: evicts two.
	if _, ok := c.get("c", 3); ok {
		t.Error("entry 3 kept past the byte bound")
	}
	if _, ok := c.get("c", 9); !ok {
		t.Error("entry 9 not kept")
	}
	c.put("c", 10, make([]byte, 1<<20)) // Too large: not kept, nothing evicted.
	if _, ok := c.get("c", 10); ok {
		t.Error("oversized entry kept")
	}
	if _, ok := c.get("c", 9); !ok {
		t.Error("entry 9 evicted for an oversized one")
	}
	if c.bytes > c.maxBytes || c.entries > c.max {
		t.Errorf("%d bytes, %d entries: over the bounds", c.bytes, c.entries)
	}
}

// TestReplyCacheClients: a client is forgotten with its last entry, also
// when that entry is evicted in the middle of a run of its own puts, and
// clients' entries go oldest first across clients.
func TestReplyCacheClients(t *testing.T) {
	c := newReplyCache(1, 1<<20)
	c.putAll([]cacheKey{{"a", 1}, {"a", 2}}, [][]byte{[]byte("r1"), []byte("r2")})
	if r, ok := c.get("a", 2); !ok || string(r) != "r2" {
		t.Fatalf("a/2: %q, %v", r, ok)
	}
	if _, ok := c.get("a", 1); ok || c.entries != 1 || len(c.clients) != 1 {
		t.Fatalf("a/1 kept %v, %d entries, %d clients", ok, c.entries, len(c.clients))
	}
	c = newReplyCache(3, 1<<20)
	c.putAll([]cacheKey{{"a", 1}, {"b", 1}, {"a", 2}, {"a", 2}}, [][]byte{{1}, {2}, {3}, {4}})
	c.put("c", 1, []byte{5}) // Evicts a/1.
	c.put("c", 2, []byte{6}) // Evicts b/1, and b.
	for _, k := range []cacheKey{{"a", 1}, {"b", 1}} {
		if _, ok := c.get(k.clientID, k.txNo); ok {
			t.Errorf("%v kept", k)
		}
	}
	if r, _ := c.get("a", 2); len(r) != 1 || r[0] != 3 {
		t.Errorf("a/2 is %v, want the first result put", r)
	}
	if len(c.clients) != 2 || c.entries != 3 {
		t.Errorf("%d clients, %d entries, want 2 and 3", len(c.clients), c.entries)
	}
}

// benchCache returns a cache of the server's default bounds and the IDs
// of 128 clients, named as loadgen names them.
func benchCache() (*replyCache, []string) {
	d := DefaultServerOptions()
	var ids []string
	for i := range 128 {
		ids = append(ids, fmt.Sprintf("loadgen-abcdefgh-%d", i))
	}
	return newReplyCache(d.MaxCachedReplies, d.MaxCachedReplyBytes), ids
}

// BenchmarkReplyCachePut measures puts at the default bounds, full, of
// slots of 1,024 transactions of 128 clients.
func BenchmarkReplyCachePut(b *testing.B) {
	c, ids := benchCache()
	result := make([]byte, 16)
	no := make([]uint64, len(ids))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := i % len(ids)
		c.put(ids[id], no[id], result)
		no[id]++
	}
}

// TestReplyCacheOutOfOrder: results put out of number order are found,
// and a second result of a number keeps the first, below the highest
// number put as above it.
func TestReplyCacheOutOfOrder(t *testing.T) {
	c := newReplyCache(10, 1<<20)
	c.put("a", 5, []byte("r5"))
	c.put("a", 3, []byte("r3"))
	c.put("a", 3, []byte("other"))
	c.put("a", 5, []byte("other"))
	for no, want := range map[uint64]string{3: "r3", 5: "r5", 4: "", 6: ""} {
		r, ok := c.get("a", no)
		if ok != (want != "") || string(r) != want {
			t.Errorf("a/%d: %q, %v, want %q", no, r, ok, want)
		}
	}
}

// BenchmarkReplyCacheGetNew measures the look-up of a transaction
// submitted for the first time (numbered above every result of its
// client), the server's look-up for almost every frame, in a full cache.
func BenchmarkReplyCacheGetNew(b *testing.B) {
	c, ids := benchCache()
	const perClient = 1024 // More than the cache holds: it is full.
	for no := range uint64(perClient) {
		for _, id := range ids {
			c.put(id, no, make([]byte, 16))
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, ok := c.get(ids[i%len(ids)], perClient+uint64(i)); ok {
			b.Fatal("found a result never put")
		}
	}
}
