package codec

import (
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fxamacker/cbor/v2"

	"github.com/mirframework/mir/stdtypes"
)

// Tag numbers are derived from type names. A name's tag is
//
//	tagBase + FNV-1a-32(name)
//
// that is, a number in [2^32, 2^33). The hash makes tags stable across
// builds, processes and versions without any central numbering: a type keeps
// its tag as long as it keeps its registered name, whatever else is
// registered. The range lies above every tag the library treats specially
// (0-3, 21-23, 55799, all below 2^16) and above the 32-bit range where the
// IANA registry's numbers lie, so a Mir encoding never reuses a tag with a
// meaning elsewhere. The price is a 9-byte tag head per tagged value.
//
// Changing this derivation changes the encoding of every event and message:
// recorded event logs and write-ahead logs would no longer decode.
const tagBase uint64 = 1 << 32

// TagOf returns the CBOR tag number that values of a type registered
// under name carry, whether or not this binary registers it: for tools
// that recognize or build encodings of types they do not link (and for
// tests that need a type unknown to the binary).
func TagOf(name string) uint64 {
	h := fnv.New32a()
	h.Write([]byte(name)) // A hash.Hash never returns an error.
	return tagBase + uint64(h.Sum32())
}

// kind tells what a registered type is used as, so that decoding an event
// can refuse a message before parsing it.
type kind uint8

const (
	kindEvent   kind = 1 << iota // *T implements stdtypes.Event.
	kindMessage                  // *T implements stdtypes.Message.
)

var (
	eventType           = reflect.TypeFor[stdtypes.Event]()
	messageType         = reflect.TypeFor[stdtypes.Message]()
	cborMarshalerType   = reflect.TypeFor[cbor.Marshaler]()
	cborUnmarshalerType = reflect.TypeFor[cbor.Unmarshaler]()
)

// entry is one registered type.
type entry struct {
	name string
	typ  reflect.Type // T, never *T.
	tag  uint64
	kind kind
	plan *plan // Where values of typ can hold interfaces; see check.
}

// registry is an immutable snapshot of every registered type with the
// encoding mode built from it. Registration builds a new snapshot and
// publishes it through current, so encoding and decoding read a consistent
// snapshot without taking a lock.
type registry struct {
	byName map[string]*entry
	byType map[reflect.Type]*entry
	byTag  map[uint64]*entry
	names  []string // Sorted.
	tags   cbor.TagSet
	enc    cbor.UserBufferEncMode
	fast   fastIndex // The fast encoder's programs; see fastenc.go.
}

var (
	// registerMu serializes registrations; readers never take it.
	registerMu sync.Mutex
	// current is the latest snapshot; nil until the first registration.
	current atomic.Pointer[registry]
	// emptyRegistry is what load returns before any registration.
	emptyRegistry = mustBuild(nil)
)

// load returns the current snapshot of the registry.
func load() *registry {
	if r := current.Load(); r != nil {
		return r
	}
	return emptyRegistry
}

// Register adds T to the registry under name, so that values of type T (and
// *T) can be encoded and decoded, including inside interface-typed fields
// such as a SendMessage's Msg or an event's follow-ups. Register it once, at
// package level, next to the type:
//
//	var _ = codec.Register[Ping]("pingpong.Ping")
//
// T is the type itself, not a pointer to it, and must be a named type that is
// neither a pointer nor an interface. The name goes into every encoding (as a
// tag number derived from it, see the package documentation), so it must be
// unique within a program and must not change once data has been recorded
// with it; "<package>.<Type>" is the convention.
//
// Register panics if name is empty, if name or T is already registered, if T
// is not a type that can be registered, if T embeds stdtypes.Header and has
// a field of its own named like one of the header's (DestModule, Next),
// which would hide the header's from the encoding, or if the tag derived
// from name collides with the tag of another registered name (then pick
// another name).
// These are programmer errors found at program start. Registering after
// encoding and decoding have started is allowed: later calls see the new type.
//
// Register returns an empty struct only so that it can be called in a
// package-level variable declaration.
func Register[T any](name string) struct{} {
	if err := register(name, reflect.TypeFor[T]()); err != nil {
		panic(err)
	}
	return struct{}{}
}

