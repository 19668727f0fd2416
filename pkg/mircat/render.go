package mircat

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

// timeLayout is how times are shown: RFC 3339 in UTC with microseconds, so
// that a time copied from the output works as --from or --to.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Limits on the compact form of an event, so that one huge event (a batch
// of thousands of transactions) does not make a line of megabytes.
const (
	maxRenderDepth  = 8
	maxRenderElems  = 16
	maxRenderString = 200
	maxRenderBytes  = 32
	maxRenderLine   = 4096
	maxRenderMap    = 256
)

// decoded is a record with its event decoded, or why it could not be.
type decoded struct {
	rec *eventlog.Record
	ev  stdtypes.Event
	// generic is the event decoded as plain data when ev could not be:
	// its type, or that of a value it holds, is not registered in this
	// binary.
	generic *codec.Generic
	// note says why ev is nil: the type is not registered in this binary
	// (generic then holds the event), the event was not encodable when
	// recorded, or its data is damaged.
	note string
}

// decode decodes rec's event. It never fails: an event of a type this
// binary does not know is decoded generically, and one that cannot be
// decoded at all gets a note instead, for it to be shown rather than
// dropped.
func decode(rec *eventlog.Record) decoded {
	ev, err := rec.Decode()
	if err == nil {
		return decoded{rec: rec, ev: ev}
	}
	if errors.Is(err, codec.ErrUnknownType) {
		if g, gerr := rec.DecodeGeneric(); gerr == nil {
			return decoded{rec: rec, generic: g, note: genericNote(rec)}
		}
	}
	return decoded{rec: rec, note: decodeNote(rec, err)}
}

// genericNote says why rec's event was decoded generically.
func genericNote(rec *eventlog.Record) string {
	if _, err := codec.New(rec.Type); err == nil {
		return "holds a value of a type not registered in this binary: decoded generically"
	}
	return "type not registered in this binary: decoded generically"
}

// decodeNote is a short explanation of err, an error of Record.Decode.
func decodeNote(rec *eventlog.Record, err error) string {
	switch {
	case errors.Is(err, codec.ErrUnknownType):
		return "type not registered in this binary, and not decodable generically: " + err.Error()
	case errors.Is(err, eventlog.ErrUnencodable):
		return "not encodable when recorded: " + string(rec.Data)
	default:
		return "cannot decode: " + err.Error()
	}
}

// inOut is the marker of a record's Input flag.
func inOut(rec *eventlog.Record) string {
	if rec.Input {
		return "in "
	}
	return "out"
}

// appendLine appends the human-readable line of d (without newline):
// time, node, sequence and batch numbers, in/out, destination, type and
// the event in compact form.
func appendLine(b []byte, d decoded) []byte {
	rec := d.rec
	b = rec.Time.UTC().AppendFormat(b, timeLayout)
	b = append(b, "  "...)
	b = append(b, rec.Node...)
	b = append(b, "  #"...)
	b = strconv.AppendUint(b, rec.Seq, 10)
	b = append(b, " b"...)
	b = strconv.AppendUint(b, rec.Batch, 10)
	b = append(b, ' ', ' ')
	b = append(b, inOut(rec)...)
	b = append(b, ' ', ' ')
	b = appendPadded(b, string(rec.Dest), 12)
	b = append(b, ' ', ' ')
	b = appendPadded(b, rec.Type, 20)
	b = append(b, ' ')
	switch {
	case d.ev != nil:
		return append(b, compact(d.ev)...)
	case d.generic != nil:
		return append(b, compactGeneric(d.generic)...)
	}
	b = append(b, '(')
	b = append(b, d.note...)
	return append(b, ')')
}

// appendPadded appends s and pads it with spaces to width.
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return b
}

