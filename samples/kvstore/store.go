package kvstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// Status is the outcome of an operation.
type Status byte

// The statuses. Their values are part of the encoding of a result.
const (
	// OK: the operation was applied; a Get's or CAS's result holds the
	// key's value.
	OK Status = 0
	// Mismatch: a CAS found another value than Old (the result holds it)
	// and wrote nothing.
	Mismatch Status = 1
	// Invalid: the transaction is no operation (DecodeOp refused it).
	Invalid Status = 2
	// Full: the write would take the store's state over its bound.
	Full Status = 3
)

// String names the status.
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Mismatch:
		return "mismatch"
	case Invalid:
		return "invalid"
	case Full:
		return "full"
	}
	return fmt.Sprintf("status(%d)", byte(s))
}

// Result is an operation's result: a Status and, for Get, and for CAS
// with either status, the key's value (after a successful CAS, the value
// it wrote).
type Result struct {
	Status Status
	Value  []byte
}

// Encode returns the result's encoding: the status (1 byte), then the
// value.
func (r Result) Encode() []byte { return append([]byte{byte(r.Status)}, r.Value...) }

// ErrBadResult is wrapped by the errors of DecodeResult.
var ErrBadResult = errors.New("kvstore: bad result")

// DecodeResult decodes a result strictly: a known status, a value within
// MaxValueBytes, and none with Invalid or Full. Value aliases b.
func DecodeResult(b []byte) (Result, error) {
	if len(b) == 0 {
		return Result{}, fmt.Errorf("%w: empty", ErrBadResult)
	}
	r := Result{Status: Status(b[0]), Value: b[1:]}
	switch {
	case r.Status > Full:
		return Result{}, fmt.Errorf("%w: status %d", ErrBadResult, b[0])
	case len(r.Value) > MaxValueBytes:
		return Result{}, fmt.Errorf("%w: value of %d bytes, at most %d", ErrBadResult, len(r.Value), MaxValueBytes)
	case (r.Status == Invalid || r.Status == Full) && len(r.Value) > 0:
		return Result{}, fmt.Errorf("%w: %v with a value", ErrBadResult, r.Status)
	}
	return r, nil
}

// DefaultMaxStateBytes is the default bound of a Store's snapshot: the
// batch fetcher's default bound of an application's state
// (batchfetcher.ModuleParams.MaxAppStateBytes).
const DefaultMaxStateBytes = 1 << 20

// Store is the replicated key-value store: a trantor.App. Its state is
// the keys with a non-empty value, and the membership it decided last
// (SetVoters), which its every snapshot returns for a later epoch.
//
// Everything it does is a function of the operations it applied, in
// order: the results, the snapshots (keys in order) and the memberships,
// so every replica computes the same.
type Store struct {
	kv     map[string][]byte
	voters membership.Voters
	// stateBytes is the length of the snapshot of the current state,
	// kept up to date by every write, so that a write that would take it
	// over maxStateBytes is refused (Full) before it is made.
	stateBytes    int
	maxStateBytes int
}

var _ trantor.App = (*Store)(nil)

// stateVersion is the first byte of every snapshot.
const stateVersion = 1

// emptyStateBytes is the length of the empty store's snapshot: the
// version, no voters, no keys.
const emptyStateBytes = 3

// New returns an empty store whose snapshot stays within maxStateBytes
// (DefaultMaxStateBytes if 0). It must be at least what the membership
// op of MaxVoters voters takes.
func New(maxStateBytes int) (*Store, error) {
	if maxStateBytes == 0 {
		maxStateBytes = DefaultMaxStateBytes
	}
	if min := emptyStateBytes + maxVotersBytes; maxStateBytes < min {
		return nil, fmt.Errorf("kvstore: MaxStateBytes %d, below %d", maxStateBytes, min)
	}
	return &Store{kv: make(map[string][]byte), stateBytes: emptyStateBytes, maxStateBytes: maxStateBytes}, nil
}

// maxVotersBytes bounds the encoding of MaxVoters voters.
const maxVotersBytes = binary.MaxVarintLen64 + MaxVoters*(1+MaxVoterIDBytes+binary.MaxVarintLen64)

// Apply implements trantor.App: it applies each transaction's operation,
// in order. A transaction that is no operation gets Invalid, a write
// that would take the state over its bound Full: a client's mistake must
// not stop the replicas.
func (s *Store) Apply(txs []mempool.Tx) ([][]byte, error) {
	out := make([][]byte, len(txs))
	for i, tx := range txs {
		out[i] = s.apply(tx.Data).Encode()
	}
	return out, nil
}

