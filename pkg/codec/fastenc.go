package codec

import (
	"encoding/binary"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The fast encoder writes exactly the bytes the CBOR library writes for a
// registered event or message, about five times faster, because an event
// recorder encodes every event a node dispatches. For each registered type
// it runs a program (an encNode tree, see fastplan.go) compiled on first
// use, reading the value's memory directly with unsafe pointer arithmetic
// at offsets and sizes taken from reflect at compile time, and it applies
// the interface rule (check.go) as it goes.
//
// It handles only what it is sure to mirror: anything else, a type at
// compile time (a map, a time.Time, a marshaling method) or a value at run
// time (anything the interface rule refuses, a value nested deeper than
// maxFastDepth), makes the Encode and Append functions use the library and
// check.go instead, which then give the same bytes or the same error as
// before the fast encoder existed. Recorded logs and signatures compare
// encodings byte for byte, so the two paths must never differ: the
// differential tests in fast_test.go and FuzzFastEncode compare them.
//
// The unsafe code is confined to this file and fastplan.go. It relies on
// the memory layouts of strings, slices and interfaces, which the Go
// specification does not fix but which unsafe.String, unsafe.Slice and the
// runtime have kept since Go 1; TestFastTypeWords checks the interface
// layout.

// maxFastDepth bounds how many pointers, slices and interfaces the fast
// encoder follows from the top. Deeper values (cyclic ones, or lists nested
// hundreds deep, which no decoder with sane limits accepts) are left to the
// library, so the fast encoder never recurses without end.
const maxFastDepth = 512

// fastIndex finds the compiled program of a registered type from the type
// word of an interface holding it. It belongs to one registry snapshot: a
// type's encoding depends on which types are registered (they get tags).
type fastIndex struct {
	byPtr typeTable // By the type word of *T.
	byVal typeTable // By the type word of T.
}

// typeTable maps type words to entries: an open-addressing hash table,
// built once per snapshot and read without locks. A Go map costs about
// three times as much per lookup, and an event with a message needs two.
type typeTable struct {
	keys  []unsafe.Pointer // nil marks an empty slot.
	vals  []*fastEntry
	shift uint // 64 - log2(len(keys)).
}

// newTypeTable returns a table with room for n entries at most half full,
// so probe sequences stay short.
func newTypeTable(n int) typeTable {
	size, shift := 8, uint(64-3)
	for size < 2*n {
		size, shift = size*2, shift-1
	}
	return typeTable{keys: make([]unsafe.Pointer, size), vals: make([]*fastEntry, size), shift: shift}
}

// slot returns the first slot to probe for k (Fibonacci hashing: type
// words are aligned pointers, so their low bits carry no information).
func (t *typeTable) slot(k unsafe.Pointer) uint64 {
	return (uint64(uintptr(k)) * 0x9e3779b97f4a7c15) >> t.shift
}

// put adds k; k is not in the table yet.
func (t *typeTable) put(k unsafe.Pointer, v *fastEntry) {
	mask := uint64(len(t.keys) - 1)
	i := t.slot(k)
	for t.keys[i] != nil {
		i = (i + 1) & mask
	}
	t.keys[i], t.vals[i] = k, v
}

// get returns the entry of k, or nil.
func (t *typeTable) get(k unsafe.Pointer) *fastEntry {
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return t.vals[i]
		case nil:
			return nil
		}
	}
}

// fastEntry is the program of one registered type, compiled on first use.
type fastEntry struct {
	r      *registry
	e      *entry
	direct bool // T is pointer-shaped: an `any` holds it in its data word.
	once   sync.Once
	prog   *encNode // Set by once; nil if the type is not supported.
}

// newFastIndex indexes the entries of r.
func newFastIndex(r *registry, entries []*entry) fastIndex {
	x := fastIndex{byPtr: newTypeTable(len(entries)), byVal: newTypeTable(len(entries))}
	for _, e := range entries {
		val, ptr, direct := typeWords(e.typ)
		fe := &fastEntry{r: r, e: e, direct: direct}
		x.byPtr.put(ptr, fe)
		x.byVal.put(val, fe)
	}
	return x
}

// node returns the program of fe's type, compiling it the first time; nil
// if the type is not supported.
func (fe *fastEntry) node() *encNode {
	fe.once.Do(fe.compile)
	return fe.prog
}