// jsonRecord is the --json form of a record.
type jsonRecord struct {
	Node  stdtypes.NodeID   `json:"node"`
	Seq   uint64            `json:"seq"`
	Batch uint64            `json:"batch"`
	Time  time.Time         `json:"time"`
	Dest  stdtypes.ModuleID `json:"dest"`
	Type  string            `json:"type"`
	Input bool              `json:"input"`
	// Event is the event as eventlog.EventJSON renders it, or, decoded
	// generically, as eventlog.GenericJSON does (and Note says so); null
	// when it could not be decoded, and Note says why.
	Event json.RawMessage `json:"event"`
	Note  string          `json:"note,omitempty"`
}

// toJSON returns the --json form of d.
func toJSON(d decoded) jsonRecord {
	rec := d.rec
	j := jsonRecord{
		Node: rec.Node, Seq: rec.Seq, Batch: rec.Batch, Time: rec.Time.UTC(),
		Dest: rec.Dest, Type: rec.Type, Input: rec.Input, Note: d.note,
		Event: json.RawMessage("null"),
	}
	if js := d.eventJSON(); js != nil {
		j.Event = js
	}
	return j
}

// eventJSON returns d's event as JSON, or nil if it could not be decoded.
func (d decoded) eventJSON() []byte {
	switch {
	case d.ev != nil:
		return eventlog.EventJSON(d.ev)
	case d.generic != nil:
		// The type is the record's; the value is the event's fields.
		return eventlog.GenericJSON(d.generic.Value)
	}
	return nil
}

// compact renders ev on one line, Go-like: {Field:value ...}, with the
// type names of messages and events held in interface fields (which
// EventJSON leaves out), strings quoted, byte slices in hex, and
// everything long cut short. The destination is left out: the line shows
// it already.
func compact(ev stdtypes.Event) string {
	r := renderer{}
	v := reflect.ValueOf(ev)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		r.value(v, 0)
		return r.b.String()
	}
	r.structFields(v, 0, true)
	return r.b.String()
}

// compactGeneric renders an event decoded generically as compact renders
// an event: its fields, sorted by name, without its destination.
func compactGeneric(g *codec.Generic) string {
	r := renderer{}
	fields, ok := g.Value.(map[string]any)
	if !ok {
		r.value(reflect.ValueOf(g.Value), 0)
		return r.b.String()
	}
	r.plainFields(fields, 0, true)
	return r.b.String()
}

// renderer builds the compact form of a value.
type renderer struct {
	b strings.Builder
}

// full tells whether the line is as long as it may get.
func (r *renderer) full() bool { return r.b.Len() >= maxRenderLine }

var (
	genericType  = reflect.TypeFor[*codec.Generic]()
	plainMapType = reflect.TypeFor[map[string]any]()
	headerType   = reflect.TypeFor[stdtypes.Header]()
	eventIface   = reflect.TypeFor[stdtypes.Event]()
	messageIface = reflect.TypeFor[stdtypes.Message]()
	stringerType = reflect.TypeFor[fmt.Stringer]()
)

func (r *renderer) value(v reflect.Value, depth int) {
	if r.full() {
		return
	}
	if depth > maxRenderDepth {
		r.b.WriteString("…")
		return
	}
	if !v.IsValid() {
		r.b.WriteString("nil")
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			r.b.WriteString("nil")
			return
		}
		if v.NumMethod() == 0 && !registered(v.Elem()) {
			// An element of what a generic decoding made ([]any): plain
			// data, or a *codec.Generic that names itself.
			r.value(v.Elem(), depth)
			return
		}
		r.typed(v.Elem(), depth)
	case reflect.Pointer:
		switch {
		case v.IsNil():
			r.b.WriteString("nil")
		case v.Type() == genericType:
			r.generic(v.Interface().(*codec.Generic), depth)
		case v.Type().Implements(eventIface) || v.Type().Implements(messageIface):
			r.typed(v, depth)
		case r.stringer(v): // A *big.Int has its String on the pointer.
		default:
			r.value(v.Elem(), depth+1)
		}
	case reflect.Struct:
		if r.stringer(v) {
			return
		}
		r.structFields(v, depth, false)
	case reflect.Slice, reflect.Array:
		r.list(v, depth)
	case reflect.Map:
		if v.Type() == plainMapType {
			// Only a generic decoding makes these (an `any` the codec
			// decodes holds a registered type): a struct's fields.
			r.plainFields(v.Interface().(map[string]any), depth, false)
			return
		}
		r.mapping(v, depth)
	case reflect.String:
		s := v.String()
		if len(s) > maxRenderString {
			s = s[:maxRenderString] + "…"
		}
		r.b.WriteString(strconv.Quote(s))
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		r.b.WriteString(v.Type().String())
	default:
		if r.stringer(v) {
			return
		}
		fmt.Fprintf(&r.b, "%v", v.Interface())
	}
}

