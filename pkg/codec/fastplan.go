package codec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// The fast encoder (fastenc.go) writes what the CBOR library writes, but
// from a program compiled once per registered type instead of from
// reflection on every call. This file is the compiler: it reads a type with
// reflect and produces an encNode tree, or refuses the type, which is then
// always encoded by the library. It refuses whatever it does not mirror
// exactly, so the two paths never differ in output or in errors; the
// differential tests (fast_test.go) compare them on every registered type.

// encOp is what an encNode encodes.
type encOp uint8

const (
	opBool encOp = iota + 1
	opInt8
	opInt16
	opInt32
	opInt64
	opUint8
	opUint16
	opUint32
	opUint64
	opFloat32
	opFloat64
	opString
	opBytes     // A slice of a uint8 kind: a byte string.
	opByteArray // An array of a uint8 kind: a byte string too.
	opSlice
	opArray
	opPointer
	opStruct
	opIface // A non-empty interface, such as stdtypes.Event: holds a *T.
	opAny   // An empty interface: holds a T.
)

// encNode encodes the values of one Go type. Nodes of recursive types
// point back to themselves; nodes are immutable once compiled.
type encNode struct {
	op encOp
	// tag is the head of the type's tag if the type is registered, written
	// before the value (after the null of a nil slice, which has none);
	// empty otherwise.
	tag snippet
	// elem is the element's node (opSlice, opArray, opPointer) and
	// elemSize its size in memory (opSlice, opArray).
	elem     *encNode
	elemSize uintptr
	// length is the length of an array (opArray, opByteArray).
	length int
	// inList marks an interface (opIface, opAny) that is the element of a
	// slice or array, where the interface rule refuses nil.
	inList bool
	// fields are a struct's encoded fields in the order they are written:
	// by their encoded key, bytewise (SortCoreDeterministic), or in
	// declaration order for a toarray struct.
	fields    []encField
	omitCount int  // How many fields have omitempty.
	toArray   bool // The struct is written as an array (`cbor:",toarray"`).
}

// encField is one encoded struct field.
type encField struct {
	key    snippet // The encoded key: a text string or, with keyasint, an integer.
	offset uintptr
	node   *encNode
	// omit says how to tell that an omitempty field is empty, and
	// omitOffset where, from the field, the word to test lies.
	omit       omitTest
	omitOffset uintptr
}

// snippet is a short byte string the encoder copies often, a field's key
// or a type's tag. Up to 16 bytes, it is kept padded to 16, so copying it
// takes two moves instead of a call to memmove.
type snippet struct {
	padded [16]byte
	len    int
	long   []byte // The bytes, if longer than 16.
}

// newSnippet returns the snippet of b.
func newSnippet(b []byte) snippet {
	s := snippet{len: len(b)}
	if copy(s.padded[:], b) < len(b) {
		s.long = b
	}
	return s
}

// bytes returns the bytes of s.
func (s *snippet) bytes() []byte {
	if s.long != nil {
		return s.long
	}
	return s.padded[:s.len]
}

// appendTo appends s to b. It may write up to 16 bytes past the new length
// of b, within its capacity.
func (s *snippet) appendTo(b []byte) []byte {
	l := len(b)
	if s.long != nil || cap(b)-l < len(s.padded) {
		return s.appendSlow(b)
	}
	*(*[16]byte)(b[l : l+len(s.padded)]) = s.padded
	return b[:l+s.len]
}

// appendSlow is appendTo for a long snippet or when b needs to grow.
func (s *snippet) appendSlow(b []byte) []byte {
	if s.long != nil {
		return append(b, s.long...)
	}
	return s.appendTo(slices.Grow(b, len(s.padded)))
}

// omitTest is how the fast encoder tells whether a field is left out.
type omitTest uint8

const (
	omitNever  omitTest = iota // No omitempty.
	omitAlways                 // omitempty on an array of length 0.
	omitZero1                  // Empty if the byte at omitOffset is 0 (bool, 8-bit integers).
	omitZero2                  // The same for 2 bytes (16-bit integers).
	omitZero4                  // 4 bytes.
	omitZero8                  // 8 bytes: 64-bit integers, string and slice lengths, pointers, interfaces.
	omitCall                   // Ask isEmpty: floats (-0 is empty) and structs.
)

// omitTestOf returns how to tell that a value of node n is empty.
func omitTestOf(n *encNode) (omitTest, uintptr) {
	const word = unsafe.Sizeof(uintptr(0))
	wordZero := omitZero8
	if word == 4 {
		wordZero = omitZero4
	}
	switch n.op {
	case opBool, opInt8, opUint8:
		return omitZero1, 0
	case opInt16, opUint16:
		return omitZero2, 0
	case opInt32, opUint32:
		return omitZero4, 0
	case opInt64, opUint64:
		return omitZero8, 0
	case opString, opBytes, opSlice:
		return wordZero, word // The length, after the data pointer.
	case opPointer, opIface, opAny:
		return wordZero, 0 // The pointer, or the interface's type word.
	case opByteArray, opArray:
		if n.length == 0 {
			return omitAlways, 0
		}
		return omitNever, 0
	}
	return omitCall, 0
}