// compile compiles the program of fe's type; node calls it once.
func (fe *fastEntry) compile() { fe.prog = compile(fe.r, fe.e.typ) }

// appendFast appends the encoding of v, given to an Encode or Append
// function, to dst. It reports false, leaving the work to the library and
// check.go, when it cannot do it: v is not a non-nil pointer to a
// registered type whose program compiles, or v holds something the
// interface rule refuses or that is nested too deep. Then the returned
// slice holds garbage.
//
// A panic, which would be a bug here, also leaves the work to the library,
// which recovers its own panics as errors: encoding never panics.
func appendFast(r *registry, dst []byte, v any) (out []byte, ok bool) {
	defer recoverFast(&ok)
	w := *(*eface)(unsafe.Pointer(&v))
	if w.data == nil {
		return dst, false
	}
	fe := r.fast.byPtr.get(w.typ)
	if fe == nil {
		return dst, false
	}
	n := fe.node()
	if n == nil {
		return dst, false
	}
	e := fastEncoder{r: r}
	if n.op == opStruct { // Always, for a registered type; saves a call.
		return e.structValue(dst, n, w.data)
	}
	return e.value(dst, n, w.data)
}

// fastPanics counts the panics recoverFast recovered: the tests require
// none, since each is a bug that only costs speed in production.
var fastPanics atomic.Int64

// recoverFast, deferred, makes a panic report false to appendFast's
// caller.
func recoverFast(ok *bool) {
	if recover() != nil {
		fastPanics.Add(1)
		*ok = false
	}
}

// fastEncoder is the state of one encoding.
type fastEncoder struct {
	r     *registry
	depth int // Pointers, slices and interfaces followed; see maxFastDepth.
}

// value appends the encoding of the value at p, whose node is n.
func (e *fastEncoder) value(b []byte, n *encNode, p unsafe.Pointer) ([]byte, bool) {
	switch n.op {
	case opBool:
		b = appendTag(b, n)
		if *(*bool)(p) {
			return append(b, 0xf5), true
		}
		return append(b, 0xf4), true
	case opInt8:
		return appendInt(appendTag(b, n), int64(*(*int8)(p))), true
	case opInt16:
		return appendInt(appendTag(b, n), int64(*(*int16)(p))), true
	case opInt32:
		return appendInt(appendTag(b, n), int64(*(*int32)(p))), true
	case opInt64:
		return appendInt(appendTag(b, n), *(*int64)(p)), true
	case opUint8:
		return appendHead(appendTag(b, n), majorUint, uint64(*(*uint8)(p))), true
	case opUint16:
		return appendHead(appendTag(b, n), majorUint, uint64(*(*uint16)(p))), true
	case opUint32:
		return appendHead(appendTag(b, n), majorUint, uint64(*(*uint32)(p))), true
	case opUint64:
		return appendHead(appendTag(b, n), majorUint, *(*uint64)(p)), true
	case opFloat32:
		return appendFloat32(appendTag(b, n), *(*float32)(p)), true
	case opFloat64:
		return appendFloat64(appendTag(b, n), *(*float64)(p)), true
	case opString:
		s := *(*string)(p)
		b = appendHead(appendTag(b, n), majorText, uint64(len(s)))
		return append(b, s...), true
	case opBytes:
		s := *(*[]byte)(p)
		if s == nil {
			return append(b, cborNull), true
		}
		b = appendHead(appendTag(b, n), majorBytes, uint64(len(s)))
		return append(b, s...), true
	case opByteArray:
		b = appendHead(appendTag(b, n), majorBytes, uint64(n.length))
		return append(b, unsafe.Slice((*byte)(p), n.length)...), true
	case opSlice:
		return e.slice(b, n, p)
	case opArray:
		return e.elems(appendTag(b, n), n, p, n.length)
	case opPointer:
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			return append(b, cborNull), true
		}
		if e.depth++; e.depth > maxFastDepth {
			return b, false
		}
		b, ok := e.value(b, n.elem, q)
		e.depth--
		return b, ok
	case opStruct:
		return e.structValue(b, n, p)
	case opIface:
		return e.iface(b, n, p)
	case opAny:
		return e.anyValue(b, n, p)
	}
	return b, false // Unreachable: every op is handled above.
}