// typed renders a value with its type name first: an event or message held
// in an interface (a SendMessage's Msg) says what it is.
func (r *renderer) typed(v reflect.Value, depth int) {
	if v.CanInterface() {
		name, ok := codec.Name(v.Interface())
		if !ok {
			name = stdtypes.TypeName(v.Interface())
		}
		r.b.WriteString(name)
	}
	e := v
	for e.Kind() == reflect.Pointer && !e.IsNil() {
		e = e.Elem()
	}
	if e.Kind() == reflect.Struct {
		r.structFields(e, depth+1, false)
		return
	}
	if e.Kind() == reflect.Pointer {
		r.b.WriteString("(nil)")
		return
	}
	r.b.WriteByte('(')
	r.value(e, depth+1)
	r.b.WriteByte(')')
}

// generic renders a value decoded generically as typed renders a typed
// one: its type's name (or its tag, if the name is not known) and its
// fields.
func (r *renderer) generic(g *codec.Generic, depth int) {
	if g.Name != "" {
		r.b.WriteString(g.Name)
	} else {
		fmt.Fprintf(&r.b, "<tag %d>", g.Tag)
	}
	if fields, ok := g.Value.(map[string]any); ok {
		r.plainFields(fields, depth+1, false)
		return
	}
	r.b.WriteByte('(')
	r.value(reflect.ValueOf(g.Value), depth+1)
	r.b.WriteByte(')')
}

// plainFields renders the fields of a struct decoded generically as
// structFields renders a struct's: {Name:value ...}, sorted by name, the
// destination only below the top level.
func (r *renderer) plainFields(fields map[string]any, depth int, top bool) {
	if depth > maxRenderDepth {
		r.b.WriteString("…")
		return
	}
	if len(fields) > maxRenderMap {
		fmt.Fprintf(&r.b, "{…%d fields}", len(fields))
		return
	}
	r.b.WriteByte('{')
	first := true
	for _, key := range slices.Sorted(maps.Keys(fields)) {
		if top && key == "DestModule" {
			continue
		}
		if r.full() {
			r.b.WriteString("…")
			break
		}
		name := key
		if !isIdentifier(name) {
			name = strconv.Quote(name)
		}
		r.field(name, reflect.ValueOf(fields[key]), depth, &first)
	}
	r.b.WriteByte('}')
}

// isIdentifier tells whether s can stand unquoted as a field name.
func isIdentifier(s string) bool {
	for i, c := range s {
		if c != '_' && !unicode.IsLetter(c) && (i == 0 || !unicode.IsDigit(c)) {
			return false
		}
	}
	return s != ""
}

// registered tells whether v's type is registered with package codec.
func registered(v reflect.Value) bool {
	if !v.CanInterface() {
		return false
	}
	_, ok := codec.Name(v.Interface())
	return ok
}

// stringer renders v with its String method, for values such as
// durations and times that say best what they are themselves. Registered
// types (events, messages) are rendered by their fields instead, and so
// are strings, which are quoted. It reports whether it rendered v.
func (r *renderer) stringer(v reflect.Value) (ok bool) {
	if !v.CanInterface() || !v.Type().Implements(stringerType) || registered(v) {
		return false
	}
	defer func() {
		// A String method that panics (on a zero value, say) is not
		// worth failing the output for: fall back to the fields.
		if recover() != nil {
			ok = false
		}
	}()
	s := v.Interface().(fmt.Stringer).String()
	r.b.WriteString(s)
	return true
}

