package engine

import "testing"

func TestFifo(t *testing.T) {
	var q fifo[int]
	for i := range 1000 {
		q.push(i)
	}
	view := q.peek(3)
	if len(view) != 3 || cap(view) != 3 || view[0] != 0 || view[2] != 2 {
		t.Fatalf("peek(3) = %v (cap %d)", view, cap(view))
	}
	// Pushing while a view is out keeps the view intact.
	for i := 1000; i < 5000; i++ {
		q.push(i)
	}
	if view[0] != 0 || view[2] != 2 {
		t.Fatalf("view changed by push: %v", view)
	}
	next := 0
	for q.len() > 0 {
		n := min(q.len(), 7)
		for i, v := range q.peek(n) {
			if v != next+i {
				t.Fatalf("got %d at position %d, want %d", v, next+i, next+i)
			}
		}
		q.pop(n)
		next += n
	}
	if next != 5000 || q.head != 0 || len(q.buf) != 0 {
		t.Fatalf("drained %d, head %d, len %d", next, q.head, len(q.buf))
	}
	// An emptied queue that grew past the shrink capacity lets go of it.
	for i := range fifoShrinkCap + 1 {
		q.push(i)
	}
	q.pop(q.len())
	if q.buf != nil {
		t.Errorf("emptied large queue kept %d slots", cap(q.buf))
	}
	q.push(7)
	if q.popFront() != 7 || q.len() != 0 {
		t.Error("popFront")
	}
}

func TestFifoCompactsAndClears(t *testing.T) {
	var q fifo[*int]
	for i := range 2 * fifoCompactMin {
		v := i
		q.push(&v)
	}
	q.pop(fifoCompactMin + 1)
	if q.head != 0 {
		t.Fatalf("no compaction after popping more than half: head %d", q.head)
	}
	if q.len() != fifoCompactMin-1 || *q.peek(1)[0] != fifoCompactMin+1 {
		t.Fatalf("wrong contents after compaction")
	}
	for _, p := range q.buf[q.len():cap(q.buf)] {
		if p != nil {
			t.Fatal("a popped slot still references its element")
		}
	}
}
