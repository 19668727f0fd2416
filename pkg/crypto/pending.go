package crypto

// Pending keeps, for a caller of a crypto module, what it needs when a
// result comes back, under the ID it puts in the request's Origin. IDs are
// 1, 2, 3, ... in the order of Add, so a module using Pending stays
// deterministic. The zero value is ready to use. It is not safe for
// concurrent use, like the passive module that owns it.
//
//	id := p.Add(proposal)
//	out := crypto.NewSignRequest("crypto", crypto.Origin{Module: myID, ID: id}, digest)
//	...
//	case *crypto.SignResult:
//		proposal, ok := p.Take(ev.Origin.ID)
type Pending[T any] struct {
	last  uint64
	items map[uint64]T
}

// Add keeps v and returns its ID, never 0.
func (p *Pending[T]) Add(v T) uint64 {
	if p.items == nil {
		p.items = make(map[uint64]T)
	}
	p.last++
	p.items[p.last] = v
	return p.last
}

// Take returns the value kept under id and forgets it. It reports false if
// there is none: the ID was never given, or was taken already.
func (p *Pending[T]) Take(id uint64) (T, bool) {
	v, ok := p.items[id]
	if ok {
		delete(p.items, id)
	}
	return v, ok
}

// Len returns the number of values kept.
func (p *Pending[T]) Len() int { return len(p.items) }