// structFields renders v's exported fields as {Name:value ...}. Embedded
// structs' fields are shown as v's own, as Go promotes them; the header's
// follow-ups only when there are any, its destination only below the top
// level (top: the line shows it).
func (r *renderer) structFields(v reflect.Value, depth int, top bool) {
	r.b.WriteByte('{')
	first := true
	r.fields(v, depth, top, &first)
	r.b.WriteByte('}')
}

func (r *renderer) fields(v reflect.Value, depth int, top bool, first *bool) {
	t := v.Type()
	for i := range t.NumField() {
		if r.full() {
			r.b.WriteString("…")
			return
		}
		f := t.Field(i)
		fv := v.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if f.Type == headerType {
				r.header(fv, depth, top, first)
				continue
			}
			r.fields(fv, depth, top, first)
			continue
		}
		if !f.IsExported() {
			continue
		}
		r.field(f.Name, fv, depth, first)
	}
}

// header renders the fields of an event's Header.
func (r *renderer) header(v reflect.Value, depth int, top bool, first *bool) {
	if !v.CanInterface() {
		return
	}
	h := v.Interface().(stdtypes.Header)
	if !top {
		r.field("DestModule", v.FieldByName("DestModule"), depth, first)
	}
	if len(h.Next) > 0 {
		r.field("Next", v.FieldByName("Next"), depth, first)
	}
}

func (r *renderer) field(name string, v reflect.Value, depth int, first *bool) {
	if !*first {
		r.b.WriteByte(' ')
	}
	*first = false
	r.b.WriteString(name)
	r.b.WriteByte(':')
	r.value(v, depth+1)
}

// list renders a slice or an array, byte slices in hex.
func (r *renderer) list(v reflect.Value, depth int) {
	if v.Kind() == reflect.Slice && v.IsNil() {
		r.b.WriteString("[]")
		return
	}
	if v.Type().Elem().Kind() == reflect.Uint8 {
		n := v.Len()
		shown := min(n, maxRenderBytes)
		buf := make([]byte, shown)
		for i := range shown {
			buf[i] = byte(v.Index(i).Uint())
		}
		r.b.WriteString("0x")
		r.b.WriteString(hex.EncodeToString(buf))
		if n > shown {
			fmt.Fprintf(&r.b, "…(%d bytes)", n)
		}
		return
	}
	r.b.WriteByte('[')
	n := v.Len()
	for i := range min(n, maxRenderElems) {
		if i > 0 {
			r.b.WriteByte(' ')
		}
		r.value(v.Index(i), depth+1)
	}
	if n > maxRenderElems {
		fmt.Fprintf(&r.b, " …%d more", n-maxRenderElems)
	}
	r.b.WriteByte(']')
}

// mapping renders a map with its entries sorted by their rendered keys, so
// that the output does not depend on map order.
func (r *renderer) mapping(v reflect.Value, depth int) {
	if v.IsNil() {
		r.b.WriteString("map[]")
		return
	}
	if v.Len() > maxRenderMap {
		// Sorting needs every entry rendered; past this, the size says
		// more than any part would.
		fmt.Fprintf(&r.b, "map[…%d entries]", v.Len())
		return
	}
	type entry struct{ key, val string }
	entries := make([]entry, 0, v.Len())
	iter := v.MapRange()
	for iter.Next() {
		var k, e renderer
		k.value(iter.Key(), depth+1)
		e.value(iter.Value(), depth+1)
		entries = append(entries, entry{k.b.String(), e.b.String()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	r.b.WriteString("map[")
	for i, e := range entries {
		if i == maxRenderElems {
			fmt.Fprintf(&r.b, " …%d more", len(entries)-maxRenderElems)
			break
		}
		if i > 0 {
			r.b.WriteByte(' ')
		}
		r.b.WriteString(e.key)
		r.b.WriteByte(':')
		r.b.WriteString(e.val)
	}
	r.b.WriteByte(']')
}
