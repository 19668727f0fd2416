package codec

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// Generic is a tagged value as DecodeGeneric decodes it: a value of a
// registered type (an event, a message, a value in an `any` field), whether
// or not this binary registers that type.
type Generic struct {
	// Name is the name the tag is registered under in this binary, or else
	// the name given to DecodeGeneric whose tag it is; empty if neither
	// names it (the tag number is all that an encoding holds of a name).
	Name string
	// Tag is the CBOR tag number, derived from the registered name (see
	// the package documentation).
	Tag uint64
	// Value is the tagged content as plain data: a struct is a
	// map[string]any from field names to values.
	Value any
}

// DecodeGeneric decodes data, an encoding of any value, as plain data,
// within DefaultLimits: for tools that show events and messages whose
// types are not registered in their binary (mircat), or that hold such a
// value in a field. names are type names the caller knows from elsewhere
// (an event log records each event's type name) for tags this binary has
// not registered; see Decoder.DecodeGeneric.
func DecodeGeneric(data []byte, names ...string) (any, error) {
	return defaultDecoder.DecodeGeneric(data, names...)
}

// DecodeGeneric decodes data as plain data, within the decoder's limits,
// whatever types its tags stand for. The result and everything it holds is
// one of: nil, bool, uint64, int64 (negative integers), float64, string,
// []byte, time.Time, *big.Int, []any, map[string]any, or *Generic for a
// tagged value (an event, a message, a value in an `any` field), with the
// name of its type if this binary registers it or if it is one of names.
//
// A struct decodes as a map from its field names. Map keys become strings,
// integers in decimal as encoding/json writes the keys of Go maps, byte
// strings in hex after "0x", keys of other kinds (a struct used as a key)
// in hex of their encoding after "cbor:"; a map whose keys collide so is
// refused (ErrDuplicateKey). A time.Time or big.Int is what the tags of
// times and bignums hold, when their content is what the encoder writes;
// any other tag gives a *Generic.
//
// Decoding is as hardened as the typed decoding (size, nesting, counts,
// duplicate keys, trailing data; errors wrap the same sentinels), but
// accepts tags of any number: it neither needs nor checks the types.
func (d *Decoder) DecodeGeneric(data []byte, names ...string) (any, error) {
	v, err := d.decodeGeneric(data, names)
	if err != nil {
		return nil, fmt.Errorf("codec: decode generic: %w", err)
	}
	return v, nil
}

func (d *Decoder) decodeGeneric(data []byte, names []string) (any, error) {
	// The scan checks what the walk below relies on: lengths and counts
	// within the input and the limits, no indefinite lengths, nothing
	// after the value.
	if err := d.check(data, nil); err != nil {
		return nil, err
	}
	w := genericWalk{data: data, r: load(), maxDepth: d.limits.MaxNestingDepth, extra: make(map[uint64]string, len(names))}
	for _, n := range names {
		w.extra[TagOf(n)] = n
	}
	return w.value(0)
}

// genericWalk decodes the plain data of DecodeGeneric. It does without
// the CBOR library, which refuses map keys that Go cannot hash (a struct
// used as a map key encodes as a map) and decodes into types of its own.
type genericWalk struct {
	data     []byte
	off      int
	r        *registry
	maxDepth int
	// extra are the names the caller gave, by tag.
	extra map[uint64]string
}

// CBOR simple values (major type 7) and the additional information of
// floats (RFC 8949, section 3.3).
const (
	simpleFalse     = 20
	simpleTrue      = 21
	simpleNull      = 22
	simpleUndefined = 23
	infoFloat16     = 25
	infoFloat32     = 26
	infoFloat64     = 27
)