var (
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	timeType          = reflect.TypeFor[time.Time]()
	bigIntType        = reflect.TypeFor[big.Int]()
	cborPkgPath       = cborMarshalerType.PkgPath()
)

// compile returns the node of t, a registered type, for the registry r, or
// nil if the fast encoder does not support t (or a type it holds directly).
// Types reached only through interfaces are compiled when first met.
func compile(r *registry, t reflect.Type) *encNode {
	c := compiler{r: r, memo: map[reflect.Type]*encNode{}}
	n, ok := c.node(t, false)
	if !ok {
		return nil
	}
	return n
}

// compiler compiles one registered type and the types it holds directly.
type compiler struct {
	r *registry
	// memo holds the nodes compiled so far, including those still being
	// filled in, so that recursive types compile to cyclic trees.
	memo map[reflect.Type]*encNode
}

// node returns the node of t; inList tells whether t is the element type
// of a slice or array. It fails on a type the fast encoder does not mirror.
func (c *compiler) node(t reflect.Type, inList bool) (*encNode, bool) {
	if t.Kind() == reflect.Interface {
		// Interface nodes are not memoized: they differ by inList, and
		// they cannot be recursive by themselves.
		op := opIface
		if t.NumMethod() == 0 {
			op = opAny
		}
		return &encNode{op: op, inList: inList}, true
	}
	if n, ok := c.memo[t]; ok {
		return n, true
	}
	if !plainEncoding(t) {
		return nil, false
	}
	n := &encNode{}
	c.memo[t] = n
	if e, ok := c.r.byType[t]; ok {
		n.tag = newSnippet(appendHead(nil, majorTag, e.tag))
	}
	ok := true
	switch t.Kind() {
	case reflect.Bool:
		n.op = opBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n.op, ok = sizedOp(t.Size(), opInt8, opInt16, opInt32, opInt64)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n.op, ok = sizedOp(t.Size(), opUint8, opUint16, opUint32, opUint64)
	case reflect.Float32:
		n.op = opFloat32
	case reflect.Float64:
		n.op = opFloat64
	case reflect.String:
		n.op = opString
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			n.op = opBytes
			break
		}
		n.op, n.elemSize = opSlice, t.Elem().Size()
		n.elem, ok = c.node(t.Elem(), true)
	case reflect.Array:
		n.length = t.Len()
		if t.Elem().Kind() == reflect.Uint8 {
			n.op = opByteArray
			break
		}
		n.op, n.elemSize = opArray, t.Elem().Size()
		n.elem, ok = c.node(t.Elem(), true)
	case reflect.Pointer:
		// The library follows pointers to pointers down to the value and
		// writes null for a nil at any level; a chain of opPointer nodes
		// does the same.
		n.op = opPointer
		n.elem, ok = c.node(t.Elem(), false)
	case reflect.Struct:
		ok = c.structNode(n, t)
	default:
		// Maps (their keys are sorted by encoding), uintptr, complex
		// numbers, channels, functions, unsafe pointers.
		ok = false
	}
	return n, ok
}

// sizedOp picks the op for an integer of size bytes.
func sizedOp(size uintptr, op8, op16, op32, op64 encOp) (encOp, bool) {
	switch size {
	case 1:
		return op8, true
	case 2:
		return op16, true
	case 4:
		return op32, true
	case 8:
		return op64, true
	}
	return 0, false
}

// plainEncoding reports whether the library encodes t by its kind alone:
// not a type it treats specially (time.Time, big.Int, its own types) nor
// one with a marshaling method, which it calls (or whose emptiness it
// judges differently).
func plainEncoding(t reflect.Type) bool {
	if t == timeType || t == bigIntType || t.PkgPath() == cborPkgPath || customEncoding(t) {
		return false
	}
	p := reflect.PointerTo(t)
	return !p.Implements(textMarshalerType) && !p.Implements(jsonMarshalerType)
}

// structNode fills in n, the node of the struct type t.
func (c *compiler) structNode(n *encNode, t reflect.Type) bool {
	n.op = opStruct
	flds, options, ok := collectFields(t)
	if !ok {
		return false
	}
	if hasStructOption(options, "toindefarray") {
		return false // Refused by the library under IndefLengthForbidden.
	}
	n.toArray = hasStructOption(options, "toarray")
	for _, f := range flds {
		if f.omitZero {
			return false
		}
		ef := encField{offset: f.offset}
		var key []byte
		if f.keyAsInt {
			i, err := strconv.Atoi(f.name)
			if err != nil {
				return false // The library fails on it.
			}
			key = appendInt(nil, int64(i))
		} else {
			key = appendHead(nil, majorText, uint64(len(f.name)))
			key = append(key, f.name...)
		}
		ef.key = newSnippet(key)
		if ef.node, ok = c.node(f.typ, false); !ok {
			return false
		}
		if f.omitEmpty && !n.toArray {
			ef.omit, ef.omitOffset = omitTestOf(ef.node)
			n.omitCount++
		}
		n.fields = append(n.fields, ef)
	}
	if !n.toArray {
		slices.SortFunc(n.fields, func(a, b encField) int { return bytes.Compare(a.key.bytes(), b.key.bytes()) })
	}
	return true
}

