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
	client *client
	// out is set while the transaction is in a batch out (NewBatch); it
	// is then in no queue.
	out bool
	// prev and next link the entries of a queue, oldest first.
	prev, next *entry
}

// queue holds the waiting transactions of one bucket, oldest (lowest
// arrival) first: a doubly linked list, so that an executed transaction
// leaves it at once, wherever it is, and its memory with it.
type queue struct {
	head, tail *entry
	// txs and bytes sum the entries.
	txs, bytes int
}

// pushBack appends e, which arrived after every entry of q.
func (q *queue) pushBack(e *entry) {
	q.insertAfter(e, q.tail)
}

// insert puts e back in arrival order (a transaction handed back), looking
// from after hint, an entry of q older than e, or from the head if hint is
// nil. Handed-back transactions are among the oldest, so the search is
// short.
func (q *queue) insert(e *entry, hint *entry) {
	at := hint // e goes after at; nil: at the head.
	next := q.head
	if at != nil {
		next = at.next
	}
	for next != nil && next.arrival < e.arrival {
		at, next = next, next.next
	}
	q.insertAfter(e, at)
}

// insertAfter links e after at, or at the head if at is nil.
func (q *queue) insertAfter(e, at *entry) {
	e.prev = at
	if at == nil {
		e.next = q.head
		q.head = e
	} else {
		e.next = at.next
		at.next = e
	}
	if e.next == nil {
		q.tail = e
	} else {
		e.next.prev = e
	}
	q.txs++
	q.bytes += e.bytes
}

// remove unlinks e, an entry of q.
func (q *queue) remove(e *entry) {
	if e.prev == nil {
		q.head = e.next
	} else {
		e.prev.next = e.next
	}
	if e.next == nil {
		q.tail = e.prev
	} else {
		e.next.prev = e.prev
	}
	e.prev, e.next = nil, nil
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