// appendTag appends the tag of n's type, if it is registered. Most types
// are not: testing first saves a call to copy nothing.
func appendTag(b []byte, n *encNode) []byte {
	if n.tag.len == 0 {
		return b
	}
	return n.tag.appendTo(b)
}

// sliceHeader is the memory layout of a slice.
type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}

// slice appends a slice of a type other than bytes: null if nil, as the
// library does under NilContainerAsNull.
func (e *fastEncoder) slice(b []byte, n *encNode, p unsafe.Pointer) ([]byte, bool) {
	h := (*sliceHeader)(p)
	if h.data == nil {
		return append(b, cborNull), true
	}
	if e.depth++; e.depth > maxFastDepth {
		return b, false
	}
	b, ok := e.elems(appendTag(b, n), n, h.data, h.len)
	e.depth--
	return b, ok
}

// elems appends an array head and the count elements at p of the slice or
// array whose node is n.
func (e *fastEncoder) elems(b []byte, n *encNode, p unsafe.Pointer, count int) ([]byte, bool) {
	b = appendHead(b, majorArray, uint64(count))
	if n.elem.op == opString && n.elem.tag.len == 0 { // Such as a list of node IDs.
		for i := range count {
			s := *(*string)(unsafe.Add(p, uintptr(i)*n.elemSize))
			b = appendHead(b, majorText, uint64(len(s)))
			b = append(b, s...)
		}
		return b, true
	}
	for i := range count {
		var ok bool
		if b, ok = e.value(b, n.elem, unsafe.Add(p, uintptr(i)*n.elemSize)); !ok {
			return b, false
		}
	}
	return b, true
}

// structValue appends a struct: a map from keys to fields, leaving out the
// empty omitempty fields, or an array of the fields for a toarray struct.
func (e *fastEncoder) structValue(b []byte, n *encNode, p unsafe.Pointer) ([]byte, bool) {
	b = appendTag(b, n)
	if n.toArray {
		return e.structArray(b, n, p)
	}
	// The head counts every field; it is corrected below if some are left
	// out, as the library does.
	head := len(b)
	b = appendHead(b, majorMap, uint64(len(n.fields)))
	count := 0
	for i := range n.fields {
		f := &n.fields[i]
		fp := unsafe.Add(p, f.offset)
		switch f.omit {
		case omitNever:
		case omitZero8: // Strings, slices, interfaces: tested here, saving a call.
			if *(*uint64)(unsafe.Add(fp, f.omitOffset)) == 0 {
				continue
			}
		default:
			if f.empty(fp) {
				continue
			}
		}
		count++
		// The key, and below the commonest kinds of values, are written
		// here: a call costs more than the writing, as every register is
		// saved around it.
		if l := len(b); f.key.long == nil && cap(b)-l >= len(f.key.padded) {
			*(*[16]byte)(b[l : l+len(f.key.padded)]) = f.key.padded
			b = b[:l+f.key.len]
		} else {
			b = f.key.appendSlow(b)
		}
		if f.node.tag.len == 0 {
			switch f.node.op {
			case opString:
				s := *(*string)(fp)
				b = appendHead(b, majorText, uint64(len(s)))
				b = append(b, s...)
				continue
			case opInt64:
				v := *(*int64)(fp)
				sign := uint64(v >> 63) // See appendInt.
				if u := uint64(v) ^ sign; u < 24 {
					b = append(b, byte(sign&majorNegInt)<<5|byte(u))
				} else {
					b = appendLongHead(b, byte(sign&majorNegInt), u)
				}
				continue
			case opUint64:
				b = appendHead(b, majorUint, *(*uint64)(fp))
				continue
			case opBytes:
				if s := *(*[]byte)(fp); s == nil {
					b = append(b, cborNull)
				} else {
					b = appendHead(b, majorBytes, uint64(len(s)))
					b = append(b, s...)
				}
				continue
			}
		}
		var ok bool
		if b, ok = e.value(b, f.node, fp); !ok {
			return b, false
		}
	}
	if count != len(n.fields) {
		b = fixHead(b, head, majorMap, uint64(len(n.fields)), uint64(count))
	}
	return b, true
}