// value decodes the data item at w.off, depth levels of arrays, maps and
// tags deep.
func (w *genericWalk) value(depth int) (any, error) {
	h, err := readHead(w.data[w.off:])
	if err != nil {
		return nil, err
	}
	info := w.data[w.off] & 0x1f
	w.off += h.size
	switch h.major {
	case majorUint:
		return h.arg, nil
	case majorNegInt:
		if h.arg > math.MaxInt64 {
			n := new(big.Int).SetUint64(h.arg)
			return n.Neg(n).Sub(n, big.NewInt(1)), nil
		}
		return -1 - int64(h.arg), nil
	case majorBytes:
		return bytes.Clone(w.next(h.arg)), nil
	case majorText:
		return string(w.next(h.arg)), nil
	case majorSimple:
		return simple(info, h.arg)
	}
	// Levels are counted as the CBOR library counts them, so that all the
	// typed decoding accepts decodes here too: an array or a map is one, a
	// tag only if it holds another tag.
	inner := depth + 1
	if h.major == majorTag && (w.off >= len(w.data) || w.data[w.off]>>5 != majorTag) {
		inner = depth
	}
	if inner > w.maxDepth {
		return nil, fmt.Errorf("%w: more than %d levels", ErrTooDeep, w.maxDepth)
	}
	switch h.major {
	case majorArray:
		// scan checked the counts against the limits and the input.
		a := make([]any, h.arg)
		for i := range a {
			if a[i], err = w.value(inner); err != nil {
				return nil, err
			}
		}
		return a, nil
	case majorMap:
		return w.mapping(h.arg, inner)
	}
	content, err := w.value(inner)
	if err != nil {
		return nil, err
	}
	return w.tagged(h.arg, content), nil
}

// next returns the n bytes at w.off and moves past them.
func (w *genericWalk) next(n uint64) []byte {
	b := w.data[w.off : w.off+int(n)]
	w.off += int(n)
	return b
}

// mapping decodes a map of n pairs whose items are depth levels deep, its
// keys as strings (see DecodeGeneric).
func (w *genericWalk) mapping(n uint64, depth int) (map[string]any, error) {
	m := make(map[string]any, n)
	for range n {
		start := w.off
		k, err := w.value(depth)
		if err != nil {
			return nil, err
		}
		key := mapKey(k, w.data[start:w.off])
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateKey, key)
		}
		if m[key], err = w.value(depth); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// tagged returns the value of tag num around content: a time for an
// RFC 3339 time string (tag 0), a big.Int for a bignum (tags 2 and 3), a
// *Generic for anything else.
func (w *genericWalk) tagged(num uint64, content any) any {
	switch c := content.(type) {
	case string:
		if num == tagDateTime {
			if t, err := time.Parse(time.RFC3339Nano, c); err == nil {
				return t
			}
		}
	case []byte:
		switch num {
		case tagPosBignum:
			return new(big.Int).SetBytes(c)
		case tagNegBignum:
			n := new(big.Int).SetBytes(c)
			return n.Neg(n).Sub(n, big.NewInt(1))
		}
	}
	name := w.extra[num]
	if e, ok := w.r.byTag[num]; ok {
		name = e.name
	}
	return &Generic{Name: name, Tag: num, Value: content}
}

// simple decodes a simple value or a float, from its additional
// information and argument.
func simple(info byte, arg uint64) (any, error) {
	switch {
	case info == infoFloat16:
		return float16(uint16(arg)), nil
	case info == infoFloat32:
		return float64(math.Float32frombits(uint32(arg))), nil
	case info == infoFloat64:
		return math.Float64frombits(arg), nil
	case arg == simpleFalse:
		return false, nil
	case arg == simpleTrue:
		return true, nil
	case arg == simpleNull, arg == simpleUndefined:
		return nil, nil
	}
	// Unassigned simple values: the encoder never writes them.
	return nil, fmt.Errorf("%w: simple value %d", ErrMalformed, arg)
}

// float16 returns the value of a half-precision float (RFC 8949,
// appendix D).
func float16(bits uint16) float64 {
	exp, mant := int(bits>>10)&0x1f, float64(bits&0x3ff)
	var v float64
	switch exp {
	case 0:
		v = math.Ldexp(mant, -24)
	case 0x1f:
		v = math.Inf(1)
		if mant != 0 {
			v = math.NaN()
		}
	default:
		v = math.Ldexp(mant+1024, exp-25)
	}
	if bits&0x8000 != 0 {
		return -v
	}
	return v
}

// mapKey returns the string form of a map key k, encoded as raw: text as
// it is, integers in decimal, byte strings in hex after "0x", anything
// else as its encoding in hex after "cbor:".
func mapKey(k any, raw []byte) string {
	switch k := k.(type) {
	case string:
		return k
	case uint64:
		return strconv.FormatUint(k, 10)
	case int64:
		return strconv.FormatInt(k, 10)
	case []byte:
		return "0x" + hex.EncodeToString(k)
	}
	return "cbor:" + hex.EncodeToString(raw)
}
