package kvstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// Limits on what one operation carries, so that a transaction is small
// (within the mempool's default transaction size) and the store's state
// bounded by MaxStateBytes.
const (
	// MaxKeyBytes bounds a key.
	MaxKeyBytes = 128
	// MaxValueBytes bounds a value.
	MaxValueBytes = 1024
	// MaxVoters bounds the membership one operation sets: far above the
	// deployments Trantor is run with, and small enough for one
	// transaction.
	MaxVoters = 64
	// MaxVoterIDBytes bounds a voter's ID in an operation.
	MaxVoterIDBytes = 64
)

// Kind is an operation's kind.
type Kind byte

// The kinds of operations. Their values are part of the encoding.
const (
	// Put sets Key to Value (the empty value deletes the key).
	Put Kind = 1
	// Get reads Key.
	Get Kind = 2
	// CAS sets Key to Value if it holds Old (compare and swap).
	CAS Kind = 3
	// SetVoters decides the membership of a later epoch (reconfiguration):
	// an operator's operation (clients are not authenticated: see
	// docs/trantor.md).
	SetVoters Kind = 4
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Put:
		return "put"
	case Get:
		return "get"
	case CAS:
		return "cas"
	case SetVoters:
		return "setvoters"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// Op is an operation on the store. A key that was never put, or was put
// the empty value, holds the empty value.
type Op struct {
	Kind Kind
	// Key is the key of Put, Get and CAS.
	Key []byte
	// Value is what Put and CAS write.
	Value []byte
	// Old is the value CAS expects.
	Old []byte
	// Voters are SetVoters' membership.
	Voters membership.Voters
}

// ErrBadOp is wrapped by the errors of DecodeOp and Op.Encode.
var ErrBadOp = errors.New("kvstore: bad operation")

// opVersion is the first byte of every encoded operation: a decoder
// refuses any other.
const opVersion = 1

// Validate reports whether the operation is within the limits.
func (o Op) Validate() error {
	switch o.Kind {
	case Put, Get, CAS:
		if len(o.Key) == 0 || len(o.Key) > MaxKeyBytes {
			return fmt.Errorf("%w: key of %d bytes, want 1 to %d", ErrBadOp, len(o.Key), MaxKeyBytes)
		}
		if len(o.Value) > MaxValueBytes || len(o.Old) > MaxValueBytes {
			return fmt.Errorf("%w: value of %d bytes or old value of %d, at most %d", ErrBadOp, len(o.Value), len(o.Old), MaxValueBytes)
		}
		if o.Kind != CAS && len(o.Old) > 0 || o.Kind == Get && len(o.Value) > 0 || len(o.Voters) > 0 {
			return fmt.Errorf("%w: %v with fields it has not", ErrBadOp, o.Kind)
		}
	case SetVoters:
		if len(o.Key) > 0 || len(o.Value) > 0 || len(o.Old) > 0 {
			return fmt.Errorf("%w: %v with fields it has not", ErrBadOp, o.Kind)
		}
		if len(o.Voters) > MaxVoters {
			return fmt.Errorf("%w: %d voters, at most %d", ErrBadOp, len(o.Voters), MaxVoters)
		}
		for _, v := range o.Voters {
			if len(v.ID) > MaxVoterIDBytes {
				return fmt.Errorf("%w: voter ID of %d bytes, at most %d", ErrBadOp, len(v.ID), MaxVoterIDBytes)
			}
		}
		if err := o.Voters.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrBadOp, err)
		}
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrBadOp, byte(o.Kind))
	}
	return nil
}

// Encode returns the operation's encoding:
//
//	op     = version (1 byte, = 1) | kind (1 byte) | body
//	put    = bytes(key) | bytes(value)
//	get    = bytes(key)
//	cas    = bytes(key) | bytes(old) | bytes(value)
//	voters = uvarint(n) | n × (bytes(id) | uvarint(weight))
//	bytes(b) = uvarint(len(b)) | b
//
// with every uvarint in its shortest form. An operation that Validate
// refuses is an error.
func (o Op) Encode() ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	b := []byte{opVersion, byte(o.Kind)}
	switch o.Kind {
	case Put:
		b = appendBytes(appendBytes(b, o.Key), o.Value)
	case Get:
		b = appendBytes(b, o.Key)
	case CAS:
		b = appendBytes(appendBytes(appendBytes(b, o.Key), o.Old), o.Value)
	case SetVoters:
		b = binary.AppendUvarint(b, uint64(len(o.Voters)))
		for _, v := range o.Voters {
			b = binary.AppendUvarint(appendBytes(b, []byte(v.ID)), v.Weight)
		}
	}
	return b, nil
}

// DecodeOp decodes an operation strictly: the encoding Encode gives and no
// other (no trailing bytes, no long uvarints, every limit checked). The
// operation's byte slices alias b.
func DecodeOp(b []byte) (Op, error) {
	d := decoder{b: b}
	if v := d.byte(); v != opVersion {
		return Op{}, fmt.Errorf("%w: version %d, want %d", ErrBadOp, v, opVersion)
	}
	o := Op{Kind: Kind(d.byte())}
	switch o.Kind {
	case Put:
		o.Key, o.Value = d.bytes(MaxKeyBytes), d.bytes(MaxValueBytes)
	case Get:
		o.Key = d.bytes(MaxKeyBytes)
	case CAS:
		o.Key, o.Old, o.Value = d.bytes(MaxKeyBytes), d.bytes(MaxValueBytes), d.bytes(MaxValueBytes)
	case SetVoters:
		n := d.uvarint(MaxVoters)
		for range n {
			if d.err != nil {
				break
			}
			id := d.bytes(MaxVoterIDBytes)
			o.Voters = append(o.Voters, membership.Voter{ID: stdtypes.NodeID(id), Weight: d.uvarint(membership.MaxWeight)})
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the operation", len(d.b))
	}
	if d.err != nil {
		return Op{}, fmt.Errorf("%w: %w", ErrBadOp, d.err)
	}
	if err := o.Validate(); err != nil {
		return Op{}, err
	}
	return o, nil
}

// appendBytes appends bytes(x) to b.
func appendBytes(b, x []byte) []byte { return append(binary.AppendUvarint(b, uint64(len(x))), x...) }

// decoder reads a strict encoding; the first error sticks, and every
// read after it returns zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errors.New("truncated")
		return 0
	}
	x := d.b[0]
	d.b = d.b[1:]
	return x
}

// uvarint reads a uvarint in its shortest form, at most max.
func (d *decoder) uvarint(max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	switch {
	case n <= 0:
		d.err = errors.New("bad uvarint")
	case n != len(binary.AppendUvarint(nil, x)):
		d.err = errors.New("uvarint not in its shortest form")
	case x > max:
		d.err = fmt.Errorf("%d above its limit %d", x, max)
	}
	if d.err != nil {
		return 0
	}
	d.b = d.b[n:]
	return x
}

// bytes reads bytes(x) of at most max bytes.
func (d *decoder) bytes(max int) []byte {
	n := d.uvarint(uint64(max))
	if d.err != nil {
		return nil
	}
	if uint64(len(d.b)) < n {
		d.err = errors.New("truncated")
		return nil
	}
	x := d.b[:n:n]
	d.b = d.b[n:]
	return x
}