func (s *Store) apply(data []byte) Result {
	op, err := DecodeOp(data)
	if err != nil {
		return Result{Status: Invalid}
	}
	switch op.Kind {
	case Get:
		return Result{Status: OK, Value: slices.Clone(s.kv[string(op.Key)])}
	case Put:
		return s.write(op.Key, op.Value, Result{Status: OK})
	case CAS:
		cur := s.kv[string(op.Key)]
		if string(cur) != string(op.Old) {
			return Result{Status: Mismatch, Value: slices.Clone(cur)}
		}
		return s.write(op.Key, op.Value, Result{Status: OK, Value: slices.Clone(op.Value)})
	case SetVoters:
		grow := votersBytes(op.Voters) - votersBytes(s.voters)
		if s.stateBytes+grow > s.maxStateBytes {
			return Result{Status: Full}
		}
		s.voters, s.stateBytes = slices.Clone(op.Voters), s.stateBytes+grow
		return Result{Status: OK}
	}
	return Result{Status: Invalid} // DecodeOp returns only the kinds above
}

// write sets key to value (deletes it if empty) and returns ok, or Full if
// the state would grow over its bound.
func (s *Store) write(key, value []byte, ok Result) Result {
	old, had := s.kv[string(key)]
	before, after, keys := 0, 0, len(s.kv)
	if had {
		before, keys = entryBytes(key, old), keys-1
	}
	if len(value) > 0 {
		after, keys = entryBytes(key, value), keys+1
	}
	grow := after - before + uvarintLen(keys) - uvarintLen(len(s.kv))
	if grow > 0 && s.stateBytes+grow > s.maxStateBytes {
		return Result{Status: Full}
	}
	if len(value) == 0 {
		delete(s.kv, string(key))
	} else {
		s.kv[string(key)] = slices.Clone(value)
	}
	s.stateBytes += grow
	return ok
}

// entryBytes is the length of a key and its value in a snapshot.
func entryBytes(key, value []byte) int {
	return uvarintLen(len(key)) + len(key) + uvarintLen(len(value)) + len(value)
}

func votersBytes(v membership.Voters) int {
	n := uvarintLen(len(v))
	for _, x := range v {
		n += uvarintLen(len(x.ID)) + len(x.ID) + len(binary.AppendUvarint(nil, x.Weight))
	}
	return n
}

func uvarintLen(n int) int { return len(binary.AppendUvarint(nil, uint64(n))) }

// Snapshot implements trantor.App:
//
//	state = version (1 byte, = 1) | voters (as in SetVoters) | uvarint(n) | n × (bytes(key) | bytes(value))
//
// with the keys in increasing order. The membership is the one the store
// decided last, or none (unchanged) if it never did.
func (s *Store) Snapshot() ([]byte, membership.Voters, error) {
	b := make([]byte, 0, s.stateBytes)
	b = append(b, stateVersion)
	b = binary.AppendUvarint(b, uint64(len(s.voters)))
	for _, v := range s.voters {
		b = binary.AppendUvarint(appendBytes(b, []byte(v.ID)), v.Weight)
	}
	keys := make([]string, 0, len(s.kv))
	for k := range s.kv {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendBytes(appendBytes(b, []byte(k)), s.kv[k])
	}
	if len(b) != s.stateBytes {
		return nil, nil, fmt.Errorf("kvstore: a snapshot of %d bytes, %d counted", len(b), s.stateBytes)
	}
	return b, slices.Clone(s.voters), nil
}

// ErrBadState is wrapped by the errors of Restore.
var ErrBadState = errors.New("kvstore: bad state")

// Restore implements trantor.App: it decodes a snapshot strictly (the
// encoding Snapshot gives and no other: keys in increasing order, no
// empty value, every limit) and replaces the state with it. On an error
// the store is unchanged.
func (s *Store) Restore(state []byte) error {
	if len(state) > s.maxStateBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrBadState, len(state), s.maxStateBytes)
	}
	d := decoder{b: state}
	if v := d.byte(); d.err == nil && v != stateVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadState, v, stateVersion)
	}
	var voters membership.Voters
	for range d.uvarint(MaxVoters) {
		id := d.bytes(MaxVoterIDBytes)
		voters = append(voters, membership.Voter{ID: stdtypes.NodeID(id), Weight: d.uvarint(membership.MaxWeight)})
	}
	if d.err == nil && len(voters) > 0 {
		if err := voters.Validate(); err != nil {
			d.err = err
		}
	}
	n := d.uvarint(uint64(s.maxStateBytes))
	kv := make(map[string][]byte, min(n, 1<<10))
	var prev string
	for i := range n {
		k, v := d.bytes(MaxKeyBytes), d.bytes(MaxValueBytes)
		if d.err != nil {
			break
		}
		switch {
		case len(k) == 0 || len(v) == 0:
			d.err = errors.New("an empty key or value")
		case i > 0 && strings.Compare(string(k), prev) <= 0:
			d.err = errors.New("keys out of order")
		}
		prev = string(k)
		kv[prev] = slices.Clone(v)
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the state", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("%w: %w", ErrBadState, d.err)
	}
	s.kv, s.voters, s.stateBytes = kv, voters, len(state)
	return nil
}
