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
// Limits.MaxNestingDepth already; this stops a cyclic value being encoded
// from recursing without end.
const maxCheckDepth = 10_000

// plan says which parts of a type can hold interfaces, so check visits only
// those. Most message types hold none and cost one map lookup.
type plan struct {
	hasIface bool
	fields   []int // For structs: indices of encoded fields with hasIface.
}

var (
	plans           sync.Map // reflect.Type -> *plan
	binMarshalType  = reflect.TypeFor[encoding.BinaryMarshaler]()
	errCyclicOrDeep = fmt.Errorf("%w: value nested more than %d levels (cyclic?)", ErrMalformed, maxCheckDepth)
)

// planOf returns the plan of t, computing and caching it the first time.
func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := computePlan(t, map[reflect.Type]bool{})
	plans.Store(t, p)
	return p
}

// computePlan computes the plan of t. visiting holds the struct types on the
// current path; a recursive type is assumed to hold an interface, which at
// worst makes check visit more than needed.
func computePlan(t reflect.Type, visiting map[reflect.Type]bool) *plan {
	if customEncoding(t) {
		return &plan{}
	}
	switch t.Kind() {
	case reflect.Interface:
		return &plan{hasIface: true}
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return &plan{hasIface: computePlan(t.Elem(), visiting).hasIface}
	case reflect.Map:
		return &plan{hasIface: computePlan(t.Key(), visiting).hasIface || computePlan(t.Elem(), visiting).hasIface}
	case reflect.Struct:
		if visiting[t] {
			return &plan{hasIface: true}
		}
		visiting[t] = true
		defer delete(visiting, t)
		p := &plan{}
		for i := range t.NumField() {
			f := t.Field(i)
			if encodedField(f) && computePlan(f.Type, visiting).hasIface {
				p.fields = append(p.fields, i)
			}
		}
		p.hasIface = len(p.fields) > 0
		return p
	}
	return &plan{}
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
	return checkValue(r, v, false, 0)
}

// checkValue checks v; elem tells whether v is an element of a slice, array
// or map, where nil interfaces are not allowed.
func checkValue(r *registry, v reflect.Value, elem bool, depth int) error {
	if depth > maxCheckDepth {
		return errCyclicOrDeep
	}
	p := planOf(v.Type())
	if !p.hasIface {
		return nil
	}
	switch v.Kind() {
	case reflect.Interface:
		return checkIface(r, v, elem, depth)
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return checkValue(r, v.Elem(), false, depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkValue(r, v.Index(i), true, depth+1); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := checkValue(r, it.Key(), true, depth+1); err != nil {
				return fmt.Errorf("map key: %w", err)
			}
			if err := checkValue(r, it.Value(), true, depth+1); err != nil {
				return fmt.Errorf("map value: %w", err)
			}
		}
	case reflect.Struct:
		for _, i := range p.fields {
			if err := checkValue(r, v.Field(i), false, depth+1); err != nil {
				return fmt.Errorf("%s: %w", v.Type().Field(i).Name, err)
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
		if _, ok := r.byType[c.Type()]; !ok {
			return fmt.Errorf("%w: %v in an %v field", ErrUnknownType, c.Type(), v.Type())
		}
		return checkValue(r, c, false, depth+1)
	}
	if c.Kind() != reflect.Pointer {
		return fmt.Errorf("%w: %v held by value in a %v field; use a pointer", ErrWrongKind, c.Type(), v.Type())
	}
	if c.IsNil() {
		return fmt.Errorf("%w: nil %v", ErrNil, c.Type())
	}
	if _, ok := r.byType[c.Type().Elem()]; !ok {
		return fmt.Errorf("%w: %v in a %v field", ErrUnknownType, c.Type(), v.Type())
	}
	return checkValue(r, c.Elem(), false, depth+1)
}
