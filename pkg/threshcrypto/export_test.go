package threshcrypto

// ForgetHashes empties c's memory of the hashes of messages, for the
// benchmarks of the work on a message c sees for the first time.
func (c *BLS) ForgetHashes() { c.hashes.reset() }

// reset empties c.
func (c *fifoCache[K, V]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.values)
	c.order = c.order[:0]
	c.next = 0
}
