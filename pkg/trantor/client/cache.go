package client

import "sync"

// replyCache keeps the latest replies the server was asked to send, so
// that it can answer a client that submits a transaction again after its
// reply was lost (the connection had dropped, or the client restarted):
// the mempool drops a transaction it knows executed, so without the cache
// such a client would wait for that node's reply forever. Entries go
// first in, first out, within maxEntries and maxBytes. It is safe for
// concurrent use.
type replyCache struct {
	mu       sync.Mutex
	maxBytes int
	max      int
	bytes    int
	results  map[cacheKey][]byte
	// order holds the keys, oldest first, from head on; it is compacted
	// when head passes half of it.
	order []cacheKey
	head  int
}

type cacheKey struct {
	clientID string
	txNo     uint64
}

// cacheEntryOverheadBytes is what an entry costs besides its client ID and
// result (map and slice slots), counted against maxBytes.
const cacheEntryOverheadBytes = 96

func newReplyCache(maxEntries, maxBytes int) *replyCache {
	return &replyCache{max: maxEntries, maxBytes: maxBytes, results: make(map[cacheKey][]byte)}
}

// put remembers result for (clientID, txNo), forgetting the oldest entries
// to make room. A result too large for the cache alone is not kept.
func (c *replyCache) put(clientID string, txNo uint64, result []byte) {
	c.putAll([]cacheKey{{clientID, txNo}}, [][]byte{result})
}

// putAll puts results[i] for keys[i], each as put does, taking the lock
// once.
func (c *replyCache) putAll(keys []cacheKey, results [][]byte) {
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		c.putLocked(k, results[i])
	}
}

func (c *replyCache) putLocked(k cacheKey, result []byte) {
	cost := len(k.clientID) + len(result) + cacheEntryOverheadBytes
	if cost > c.maxBytes {
		return
	}
	if _, ok := c.results[k]; ok {
		return // Executed once: the result is the same.
	}
	for len(c.results) >= c.max || c.bytes+cost > c.maxBytes {
		c.evictOldest()
	}
	c.results[k] = result
	c.bytes += cost
	c.order = append(c.order, k)
}

func (c *replyCache) evictOldest() {
	k := c.order[c.head]
	c.order[c.head] = cacheKey{}
	c.head++
	c.bytes -= len(k.clientID) + len(c.results[k]) + cacheEntryOverheadBytes
	delete(c.results, k)
	if c.head > len(c.order)/2 {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

// get returns the result remembered for (clientID, txNo), if any.
func (c *replyCache) get(clientID string, txNo uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.results[cacheKey{clientID, txNo}]
	return r, ok
}
