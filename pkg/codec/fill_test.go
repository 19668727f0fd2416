package codec_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// filler fills values of any registered type with deterministic
// pseudo-random data, so the round-trip test needs no hand-written sample
// per type. It produces only values the codec promises to carry exactly:
// slices and maps are nil or non-empty (an empty follow-up list is omitted
// from the encoding and comes back nil), floats are finite, times are in
// UTC, and interface fields hold registered types as the interface rule
// wants (pointers in Event and Message fields, values in `any` fields).
type filler struct {
	rnd *rand.Rand
	// Registered names by kind, sorted, so the same seed gives the same
	// value.
	events, messages, others []string
}

// maxFillDepth bounds nesting: below it, pointers, slices, maps and
// interfaces are left nil.
const maxFillDepth = 3

var (
	eventType   = reflect.TypeFor[stdtypes.Event]()
	messageType = reflect.TypeFor[stdtypes.Message]()
	timeType    = reflect.TypeFor[time.Time]()
	bigIntType  = reflect.TypeFor[big.Int]()
)

func newFiller(seed uint64) *filler {
	f := &filler{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for _, name := range codec.Registered() {
		if name == panickyName {
			continue
		}
		v, err := codec.New(name)
		if err != nil {
			panic(err)
		}
		switch v.(type) {
		case stdtypes.Event:
			f.events = append(f.events, name)
		case stdtypes.Message:
			f.messages = append(f.messages, name)
		default:
			f.others = append(f.others, name)
		}
	}
	return f
}

// sample returns a pointer to a new value of the registered type name,
// filled.
func (f *filler) sample(name string) any {
	v := f.zero(name)
	f.fill(reflect.ValueOf(v).Elem(), 0)
	f.nonNilSlice(reflect.ValueOf(v).Elem(), 0)
	return v
}

// fill sets v, which must be settable, to random content.
func (f *filler) fill(v reflect.Value, depth int) {
	switch v.Type() {
	case timeType:
		sec := f.rnd.Int64N(253402300799) // Up to year 9999.
		v.Set(reflect.ValueOf(time.Unix(sec, f.rnd.Int64N(1e9)).UTC()))
		return
	case bigIntType:
		b := new(big.Int).Lsh(big.NewInt(f.rnd.Int64()|1), uint(f.rnd.IntN(100)))
		if f.rnd.IntN(2) == 0 {
			b.Neg(b)
		}
		v.Set(reflect.ValueOf(b).Elem())
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(f.rnd.IntN(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.rnd.Uint64()) >> f.rnd.IntN(64)) // All magnitudes, both signs.
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(f.rnd.Uint64() >> f.rnd.IntN(64))
	case reflect.Float32, reflect.Float64:
		v.SetFloat((f.rnd.Float64() - 0.5) * math.Pow(10, float64(f.rnd.IntN(40)-20)))
	case reflect.String:
		v.SetString(f.string())
	case reflect.Slice:
		n := f.count(depth)
		if n == 0 {
			return
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fillElem(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fillElem(v.Index(i), depth+1)
		}
	case reflect.Map:
		n := f.count(depth)
		if n == 0 {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), n)
		for range n {
			k := reflect.New(v.Type().Key()).Elem()
			e := reflect.New(v.Type().Elem()).Elem()
			f.fillElem(k, depth+1)
			f.fillElem(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		if depth >= maxFillDepth || f.rnd.IntN(4) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		if p.Elem().Kind() == reflect.Pointer && p.Elem().IsNil() {
			return // A pointer to nil is written as null and decodes as nil.
		}
		v.Set(p)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, ok := sf.Tag.Lookup("cbor")
			if !ok {
				tag = sf.Tag.Get("json")
			}
			if !sf.IsExported() || tag == "-" {
				continue
			}
			f.fill(v.Field(i), depth)
		}
	case reflect.Interface:
		if depth >= maxFillDepth || f.rnd.IntN(4) == 0 {
			return
		}
		f.fillIface(v, depth)
	}
}

// fillElem fills an element of a slice, array or map, where an interface
// must not be nil.
func (f *filler) fillElem(v reflect.Value, depth int) {
	if v.Kind() == reflect.Interface {
		f.fillIface(v, depth)
		return
	}
	f.fill(v, depth)
}

// fillIface sets the interface v to a new value of a registered type it can
// hold.
func (f *filler) fillIface(v reflect.Value, depth int) {
	var names []string
	switch v.Type() {
	case eventType:
		names = f.events
	case messageType:
		names = f.messages
	default:
		names = f.others
	}
	p := reflect.ValueOf(f.zero(names[f.rnd.IntN(len(names))]))
	f.fill(p.Elem(), depth+1)
	if v.Type().NumMethod() == 0 {
		f.nonNilSlice(p.Elem(), depth+1)
		v.Set(p.Elem()) // `any` fields hold values.
	} else {
		v.Set(p)
	}
}

// nonNilSlice makes v, a value of a registered type, a list of one if it
// is a nil slice. A nil slice is written as a bare null, without its type's
// tag, so it does not decode as the registered type: such a type is carried
// only as a non-nil slice.
func (f *filler) nonNilSlice(v reflect.Value, depth int) {
	if v.Kind() == reflect.Slice && v.IsNil() {
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		f.fillElem(v.Index(0), depth+1)
	}
}

// zero returns a pointer to a zero value of the type named name.
func (f *filler) zero(name string) any {
	v, err := codec.New(name)
	if err != nil {
		panic(err)
	}
	return v
}

// count returns the length of a new slice or map: 0 (nil) or 1 to 3.
func (f *filler) count(depth int) int {
	if depth >= maxFillDepth || f.rnd.IntN(4) == 0 {
		return 0
	}
	return 1 + f.rnd.IntN(3)
}

// string returns a short random string, sometimes not valid UTF-8: Go
// strings hold any bytes and the codec must carry them as they are.
func (f *filler) string() string {
	b := make([]byte, f.rnd.IntN(12))
	for i := range b {
		if f.rnd.IntN(8) == 0 {
			b[i] = byte(f.rnd.Uint32()) // Any byte.
		} else {
			b[i] = 'a' + byte(f.rnd.IntN(26))
		}
	}
	return string(b)
}