// register adds t under name and publishes a new snapshot, or leaves the
// registry unchanged and returns an error.
func register(name string, t reflect.Type) error {
	if name == "" {
		return fmt.Errorf("codec: register %v: empty name", t)
	}
	switch {
	case t.Kind() == reflect.Pointer:
		return fmt.Errorf("codec: register %q: %v is a pointer; register %v", name, t, t.Elem())
	case t.Kind() == reflect.Interface:
		return fmt.Errorf("codec: register %q: %v is an interface; register a concrete type", name, t)
	case t.Name() == "" || t.PkgPath() == "":
		return fmt.Errorf("codec: register %q: %v is not a named type", name, t)
	case reflect.PointerTo(t).Implements(cborMarshalerType) || reflect.PointerTo(t).Implements(cborUnmarshalerType):
		// The library writes no tag before what MarshalCBOR returns and
		// hands the tag to UnmarshalCBOR, so such a type could not be
		// decoded from an interface field. encoding.BinaryMarshaler works.
		return fmt.Errorf("codec: register %q: %v implements cbor.Marshaler or cbor.Unmarshaler, which bypass type tags", name, t)
	}
	if err := checkHeaderShadow(t); err != nil {
		return fmt.Errorf("codec: register %q: %w", name, err)
	}

	registerMu.Lock()
	defer registerMu.Unlock()
	old := load()
	if e, ok := old.byName[name]; ok {
		return fmt.Errorf("codec: register %v: name %q already registered for %v", t, name, e.typ)
	}
	if e, ok := old.byType[t]; ok {
		return fmt.Errorf("codec: register %q: %v already registered as %q", name, t, e.name)
	}
	tag := TagOf(name)
	if e, ok := old.byTag[tag]; ok {
		return fmt.Errorf("codec: register %q: its tag %d collides with that of %q; choose another name", name, tag, e.name)
	}

	entries := make([]*entry, 0, len(old.byName)+1)
	for _, e := range old.byName {
		entries = append(entries, e)
	}
	entries = append(entries, &entry{name: name, typ: t, tag: tag, kind: kindOf(t), plan: planOf(t)})
	r, err := build(entries)
	if err != nil {
		return fmt.Errorf("codec: register %q (%v): %w", name, t, err)
	}
	current.Store(r)
	return nil
}

// headerType is the header every event embeds.
var headerType = reflect.TypeFor[stdtypes.Header]()

