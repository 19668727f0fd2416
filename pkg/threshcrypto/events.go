package threshcrypto

import (
	"slices"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// The requests carry a crypto.Origin, as those of package crypto do: the
// module the result goes to and an ID the caller chooses, returned
// unchanged in the result.

// SignShareRequest asks a threshold crypto module (its destination) for
// this node's signature share of each of Msgs. It answers with a
// SignShareResult.
type SignShareRequest struct {
	stdtypes.Header
	Origin crypto.Origin
	Msgs   [][]byte
}

// NewSignShareRequest returns a request to module dest for shares of msgs.
// It copies the list of messages, not the messages.
func NewSignShareRequest(dest stdtypes.ModuleID, origin crypto.Origin, msgs ...[]byte) *SignShareRequest {
	return &SignShareRequest{Header: stdtypes.NewHeader(dest), Origin: origin, Msgs: slices.Clone(msgs)}
}

// SignShareResult answers a SignShareRequest: Shares[i] is this node's
// share of the request's Msgs[i].
type SignShareResult struct {
	stdtypes.Header
	Origin crypto.Origin
	Shares [][]byte
}

// NewSignShareResult returns the answer to a request from origin.
func NewSignShareResult(origin crypto.Origin, shares [][]byte) *SignShareResult {
	return &SignShareResult{Header: stdtypes.NewHeader(origin.Module), Origin: origin, Shares: shares}
}

// ShareItem is one signature share to verify: Share is to be Signer's
// share of Msg.
type ShareItem struct {
	Msg    []byte
	Share  []byte
	Signer stdtypes.NodeID
}

// VerifyShareRequest asks a threshold crypto module (its destination) to
// verify each of Items. It answers with a VerifyShareResult. Shares that
// pass are remembered, so that a later RecoverRequest does not check them
// again.
type VerifyShareRequest struct {
	stdtypes.Header
	Origin crypto.Origin
	Items  []ShareItem
}

// NewVerifyShareRequest returns a request to module dest to verify items.
// It copies the list of items, not the bytes they hold.
func NewVerifyShareRequest(dest stdtypes.ModuleID, origin crypto.Origin, items ...ShareItem) *VerifyShareRequest {
	return &VerifyShareRequest{Header: stdtypes.NewHeader(dest), Origin: origin, Items: slices.Clone(items)}
}

// VerifyShareResult answers a VerifyShareRequest: Valid[i] tells whether
// the request's Items[i] is a valid share, and AllValid whether they all
// are.
type VerifyShareResult struct {
	stdtypes.Header
	Origin   crypto.Origin
	Valid    []bool
	AllValid bool
}

// NewVerifyShareResult returns the answer to a request from origin.
func NewVerifyShareResult(origin crypto.Origin, valid []bool) *VerifyShareResult {
	return &VerifyShareResult{Header: stdtypes.NewHeader(origin.Module), Origin: origin, Valid: valid, AllValid: !slices.Contains(valid, false)}
}

// RecoverItem is one full signature to recover: that of Msg, from Shares.
type RecoverItem struct {
	Msg    []byte
	Shares [][]byte
}

// RecoverRequest asks a threshold crypto module (its destination) to
// recover the full signature of each of Items (see BLS.Recover). It
// answers with a RecoverResult.
type RecoverRequest struct {
	stdtypes.Header
	Origin crypto.Origin
	Items  []RecoverItem
}

// NewRecoverRequest returns a request to module dest to recover items. It
// copies the list of items, not the bytes they hold.
func NewRecoverRequest(dest stdtypes.ModuleID, origin crypto.Origin, items ...RecoverItem) *RecoverRequest {
	return &RecoverRequest{Header: stdtypes.NewHeader(dest), Origin: origin, Items: slices.Clone(items)}
}

// RecoverResult answers a RecoverRequest: Sigs[i] is the full signature
// recovered from the request's Items[i], or nil if it could not be (too
// few valid shares, malformed or duplicate shares); OK[i] tells which.
type RecoverResult struct {
	stdtypes.Header
	Origin crypto.Origin
	Sigs   [][]byte
	OK     []bool
}

// NewRecoverResult returns the answer to a request from origin.
func NewRecoverResult(origin crypto.Origin, sigs [][]byte, ok []bool) *RecoverResult {
	return &RecoverResult{Header: stdtypes.NewHeader(origin.Module), Origin: origin, Sigs: sigs, OK: ok}
}

// FullItem is one full signature to verify: Sig is to be the group's
// signature of Msg.
type FullItem struct {
	Msg []byte
	Sig []byte
}

// VerifyFullRequest asks a threshold crypto module (its destination) to
// verify each of Items. It answers with a VerifyFullResult.
type VerifyFullRequest struct {
	stdtypes.Header
	Origin crypto.Origin
	Items  []FullItem
}

// NewVerifyFullRequest returns a request to module dest to verify items.
// It copies the list of items, not the bytes they hold.
func NewVerifyFullRequest(dest stdtypes.ModuleID, origin crypto.Origin, items ...FullItem) *VerifyFullRequest {
	return &VerifyFullRequest{Header: stdtypes.NewHeader(dest), Origin: origin, Items: slices.Clone(items)}
}

// VerifyFullResult answers a VerifyFullRequest: Valid[i] tells whether the
// request's Items[i] is a valid full signature, and AllValid whether they
// all are.
type VerifyFullResult struct {
	stdtypes.Header
	Origin   crypto.Origin
	Valid    []bool
	AllValid bool
}

// NewVerifyFullResult returns the answer to a request from origin.
func NewVerifyFullResult(origin crypto.Origin, valid []bool) *VerifyFullResult {
	return &VerifyFullResult{Header: stdtypes.NewHeader(origin.Module), Origin: origin, Valid: valid, AllValid: !slices.Contains(valid, false)}
}

// The events are registered with package codec so that they can be
// recorded and replayed. The names are part of every encoding: renaming
// one makes recorded data unreadable.
var (
	_ = codec.Register[SignShareRequest]("threshcrypto.SignShareRequest")
	_ = codec.Register[SignShareResult]("threshcrypto.SignShareResult")
	_ = codec.Register[VerifyShareRequest]("threshcrypto.VerifyShareRequest")
	_ = codec.Register[VerifyShareResult]("threshcrypto.VerifyShareResult")
	_ = codec.Register[RecoverRequest]("threshcrypto.RecoverRequest")
	_ = codec.Register[RecoverResult]("threshcrypto.RecoverResult")
	_ = codec.Register[VerifyFullRequest]("threshcrypto.VerifyFullRequest")
	_ = codec.Register[VerifyFullResult]("threshcrypto.VerifyFullResult")
)
