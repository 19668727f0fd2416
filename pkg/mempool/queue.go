package mempool

// entry is a transaction the mempool holds: waiting in its bucket's queue,
// or out in a batch.
type entry struct {
	tx Tx
	// arrival numbers the transactions in the order the mempool accepted
	// them, from 1; a batch takes the oldest first.
	arrival uint64
	// bucket is BucketOf(tx.TxID), bytes its payload's and client ID's
	// length.
	bucket int
	bytes  int
	// out is set while the transaction is in a batch out (NewBatch); it
	// is then in no queue.
	out bool
	// q links the entries of a queue, oldest first.
	q links[entry]
}

func (e *entry) links() *links[entry] { return &e.q }

// queue holds the waiting transactions of one bucket, oldest (lowest
// arrival) first, so that an executed transaction leaves it at once,
// wherever it is, and its memory with it.
type queue struct {
	list[entry, *entry]
	// txs and bytes sum the entries.
	txs, bytes int
}

// push appends e, which arrived after every entry of q.
func (q *queue) push(e *entry) {
	q.pushBack(e)
	q.txs++
	q.bytes += e.bytes
}

// insert puts e back in arrival order (a transaction handed back), looking
// from after hint, an entry of q older than e, or from the head if hint is
// nil. Handed-back transactions are among the oldest, so the search is
// short.
func (q *queue) insert(e *entry, hint *entry) {
	at := hint // e goes after at; nil: at the head.
	next := q.head
	if at != nil {
		next = at.q.next
	}
	for next != nil && next.arrival < e.arrival {
		at, next = next, next.q.next
	}
	q.insertAfter(e, at)
	q.txs++
	q.bytes += e.bytes
}

// take unlinks e, an entry of q.
func (q *queue) take(e *entry) {
	q.remove(e)
	q.txs--
	q.bytes -= e.bytes
}

// merger yields the waiting transactions of several queues in arrival
// order: a binary min-heap of the non-empty queues by their heads'
// arrival. It is reused from batch to batch.
type merger []*queue

// reset fills the heap with the non-empty queues among qs.
func (h *merger) reset(qs []*queue) {
	*h = (*h)[:0]
	for _, q := range qs {
		if q.head != nil {
			*h = append(*h, q)
		}
	}
	for i := len(*h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// peek returns the oldest waiting entry, nil if none.
func (h merger) peek() *entry {
	if len(h) == 0 {
		return nil
	}
	return h[0].head
}

// fix restores the heap after the head of the top queue left it.
func (h *merger) fix() {
	if (*h)[0].head == nil {
		last := len(*h) - 1
		(*h)[0] = (*h)[last]
		(*h)[last] = nil
		*h = (*h)[:last]
	}
	if len(*h) > 0 {
		h.down(0)
	}
}

func (h merger) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].head.arrival < h[l].head.arrival {
			m = r
		}
		if h[i].head.arrival <= h[m].head.arrival {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
