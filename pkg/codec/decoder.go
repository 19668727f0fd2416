package codec

import (
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/fxamacker/cbor/v2"

	"github.com/mirframework/mir/stdtypes"
)

// Limits bound the work and memory one decoding may take. Every input to a
// decoder may come from a faulty or malicious node, so each limit is well
// above what a correct Mir node sends and well below what would hurt.
type Limits struct {
	// MaxBytes is the largest input accepted; a longer one is refused before
	// it is parsed. It also bounds the memory decoding allocates, up to a
	// factor set by the size of the Go types decoded into.
	MaxBytes int
	// MaxNestingDepth bounds how deeply arrays, maps and tags nest, and so
	// the decoder's recursion. At least 4.
	MaxNestingDepth int
	// MaxArrayElements bounds the length of each array (slice). At least 16.
	MaxArrayElements int
	// MaxMapPairs bounds the number of key-value pairs of each map, struct
	// fields included. At least 16.
	MaxMapPairs int
}

// Bounds of the CBOR library on its limits.
const (
	minNestingDepth = 4
	maxNestingDepth = 65535
	minCount        = 16
	maxCount        = 1<<31 - 1
)

// DefaultLimits returns the limits of the package-level decode functions:
//
//   - MaxBytes 16 MiB: a batch of a few thousand requests of a few hundred
//     bytes each, the largest thing Mir protocols send in one message, is
//     an order of magnitude smaller; 16 MiB still bounds what one message
//     can make a node allocate.
//   - MaxNestingDepth 32: an event costs three levels (tag, map, and the
//     array holding it as a follow-up or timer event) and a message two, so
//     a SendMessage inside a TimerRepeat, with a message holding structs
//     four deep, uses 11; 32 leaves room and keeps the recursion shallow.
//     It is also the library's default.
//   - MaxArrayElements 1<<20: a batch of a million transactions still fits;
//     an attacker's array is bounded by MaxBytes anyway.
//   - MaxMapPairs 1<<16: maps in messages are small (structs are maps with
//     one pair per field); 65536 leaves room for a map per node or client.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:         16 << 20,
		MaxNestingDepth:  32,
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 16,
	}
}

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes == 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxNestingDepth == 0 {
		l.MaxNestingDepth = d.MaxNestingDepth
	}
	if l.MaxArrayElements == 0 {
		l.MaxArrayElements = d.MaxArrayElements
	}
	if l.MaxMapPairs == 0 {
		l.MaxMapPairs = d.MaxMapPairs
	}
	return l
}

// validate reports limits outside what the library supports.
func (l Limits) validate() error {
	switch {
	case l.MaxBytes < 1:
		return fmt.Errorf("codec: MaxBytes %d, want at least 1", l.MaxBytes)
	case l.MaxNestingDepth < minNestingDepth || l.MaxNestingDepth > maxNestingDepth:
		return fmt.Errorf("codec: MaxNestingDepth %d, want %d to %d", l.MaxNestingDepth, minNestingDepth, maxNestingDepth)
	case l.MaxArrayElements < minCount || l.MaxArrayElements > maxCount:
		return fmt.Errorf("codec: MaxArrayElements %d, want %d to %d", l.MaxArrayElements, minCount, maxCount)
	case l.MaxMapPairs < minCount || l.MaxMapPairs > maxCount:
		return fmt.Errorf("codec: MaxMapPairs %d, want %d to %d", l.MaxMapPairs, minCount, maxCount)
	}
	return nil
}

// decOptions are the decoding options for lim, hardened for untrusted
// input.
func decOptions(lim Limits) cbor.DecOptions {
	return cbor.DecOptions{
		// A map with a key twice has two readings; refuse it.
		DupMapKey: cbor.DupMapKeyEnforcedAPF,
		// Indefinite lengths let an input grow without announcing its size;
		// the encoder never writes them.
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  lim.MaxNestingDepth,
		MaxArrayElements: lim.MaxArrayElements,
		MaxMapPairs:      lim.MaxMapPairs,
		// A Go string may hold any bytes and is encoded as it is, so the
		// decoder takes text that is not UTF-8 back as it is.
		UTF8: cbor.UTF8DecodeInvalid,
		// time.Time only from a tag-0 string, as the encoder writes it;
		// scan refuses tag 1 (epoch numbers, which can give times outside
		// the years RFC 3339 can write).
		TimeTag: cbor.DecTagRequired,
		// One spelling per field name: "destmodule" is not "DestModule",
		// so a value has only one encoding.
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}
}

// A Decoder decodes events, messages and other values with its own limits,
// for callers that need other limits than the defaults (the WAL module of
// pkg/wal, whose records may be as large as its log allows; a transport
// with a smaller message size). It
// is safe for concurrent use and sees types registered after its creation.
type Decoder struct {
	limits Limits
	opts   cbor.DecOptions
	// mode caches the library's decoding mode for one registry snapshot;
	// it is rebuilt when a registration publishes a new snapshot.
	mode atomic.Pointer[decMode]
}

// decMode is a decoding mode with the snapshot it was built from.
type decMode struct {
	reg *registry
	dm  cbor.DecMode
}