// fixHead rewrites the head at b[at:], written with argument was, with
// argument is, moving what follows if the head's size changes.
func fixHead(b []byte, at int, major byte, was, is uint64) []byte {
	if was < 24 { // The usual case: a one-byte head stays one byte.
		b[at] = major<<5 | byte(is)
		return b
	}
	wasLen := headLen(was)
	fixed := appendHead(b[at:at:at+wasLen], major, is)
	if shift := wasLen - len(fixed); shift > 0 {
		copy(b[at+len(fixed):], b[at+wasLen:])
		b = b[:len(b)-shift]
	}
	return b
}

// structArray appends the fields of a toarray struct as an array.
func (e *fastEncoder) structArray(b []byte, n *encNode, p unsafe.Pointer) ([]byte, bool) {
	b = appendHead(b, majorArray, uint64(len(n.fields)))
	for i := range n.fields {
		f := &n.fields[i]
		var ok bool
		if b, ok = e.value(b, f.node, unsafe.Add(p, f.offset)); !ok {
			return b, false
		}
	}
	return b, true
}

// empty tells whether the omitempty field f, at fp, is left out.
func (f *encField) empty(fp unsafe.Pointer) bool {
	q := unsafe.Add(fp, f.omitOffset)
	switch f.omit {
	case omitZero8:
		return *(*uint64)(q) == 0
	case omitZero1:
		return *(*uint8)(q) == 0
	case omitZero2:
		return *(*uint16)(q) == 0
	case omitZero4:
		return *(*uint32)(q) == 0
	case omitAlways:
		return true
	}
	return isEmpty(f.node, fp)
}

// isEmpty tells whether the library leaves out the value at p, whose node
// is n, from a field tagged omitempty (under OmitEmptyCBORValue).
func isEmpty(n *encNode, p unsafe.Pointer) bool {
	switch n.op {
	case opBool:
		return !*(*bool)(p)
	case opInt8, opUint8:
		return *(*uint8)(p) == 0
	case opInt16, opUint16:
		return *(*uint16)(p) == 0
	case opInt32, opUint32:
		return *(*uint32)(p) == 0
	case opInt64, opUint64:
		return *(*uint64)(p) == 0
	case opFloat32:
		return *(*float32)(p) == 0 // True for -0 too, false for NaN.
	case opFloat64:
		return *(*float64)(p) == 0
	case opString:
		return len(*(*string)(p)) == 0
	case opBytes, opSlice:
		return (*sliceHeader)(p).len == 0
	case opByteArray, opArray:
		return n.length == 0
	case opPointer, opIface, opAny:
		// A nil interface has a nil first word, whatever its kind.
		return *(*unsafe.Pointer)(p) == nil
	case opStruct:
		// A struct is empty if it has only omitempty fields and all are
		// empty (or, written as an array, has no fields).
		if n.toArray || len(n.fields) > n.omitCount {
			return len(n.fields) == 0
		}
		for i := range n.fields {
			if f := &n.fields[i]; !isEmpty(f.node, unsafe.Add(p, f.offset)) {
				return false
			}
		}
		return true
	}
	return false
}

// nonEmptyIface stands for every non-empty interface type: they all have
// the same memory layout (a method table holding the dynamic type, and the
// data word), so converting any of them to `any` through this type yields
// the interface's dynamic type and value. Nothing implements it.
type nonEmptyIface interface{ fastEncoderOnly() }

// iface appends the value of a non-empty interface (a stdtypes.Event or
// stdtypes.Message field): null, or what it points to, which must be of a
// registered type. Everything else the interface rule refuses is left to
// check.go, for its error.
func (e *fastEncoder) iface(b []byte, n *encNode, p unsafe.Pointer) ([]byte, bool) {
	v := any(*(*nonEmptyIface)(p))
	w := *(*eface)(unsafe.Pointer(&v))
	if w.typ == nil {
		if n.inList {
			return b, false // ErrNil: a nil follow-up event.
		}
		return append(b, cborNull), true
	}
	fe := e.r.fast.byPtr.get(w.typ)
	if fe == nil || w.data == nil {
		return b, false // ErrUnknownType, ErrWrongKind or ErrNil.
	}
	return e.dynamic(b, fe, w.data)
}

