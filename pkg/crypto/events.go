package crypto

import (
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Origin says where the answer to a request goes and lets the caller tell
// which request it answers. Every request event carries one and its result
// carries it back unchanged.
//
// ID is a number rather than an arbitrary value on purpose: it costs no
// allocation, every recording encodes it, and a caller keeps whatever it
// needs in its own state under that number (a sequence number, a slot, a
// key in a contextstore.Store), where its replay finds it again.
type Origin struct {
	// Module is the module the result is sent to.
	Module stdtypes.ModuleID
	// ID is chosen by the caller and returned unchanged.
	ID uint64
}

// Validate reports whether the result can be sent: Module is a valid
// module ID.
func (o Origin) Validate() error {
	if err := o.Module.Validate(); err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	return nil
}

// SignRequest asks a crypto module (its destination) to sign each of Msgs
// with the node's private key. The module answers with a SignResult.
type SignRequest struct {
	stdtypes.Header
	Origin Origin
	// Msgs are the messages to sign.
	Msgs [][]byte
}

// NewSignRequest returns a request to module dest to sign msgs. It copies
// the list of messages, not the messages.
func NewSignRequest(dest stdtypes.ModuleID, origin Origin, msgs ...[]byte) *SignRequest {
	return &SignRequest{Header: stdtypes.NewHeader(dest), Origin: origin, Msgs: slices.Clone(msgs)}
}

// SignResult answers a SignRequest: Sigs[i] is the signature of the
// request's Msgs[i].
type SignResult struct {
	stdtypes.Header
	Origin Origin
	Sigs   [][]byte
}

// NewSignResult returns the answer to a request from origin.
func NewSignResult(origin Origin, sigs [][]byte) *SignResult {
	return &SignResult{Header: stdtypes.NewHeader(origin.Module), Origin: origin, Sigs: sigs}
}

// VerifyRequest asks a crypto module (its destination) to verify each of
// Items against the public key of its signer. The module answers with a
// VerifyResult. Invalid signatures and unknown signers are results, not
// errors: the items typically come from other nodes.
type VerifyRequest struct {
	stdtypes.Header
	Origin Origin
	Items  []SigItem
}

// NewVerifyRequest returns a request to module dest to verify items. It
// copies the list of items, not the bytes they hold.
func NewVerifyRequest(dest stdtypes.ModuleID, origin Origin, items ...SigItem) *VerifyRequest {
	return &VerifyRequest{Header: stdtypes.NewHeader(dest), Origin: origin, Items: slices.Clone(items)}
}

// VerifyResult answers a VerifyRequest: Valid[i] tells whether the
// request's Items[i] holds a valid signature, and AllValid whether they
// all do.
type VerifyResult struct {
	stdtypes.Header
	Origin   Origin
	Valid    []bool
	AllValid bool
}

// NewVerifyResult returns the answer to a request from origin.
func NewVerifyResult(origin Origin, valid []bool) *VerifyResult {
	return &VerifyResult{
		Header:   stdtypes.NewHeader(origin.Module),
		Origin:   origin,
		Valid:    valid,
		AllValid: !slices.Contains(valid, false),
	}
}

// HashRequest asks a hasher module (its destination) for the digest of
// each of Inputs, an input being a list of pieces hashed as Digest does.
// The module answers with a HashResult.
type HashRequest struct {
	stdtypes.Header
	Origin Origin
	Inputs [][][]byte
}

// NewHashRequest returns a request to module dest to hash inputs. It copies
// the list of inputs, not the inputs.
func NewHashRequest(dest stdtypes.ModuleID, origin Origin, inputs ...[][]byte) *HashRequest {
	return &HashRequest{Header: stdtypes.NewHeader(dest), Origin: origin, Inputs: slices.Clone(inputs)}
}

// HashResult answers a HashRequest: Digests[i] is the digest of the
// request's Inputs[i].
type HashResult struct {
	stdtypes.Header
	Origin  Origin
	Digests [][]byte
}

// NewHashResult returns the answer to a request from origin.
func NewHashResult(origin Origin, digests [][]byte) *HashResult {
	return &HashResult{Header: stdtypes.NewHeader(origin.Module), Origin: origin, Digests: digests}
}

// The events are registered with package codec so that they can be
// recorded and replayed. The names are part of every encoding: renaming
// one makes recorded data unreadable.
var (
	_ = codec.Register[SignRequest]("crypto.SignRequest")
	_ = codec.Register[SignResult]("crypto.SignResult")
	_ = codec.Register[VerifyRequest]("crypto.VerifyRequest")
	_ = codec.Register[VerifyResult]("crypto.VerifyResult")
	_ = codec.Register[HashRequest]("crypto.HashRequest")
	_ = codec.Register[HashResult]("crypto.HashResult")
)