// defaultDecoder serves the package-level decode functions.
var defaultDecoder = mustDecoder(DefaultLimits())

func mustDecoder(lim Limits) *Decoder {
	d, err := NewDecoder(lim)
	if err != nil {
		panic(err)
	}
	return d
}

// NewDecoder returns a decoder with limits lim. A zero field of lim takes
// its value from DefaultLimits. It returns an error if a limit is out of the
// range the CBOR library supports (see Limits).
func NewDecoder(lim Limits) (*Decoder, error) {
	lim = lim.withDefaults()
	if err := lim.validate(); err != nil {
		return nil, err
	}
	d := &Decoder{limits: lim, opts: decOptions(lim)}
	if _, err := d.modeFor(load()); err != nil {
		return nil, err
	}
	return d, nil
}

// Limits returns the decoder's limits.
func (d *Decoder) Limits() Limits { return d.limits }

// modeFor returns the decoding mode for snapshot r, building it if the
// cached one is for another snapshot. Concurrent callers may both build
// one; either result is correct.
func (d *Decoder) modeFor(r *registry) (cbor.DecMode, error) {
	if m := d.mode.Load(); m != nil && m.reg == r {
		return m.dm, nil
	}
	dm, err := d.opts.DecModeWithTags(r.tags)
	if err != nil {
		return nil, fmt.Errorf("codec: decoding mode: %w", err)
	}
	d.mode.Store(&decMode{reg: r, dm: dm})
	return dm, nil
}

// DecodeEvent decodes an event encoded by EncodeEvent, within the decoder's
// limits; see the package-level DecodeEvent.
func (d *Decoder) DecodeEvent(data []byte) (stdtypes.Event, error) {
	v, err := d.decodeTop(data, kindEvent)
	if err != nil {
		return nil, fmt.Errorf("codec: decode event: %w", err)
	}
	return v.(stdtypes.Event), nil
}

// DecodeMessage decodes a message encoded by EncodeMessage, within the
// decoder's limits; see the package-level DecodeEvent.
func (d *Decoder) DecodeMessage(data []byte) (stdtypes.Message, error) {
	v, err := d.decodeTop(data, kindMessage)
	if err != nil {
		return nil, fmt.Errorf("codec: decode message: %w", err)
	}
	return v.(stdtypes.Message), nil
}

// Unmarshal decodes data into the value v points to, within the decoder's
// limits; see the package-level Unmarshal.
func (d *Decoder) Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("codec: unmarshal into %T: need a non-nil pointer", v)
	}
	r, dm, err := d.prepare(data)
	if err == nil {
		err = unmarshal(dm, data, v)
	}
	if err == nil {
		err = check(r, rv.Elem())
	}
	if err != nil {
		return fmt.Errorf("codec: unmarshal into %T: %w", v, err)
	}
	return nil
}

// prepare runs the checks every decoding starts with: size, then scan. It
// returns the registry snapshot and the decoding mode to use.
func (d *Decoder) prepare(data []byte) (*registry, cbor.DecMode, error) {
	r := load()
	if err := d.check(data, r); err != nil {
		return nil, nil, err
	}
	dm, err := d.modeFor(r)
	if err != nil {
		return nil, nil, err
	}
	return r, dm, nil
}

// check checks the size of data, then scans it with the tags of r (any tag
// if r is nil).
func (d *Decoder) check(data []byte, r *registry) error {
	if len(data) > d.limits.MaxBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), d.limits.MaxBytes)
	}
	return scan(data, r, d.limits)
}

// decodeTop decodes a registered type of kind want (event or message) and
// returns a pointer to it.
func (d *Decoder) decodeTop(data []byte, want kind) (any, error) {
	r, dm, err := d.prepare(data)
	if err != nil {
		return nil, err
	}
	h, err := readHead(data) // Cannot fail: scan read it.
	if err != nil {
		return nil, err
	}
	switch {
	case h.major == majorSimple && (h.arg == simpleNull || h.arg == simpleUndefined):
		return nil, ErrNil
	case h.major != majorTag:
		return nil, fmt.Errorf("%w: no type tag", ErrUnknownType)
	}
	e, ok := r.byTag[h.arg]
	if !ok { // A builtin tag.
		return nil, fmt.Errorf("%w: tag %d", ErrUnknownType, h.arg)
	}
	if e.kind&want == 0 {
		return nil, fmt.Errorf("%w: %s is not %s", ErrWrongKind, e.name, want)
	}
	p := reflect.New(e.typ)
	if err := unmarshal(dm, data, p.Interface()); err != nil {
		return nil, err
	}
	if err := checkValue(r, p.Elem(), e.plan, false, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", e.name, err)
	}
	return p.Interface(), nil
}

// String names the kind for error messages.
func (k kind) String() string {
	switch k {
	case kindEvent:
		return "an event"
	case kindMessage:
		return "a message"
	}
	return "an event or message"
}

// unmarshal decodes data into v with dm, mapping the library's errors to
// sentinels and a panic in the library to ErrMalformed.
func unmarshal(dm cbor.DecMode, data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicError(ErrMalformed, p)
		}
	}()
	if err := dm.Unmarshal(data, v); err != nil {
		return classify(err)
	}
	return nil
}
