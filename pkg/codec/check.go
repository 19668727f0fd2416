package codec

import (
	"encoding"
	"fmt"
	"reflect"
	"sync"
)

// The rule for interface-typed places. The CBOR library encodes whatever an
// interface holds, but decodes a non-empty interface (stdtypes.Event,
// stdtypes.Message) into a pointer to the registered type, and an `any`
// into a value of it. So that decoding gives back exactly what was encoded,
// every interface-typed place, at any depth, holds either nil or:
//
//   - for a non-empty interface: a non-nil pointer to a registered type;
//   - for `any`: a value (not a pointer) of a registered type.
//
// A nil is allowed in a struct field (it means "absent") but not as an
// element of a slice, array or map: a nil follow-up event is never valid.
//
// check enforces the rule before encoding, so a forgotten registration fails
// at the sender with the type's name, and after decoding, where it rejects
// untrusted input such as a null in Header.Next or a plain string in an
// `any` field.

// maxCheckDepth bounds the recursion of check. Decoded values are bounded by
// Limits.MaxNestingDepth already; this stops the check of a cyclic value
// given to an encoder from recursing without end. It is far above what the
// largest MaxNestingDepth lets decode.
const maxCheckDepth = 1 << 18

// plan says where a type can hold interfaces, so check visits only those
// parts. Plans link to the plans of their parts, so check looks the cache up
// once per call, at the top. A type without interfaces (most messages)
// costs that one lookup.
type plan struct {
	hasIface bool
	elem     *plan // Pointers, slices, arrays, maps: the element's plan.
	key      *plan // Maps: the key's plan.
	fields   []fieldPlan
}

// fieldPlan is an encoded struct field that can hold interfaces.
type fieldPlan struct {
	index int
	plan  *plan
}

var (
	plans           sync.Map // reflect.Type -> *plan; plans are immutable.
	binMarshalType  = reflect.TypeFor[encoding.BinaryMarshaler]()
	errCyclicOrDeep = fmt.Errorf("%w: value nested more than %d levels (cyclic?)", ErrMalformed, maxCheckDepth)
)

// planOf returns the plan of t, building and caching it the first time.
func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	b := planBuilder{open: map[reflect.Type]*plan{}}
	p, _ := plans.LoadOrStore(t, b.build(t))
	return p.(*plan)
}

// planBuilder builds the plan of one type and of its parts.
type planBuilder struct {
	// open holds the plans being built, on the current path. A recursive
	// type refers back to its own open plan, which is assumed to hold an
	// interface: at worst, check then visits more than needed.
	open map[reflect.Type]*plan
}

// build returns the plan of t.
func (b *planBuilder) build(t reflect.Type) *plan {
	if p, ok := b.open[t]; ok {
		return p
	}
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := &plan{}
	if customEncoding(t) {
		return p
	}
	b.open[t] = p
	defer delete(b.open, t)
	switch t.Kind() {
	case reflect.Interface:
		p.hasIface = true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		p.elem = b.build(t.Elem())
		p.hasIface = b.mayHold(p.elem)
	case reflect.Map:
		p.key, p.elem = b.build(t.Key()), b.build(t.Elem())
		p.hasIface = b.mayHold(p.key) || b.mayHold(p.elem)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !encodedField(f) {
				continue
			}
			if fp := b.build(f.Type); b.mayHold(fp) {
				p.fields = append(p.fields, fieldPlan{index: i, plan: fp})
			}
		}
		p.hasIface = len(p.fields) > 0
	}
	return p
}

// mayHold reports whether a value with plan p may hold an interface: p says
// so, or p is still being built (a recursive type).
func (b *planBuilder) mayHold(p *plan) bool {
	if p.hasIface {
		return true
	}
	for _, q := range b.open {
		if q == p {
			return true
		}
	}
	return false
}

// customEncoding reports whether t encodes itself, so its fields are not
// what goes on the wire.
func customEncoding(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return false
	}
	p := reflect.PointerTo(t)
	return p.Implements(cborMarshalerType) || p.Implements(binMarshalType)
}

// encodedField mirrors the CBOR library's choice of struct fields: exported
// fields and embedded structs, except those tagged "-".
func encodedField(f reflect.StructField) bool {
	tag, ok := f.Tag.Lookup("cbor")
	if !ok {
		tag = f.Tag.Get("json")
	}
	if tag == "-" {
		return false
	}
	if f.IsExported() {
		return true
	}
	if !f.Anonymous {
		return false
	}
	t := f.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// check applies the interface rule to v and everything it holds.
func check(r *registry, v reflect.Value) error {
	return checkValue(r, v, planOf(v.Type()), false, 0)
}

// checkValue checks v, whose plan is p; elem tells whether v is an element
// of a slice, array or map, where nil interfaces are not allowed.
func checkValue(r *registry, v reflect.Value, p *plan, elem bool, depth int) error {
	if !p.hasIface {
		return nil
	}
	if depth > maxCheckDepth {
		return errCyclicOrDeep
	}
	switch v.Kind() {
	case reflect.Interface:
		return checkIface(r, v, elem, depth)
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return checkValue(r, v.Elem(), p.elem, false, depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkValue(r, v.Index(i), p.elem, true, depth+1); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := checkValue(r, it.Key(), p.key, true, depth+1); err != nil {
				return fmt.Errorf("map key: %w", err)
			}
			if err := checkValue(r, it.Value(), p.elem, true, depth+1); err != nil {
				return fmt.Errorf("map value: %w", err)
			}
		}
	case reflect.Struct:
		for _, f := range p.fields {
			if err := checkValue(r, v.Field(f.index), f.plan, false, depth+1); err != nil {
				return fmt.Errorf("%s: %w", v.Type().Field(f.index).Name, err)
			}
		}
	}
	return nil
}

// checkIface checks the value held by the interface v.
func checkIface(r *registry, v reflect.Value, elem bool, depth int) error {
	if v.IsNil() {
		if elem {
			return fmt.Errorf("%w: nil %v in a list", ErrNil, v.Type())
		}
		return nil
	}
	c := v.Elem()
	if v.Type().NumMethod() == 0 { // any
		if c.Kind() == reflect.Pointer {
			return fmt.Errorf("%w: pointer %v in an %v field would decode as a value; store the value", ErrWrongKind, c.Type(), v.Type())
		}
		e, ok := r.byType[c.Type()]
		if !ok {
			return fmt.Errorf("%w: %v in an %v field", ErrUnknownType, c.Type(), v.Type())
		}
		return checkValue(r, c, e.plan, false, depth+1)
	}
	if c.Kind() != reflect.Pointer {
		return fmt.Errorf("%w: %v held by value in a %v field; use a pointer", ErrWrongKind, c.Type(), v.Type())
	}
	if c.IsNil() {
		return fmt.Errorf("%w: nil %v", ErrNil, c.Type())
	}
	e, ok := r.byType[c.Type().Elem()]
	if !ok {
		return fmt.Errorf("%w: %v in a %v field", ErrUnknownType, c.Type(), v.Type())
	}
	return checkValue(r, c.Elem(), e.plan, false, depth+1)
}
