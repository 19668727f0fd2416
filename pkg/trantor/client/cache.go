package client

import "sync"

// replyCache keeps the latest replies the server was asked to send, so
// that it can answer a client that submits a transaction again after its
// reply was lost (the connection had dropped, or the client restarted):
// the mempool drops a transaction it knows executed, so without the cache
// such a client would wait for that node's reply forever. Entries go
// first in, first out, within maxEntries and maxBytes. It is safe for
// concurrent use.
//
// Entries are kept per client, each client's in a map keyed by number: an
// event's replies come in runs of one client's, so a put costs one lookup
// by an integer, not one by a string.
type replyCache struct {
	mu       sync.Mutex
	maxBytes int
	max      int
	bytes    int
	// entries counts the results of all clients.
	entries int
	clients map[string]*clientReplies
	// order holds the entries, oldest first, from head on; it is
	// compacted when head passes half of it.
	order []cacheRef
	head  int
}

// clientReplies are the results remembered of one client; it is
// forgotten with its last result.
type clientReplies struct {
	clientID string
	results  map[uint64][]byte
	// maxTxNo is the highest number ever put: a client's new
	// transactions, and most results, are numbered above it, and a look-up
	// of those needs no probe of results (a cache miss, for a large map).
	maxTxNo uint64
}

// lookup returns the result of txNo, if any.
func (cr *clientReplies) lookup(txNo uint64) ([]byte, bool) {
	if cr == nil || txNo > cr.maxTxNo {
		return nil, false
	}
	r, ok := cr.results[txNo]
	return r, ok
}

// cacheRef names an entry in order.
type cacheRef struct {
	client *clientReplies
	txNo   uint64
}

type cacheKey struct {
	clientID string
	txNo     uint64
}

// cacheEntryOverheadBytes is what an entry costs besides its client ID and
// result (map and slice slots), counted against maxBytes.
const cacheEntryOverheadBytes = 96

func newReplyCache(maxEntries, maxBytes int) *replyCache {
	return &replyCache{max: maxEntries, maxBytes: maxBytes, clients: make(map[string]*clientReplies)}
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
	var cr *clientReplies
	for i, k := range keys {
		cost := len(k.clientID) + len(results[i]) + cacheEntryOverheadBytes
		if cost > c.maxBytes {
			continue
		}
		if cr == nil || cr.clientID != k.clientID || c.clients[k.clientID] != cr {
			cr = c.clients[k.clientID]
		}
		if _, ok := cr.lookup(k.txNo); ok {
			continue // Executed once: the result is the same.
		}
		for c.entries >= c.max || c.bytes+cost > c.maxBytes {
			c.evictOldest()
		}
		// Eviction may have forgotten cr.
		if cr == nil || c.clients[k.clientID] != cr {
			cr = &clientReplies{clientID: k.clientID, results: make(map[uint64][]byte)}
			c.clients[k.clientID] = cr
		}
		cr.results[k.txNo] = results[i]
		cr.maxTxNo = max(cr.maxTxNo, k.txNo)
		c.entries++
		c.bytes += cost
		c.order = append(c.order, cacheRef{cr, k.txNo})
	}
}

func (c *replyCache) evictOldest() {
	ref := c.order[c.head]
	c.order[c.head] = cacheRef{}
	c.head++
	cr := ref.client
	c.bytes -= len(cr.clientID) + len(cr.results[ref.txNo]) + cacheEntryOverheadBytes
	c.entries--
	delete(cr.results, ref.txNo)
	if len(cr.results) == 0 {
		delete(c.clients, cr.clientID)
	}
	if c.head > len(c.order)/2 {
		c.order = append(c.order[:0], c.order[c.head:]...)
		c.head = 0
	}
}

// get returns the result remembered for (clientID, txNo), if any.
func (c *replyCache) get(clientID string, txNo uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clients[clientID].lookup(txNo)
}
