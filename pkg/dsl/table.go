package dsl

import "unsafe"

// A table finds the dispatcher of an event's (or a message's) dynamic type.
//
// Finding it by trying each dispatcher's type assertion in turn costs an
// indirect call per registered type (about 5 ns each), and a map keyed by
// reflect.Type costs about 20 ns, as hashing and comparing reflect.Type
// values goes through the runtime. Instead, the table keys each
// dispatcher by the type word of its type: the first of the two words of an
// empty interface (any) value, which points to the runtime's descriptor of
// the value's dynamic type, the one reflect.TypeOf wraps (reflect.Type
// equality relies on there being one per type). Reading it is a load,
// comparing it one instruction, so finding the dispatcher is a short scan
// of a slice of pointers: BenchmarkDSLDispatch measures the whole dispatch
// at a few ns per event.
//
// Correctness does not depend on the key: a dispatcher found by key still
// checks the type with an ordinary type assertion, and a value whose key is
// not in the table is tried against every dispatcher (the slow path). If
// the runtime ever had two type words for one type, the slow path would
// find the dispatcher, and the table would learn the second key.
type table[V any] struct {
	// keys[i] is a type word of the values dispatchers[index[i]] handles.
	keys  []unsafe.Pointer
	index []int
	// dispatchers in the order their types were first registered.
	dispatchers []dispatcher[V]
}

// maxLearnedKeys bounds the keys the slow path may add, so that no input
// can grow the table. It is far above what any runtime produces (one key
// per type).
const maxLearnedKeys = 64

// add appends a dispatcher for the values whose type word is key.
func (t *table[V]) add(key unsafe.Pointer, d dispatcher[V]) {
	t.keys = append(t.keys, key)
	t.index = append(t.index, len(t.dispatchers))
	t.dispatchers = append(t.dispatchers, d)
}

// dispatch hands v, whose type word is key, to the dispatcher of its type,
// and reports whether there is one.
func (t *table[V]) dispatch(m *Module, key unsafe.Pointer, v V) (bool, error) {
	for i, k := range t.keys {
		if k == key {
			if handled, err := t.dispatchers[t.index[i]].dispatch(m, v); handled {
				return true, err
			}
			break
		}
	}
	return t.slowDispatch(m, key, v)
}

// slowDispatch tries every dispatcher and remembers key for the one that
// takes v.
func (t *table[V]) slowDispatch(m *Module, key unsafe.Pointer, v V) (bool, error) {
	for i, d := range t.dispatchers {
		if handled, err := d.dispatch(m, v); handled {
			if key != nil && len(t.keys) < len(t.dispatchers)+maxLearnedKeys {
				t.keys = append(t.keys, key)
				t.index = append(t.index, i)
			}
			return true, err
		}
	}
	return false, nil
}

// typeKey returns the type word of v: a pointer to the descriptor of v's
// dynamic type, nil for a nil interface. Only the table compares it; it is
// never dereferenced.
func typeKey(v any) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[0]
}