// hasStructOption reports whether the options of a struct's "_" field
// (such as ",toarray") include opt, as the library reads them.
func hasStructOption(options, opt string) bool {
	s := "," + opt
	i := strings.Index(options, s)
	return i >= 0 && (len(options) == i+len(s) || options[i+len(s)] == ',')
}

// fieldInfo is a struct field the library encodes.
type fieldInfo struct {
	name      string
	typ       reflect.Type
	offset    uintptr // From the start of the outermost struct.
	index     []int   // As in reflect.Type.FieldByIndex: the order of a toarray struct.
	keyAsInt  bool
	omitEmpty bool
	omitZero  bool
}

// collectFields returns the fields of struct type t the library encodes
// and the options of t's "_" field, following the library's rules
// (collectFields in its structfields.go): exported fields, and the fields
// of embedded structs, breadth first, named by their tag or Go name.
//
// It fails where the library would hide or choose among fields: two fields
// with the same name (the library keeps the shallower or tagged one, while
// check visits both), an embedded struct type met twice, and structs
// embedded by pointer (the library skips their fields when the pointer is
// nil). It fails too where check and the library disagree on whether a
// field is encoded.
func collectFields(t reflect.Type) (flds []fieldInfo, options string, ok bool) {
	if f, found := t.FieldByName("_"); found {
		if tag := f.Tag.Get("cbor"); tag != "-" {
			options = tag
		}
	}
	type embedded struct {
		typ    reflect.Type
		offset uintptr
		index  []int
	}
	level := []embedded{{t, 0, nil}}
	seen := map[reflect.Type]bool{t: true}
	for len(level) > 0 {
		var next []embedded
		for _, s := range level {
			for i := range s.typ.NumField() {
				f := s.typ.Field(i)
				ft := f.Type
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !f.IsExported() && !(f.Anonymous && ft.Kind() == reflect.Struct) {
					continue
				}
				tag := f.Tag.Get("cbor")
				if tag == "" {
					if _, present := f.Tag.Lookup("cbor"); present && f.Tag.Get("json") != "" {
						return nil, "", false // check reads `cbor:""`, the library the json tag.
					}
					tag = f.Tag.Get("json")
				}
				if tag == "-" {
					continue
				}
				fi := parseFieldTag(tag)
				if !f.Anonymous || ft.Kind() != reflect.Struct || fi.name != "" {
					if fi.name == "" {
						fi.name = f.Name
					}
					fi.typ, fi.offset, fi.index = f.Type, s.offset+f.Offset, append(slices.Clip(s.index), i)
					flds = append(flds, fi)
					continue
				}
				if f.Type.Kind() == reflect.Pointer || seen[ft] {
					return nil, "", false
				}
				seen[ft] = true
				next = append(next, embedded{ft, s.offset + f.Offset, append(slices.Clip(s.index), i)})
			}
		}
		level = next
	}
	// The library normalizes keyasint names ("01" is 1) before it looks
	// for duplicates.
	for i := range flds {
		if n, err := strconv.Atoi(flds[i].name); err == nil && flds[i].keyAsInt {
			flds[i].name = strconv.Itoa(n)
		}
	}
	slices.SortFunc(flds, func(a, b fieldInfo) int { return slices.Compare(a.index, b.index) })
	type key struct {
		name     string
		keyAsInt bool
	}
	names := make(map[key]bool, len(flds))
	for _, f := range flds {
		k := key{f.name, f.keyAsInt}
		if names[k] {
			return nil, "", false
		}
		names[k] = true
	}
	return flds, options, true
}

// parseFieldTag reads a field's tag: its name and options.
func parseFieldTag(tag string) fieldInfo {
	name, opts, _ := strings.Cut(tag, ",")
	fi := fieldInfo{name: name}
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		switch opt {
		case "omitempty":
			fi.omitEmpty = true
		case "omitzero":
			fi.omitZero = true
		case "keyasint":
			fi.keyAsInt = true
		}
	}
	return fi
}

// eface is the memory layout of an empty interface (`any`): the dynamic
// type and a word that is the value itself if the type is pointer-shaped
// ("direct") and a pointer to the value otherwise. The fast encoder reads
// interfaces through it; TestFastTypeWords checks the assumptions.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// typeWord returns the dynamic-type word of v: a key that identifies v's
// type exactly, cheaper to look up than a reflect.Type.
func typeWord(v any) unsafe.Pointer {
	return (*eface)(unsafe.Pointer(&v)).typ
}

// typeWords returns the type words of t and *t, and whether t is
// pointer-shaped, so that an `any` holding a t holds it in the data word.
// A zero value of a pointer-shaped type has a nil data word; any other has
// a pointer to the zero value.
func typeWords(t reflect.Type) (val, ptr unsafe.Pointer, direct bool) {
	z := reflect.Zero(t).Interface()
	w := (*eface)(unsafe.Pointer(&z))
	return w.typ, typeWord(reflect.Zero(reflect.PointerTo(t)).Interface()), w.data == nil
}
