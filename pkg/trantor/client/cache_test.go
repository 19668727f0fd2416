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
	if c.bytes > c.maxBytes || len(c.results) > c.max {
		t.Errorf("%d bytes, %d entries: over the bounds", c.bytes, len(c.results))
	}
}
