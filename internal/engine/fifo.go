package engine

// fifo is a first-in first-out queue backed by one slice. Its first n
// elements can be viewed as a slice without copying, which is how a batch
// of events reaches a module.
type fifo[T any] struct {
	buf  []T
	head int
}

// fifoCompactMin is the number of consumed slots below which a queue is not
// compacted: moving a few elements often costs more than it saves.
const fifoCompactMin = 256

// fifoShrinkCap is the capacity above which an emptied queue gives its
// backing array back, so that one burst does not pin memory forever.
const fifoShrinkCap = 1 << 16

func (q *fifo[T]) len() int { return len(q.buf) - q.head }

func (q *fifo[T]) push(v T) { q.buf = append(q.buf, v) }

// peek returns the first n elements. The view stays valid until the next
// pop, even if push grows the queue meanwhile. Its capacity is cut to n, so
// appending to it cannot write over the queue.
func (q *fifo[T]) peek(n int) []T { return q.buf[q.head : q.head+n : q.head+n] }

// popFront removes and returns the first element. The queue must not be empty.
func (q *fifo[T]) popFront() T {
	v := q.buf[q.head]
	q.pop(1)
	return v
}

// pop removes the first n elements, clearing their slots so that the
// garbage collector can reclaim what they referenced.
func (q *fifo[T]) pop(n int) {
	clear(q.buf[q.head : q.head+n])
	q.head += n
	switch {
	case q.head == len(q.buf):
		if cap(q.buf) > fifoShrinkCap {
			q.buf = nil
		} else {
			q.buf = q.buf[:0]
		}
		q.head = 0
	case q.head >= fifoCompactMin && 2*q.head >= len(q.buf):
		kept := copy(q.buf, q.buf[q.head:])
		clear(q.buf[kept:])
		q.buf = q.buf[:kept]
		q.head = 0
	}
}