// checkHeaderShadow refuses a type t that embeds stdtypes.Header and has
// another field named like one of the header's (DestModule, Next), by its
// Go name or by the name it is encoded under. The encoding, like Go,
// keeps one field per name, the shallowest (and drops both where two are
// equally deep), so the header's field would not be encoded: an event
// read back from the network or a log would have lost its destination or
// its follow-ups, with nothing to tell. Go accepts such a type, and its
// methods Dest and FollowUps still read the header, so the author sees
// nothing wrong until then.
//
// It walks t's embedded structs breadth first, as the encoding does
// (collectFields describes its rules); a struct embedded under a name of
// its own is encoded as one field and not walked.
func checkHeaderShadow(t reflect.Type) error {
	if t.Kind() != reflect.Struct {
		return nil
	}
	type embedded struct {
		typ  reflect.Type
		path string // how t reaches it, as in a selector: "Base."
	}
	level := []embedded{{t, ""}}
	seen := map[reflect.Type]bool{t: true}
	hasHeader := false
	var clash, clashWith string // the first field that clashes, and with what
	for len(level) > 0 {
		var next []embedded
		for _, s := range level {
			if s.typ == headerType {
				hasHeader = true
				continue
			}
			for i := range s.typ.NumField() {
				f := s.typ.Field(i)
				ft := f.Type
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				tag := f.Tag.Get("cbor")
				if tag == "" {
					tag = f.Tag.Get("json")
				}
				encName, _, _ := strings.Cut(tag, ",")
				if f.Anonymous && ft.Kind() == reflect.Struct && encName == "" {
					if tag != "-" && !seen[ft] {
						seen[ft] = true
						next = append(next, embedded{ft, s.path + f.Name + "."})
					}
					continue
				}
				if clash != "" {
					continue
				}
				if isHeaderField(f.Name) {
					clash, clashWith = s.path+f.Name, f.Name
				} else if tag != "-" && isHeaderField(encName) {
					clash, clashWith = s.path+f.Name, encName
				}
			}
		}
		level = next
	}
	if hasHeader && clash != "" {
		return fmt.Errorf("%v: field %s shadows stdtypes.Header's field %s (the event's destination or follow-ups): "+
			"encoded, the event would lose the header's, and code reading %s reads the other; rename the field",
			t, clash, clashWith, clashWith)
	}
	return nil
}

// isHeaderField reports whether name is the name of a field of
// stdtypes.Header.
func isHeaderField(name string) bool {
	_, ok := headerType.FieldByName(name)
	return ok && name != ""
}

// kindOf tells whether *t is an event, a message, or neither.
func kindOf(t reflect.Type) kind {
	var k kind
	p := reflect.PointerTo(t)
	if p.Implements(eventType) {
		k |= kindEvent
	}
	if p.Implements(messageType) {
		k |= kindMessage
	}
	return k
}

// build makes a snapshot holding entries.
func build(entries []*entry) (*registry, error) {
	r := &registry{
		byName: make(map[string]*entry, len(entries)),
		byType: make(map[reflect.Type]*entry, len(entries)),
		byTag:  make(map[uint64]*entry, len(entries)),
		names:  make([]string, 0, len(entries)),
		tags:   cbor.NewTagSet(),
	}
	opts := cbor.TagOptions{EncTag: cbor.EncTagRequired, DecTag: cbor.DecTagRequired}
	for _, e := range entries {
		if err := r.tags.Add(opts, e.typ, e.tag); err != nil {
			return nil, err
		}
		r.byName[e.name] = e
		r.byType[e.typ] = e
		r.byTag[e.tag] = e
		r.names = append(r.names, e.name)
	}
	sort.Strings(r.names)
	enc, err := encOptions().UserBufferEncModeWithTags(r.tags)
	if err != nil {
		return nil, err
	}
	r.enc = enc
	r.fast = newFastIndex(r, entries)
	return r, nil
}

// mustBuild is build for the empty registry, which cannot fail.
func mustBuild(entries []*entry) *registry {
	r, err := build(entries)
	if err != nil {
		panic(err)
	}
	return r
}

// lookup returns the entry of v's type: v may be a T or a *T.
func (r *registry) lookup(v any) (*entry, bool) {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil, false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	e, ok := r.byType[t]
	return e, ok
}

// Name returns the name under which the type of v is registered. v may be a
// value of the registered type or a pointer to one.
func Name(v any) (string, bool) {
	e, ok := load().lookup(v)
	if !ok {
		return "", false
	}
	return e.name, true
}

// Registered returns the names of all registered types, sorted.
func Registered() []string {
	return slices.Clone(load().names)
}

// New returns a pointer to a new zero value of the type registered under
// name: a *Ping for "pingpong.Ping". Tools such as test fillers and log
// readers use it to make values of types they only know by name.
func New(name string) (any, error) {
	e, ok := load().byName[name]
	if !ok {
		return nil, fmt.Errorf("codec: %q: %w", name, ErrUnknownType)
	}
	return reflect.New(e.typ).Interface(), nil
}
