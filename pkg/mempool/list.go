package mempool

// links are an element's pointers in a doubly linked list.
type links[T any] struct {
	prev, next *T
}

// linked is an element type of a list: a pointer with its links.
type linked[T any] interface {
	*T
	links() *links[T]
}

// list is an intrusive doubly linked list, so that an element leaves it
// at once, wherever it is, with no allocation to join it: the mempool's
// queues of transactions and its idle clients.
type list[T any, P linked[T]] struct {
	head, tail *T
}

// insertAfter links e after at, or at the head if at is nil.
func (l *list[T, P]) insertAfter(e, at *T) {
	el := P(e).links()
	el.prev = at
	if at == nil {
		el.next = l.head
		l.head = e
	} else {
		el.next = P(at).links().next
		P(at).links().next = e
	}
	if el.next == nil {
		l.tail = e
	} else {
		P(el.next).links().prev = e
	}
}

// pushBack appends e.
func (l *list[T, P]) pushBack(e *T) { l.insertAfter(e, l.tail) }

// remove unlinks e, an element of l.
func (l *list[T, P]) remove(e *T) {
	el := P(e).links()
	if el.prev == nil {
		l.head = el.next
	} else {
		P(el.prev).links().next = el.next
	}
	if el.next == nil {
		l.tail = el.prev
	} else {
		P(el.next).links().prev = el.prev
	}
	el.prev, el.next = nil, nil
}