// anyValue appends the value of an `any`: null, or a value (not a pointer)
// of a registered type.
func (e *fastEncoder) anyValue(b []byte, n *encNode, p unsafe.Pointer) ([]byte, bool) {
	w := *(*eface)(p)
	if w.typ == nil {
		if n.inList {
			return b, false
		}
		return append(b, cborNull), true
	}
	fe := e.r.fast.byVal.get(w.typ)
	if fe == nil {
		return b, false
	}
	if fe.direct {
		word := w.data // The value itself; the encoder wants its address.
		return e.dynamic(b, fe, unsafe.Pointer(&word))
	}
	return e.dynamic(b, fe, w.data)
}

// dynamic appends the value at p of the registered type of fe, met in an
// interface.
func (e *fastEncoder) dynamic(b []byte, fe *fastEntry, p unsafe.Pointer) ([]byte, bool) {
	n := fe.node()
	if n == nil {
		return b, false
	}
	if e.depth++; e.depth > maxFastDepth {
		return b, false
	}
	b, ok := e.value(b, n, p)
	e.depth--
	return b, ok
}

// cborNull is the encoding of nil pointers, slices and interfaces.
const cborNull = 0xf6

// appendHead appends a data item's head: its major type and argument, in
// the fewest bytes, as deterministic encoding requires.
func appendHead(b []byte, major byte, arg uint64) []byte {
	if arg < 24 { // Inlined: small numbers, lengths and counts are the most common.
		return append(b, major<<5|byte(arg))
	}
	return appendLongHead(b, major, arg)
}

// appendLongHead is appendHead for an argument of 24 or more.
func appendLongHead(b []byte, major byte, arg uint64) []byte {
	m := major << 5
	switch {
	case arg <= math.MaxUint8:
		return append(b, m|24, byte(arg))
	case arg <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(arg))
	case arg <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(arg))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), arg)
}

// headLen returns the size of a head with argument arg.
func headLen(arg uint64) int {
	switch {
	case arg < 24:
		return 1
	case arg <= math.MaxUint8:
		return 2
	case arg <= math.MaxUint16:
		return 3
	case arg <= math.MaxUint32:
		return 5
	}
	return 9
}

// appendInt appends a signed integer: n >= 0 as an unsigned integer, n < 0
// as a negative one with argument -1-n, which is ^n.
func appendInt(b []byte, n int64) []byte {
	sign := uint64(n >> 63) // All ones if n < 0, else 0.
	return appendHead(b, byte(sign&majorNegInt), uint64(n)^sign)
}

// Floats are written at their own width (ShortestFloatNone), except NaN
// and the infinities, which the library writes as 16-bit floats
// (NaNConvert7e00, InfConvertFloat16).
var (
	cborNaN    = []byte{0xf9, 0x7e, 0x00}
	cborPosInf = []byte{0xf9, 0x7c, 0x00}
	cborNegInf = []byte{0xf9, 0xfc, 0x00}
)

// appendFloat32 appends a float32.
func appendFloat32(b []byte, f float32) []byte {
	switch {
	case f != f:
		return append(b, cborNaN...)
	case f > math.MaxFloat32:
		return append(b, cborPosInf...)
	case f < -math.MaxFloat32:
		return append(b, cborNegInf...)
	}
	return binary.BigEndian.AppendUint32(append(b, majorSimple<<5|26), math.Float32bits(f))
}

// appendFloat64 appends a float64.
func appendFloat64(b []byte, f float64) []byte {
	switch {
	case f != f:
		return append(b, cborNaN...)
	case math.IsInf(f, 1):
		return append(b, cborPosInf...)
	case math.IsInf(f, -1):
		return append(b, cborNegInf...)
	}
	return binary.BigEndian.AppendUint64(append(b, majorSimple<<5|27), math.Float64bits(f))
}

// fastBufs holds scratch buffers for EncodeEvent and EncodeMessage, which
// encode into one and return an exact-size copy, as the library does.
var fastBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBuf is the largest scratch buffer kept for reuse: rare huge
// events should not pin their memory in the pool.
const maxPooledBuf = 64 << 10

// encodeFast returns the encoding of v in a new slice; see appendFast.
func encodeFast(r *registry, v any) ([]byte, bool) {
	bp := fastBufs.Get().(*[]byte)
	b, ok := appendFast(r, (*bp)[:0], v)
	var out []byte
	if ok {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= maxPooledBuf {
		*bp = b[:0]
		fastBufs.Put(bp)
	}
	return out, ok
}
