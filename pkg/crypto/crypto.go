package crypto

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"

	"github.com/hdevalence/ed25519consensus"

	"github.com/mirframework/mir/stdtypes"
)

// Errors of signing and verification. Verify wraps one of them.
var (
	ErrInvalidSignature = errors.New("invalid signature")
	ErrUnknownSigner    = errors.New("unknown signer")
	ErrNoPrivateKey     = errors.New("no private key")
)

// Verify checks that sig is a valid signature of msg by k. It returns nil
// or an error wrapping ErrInvalidSignature; it never panics, whatever the
// bytes.
//
// Ed25519 signatures are checked by the rules of ZIP 215 (cofactored
// verification, which batch verification needs to agree with verification
// one by one); see the package documentation. ECDSA signatures are checked
// over the SHA-256 digest of msg; as everywhere, both (r, s) and (r, -s)
// are valid.
func (k PublicKey) Verify(msg, sig []byte) error {
	var ok bool
	switch k.scheme {
	case Ed25519:
		ok = ed25519consensus.Verify(k.ed, msg, sig)
	case ECDSAP256:
		digest := sha256.Sum256(msg)
		ok = ecdsa.VerifyASN1(k.ec, digest[:], sig)
	default:
		return fmt.Errorf("%w: key of %v", ErrInvalidSignature, k.scheme)
	}
	if !ok {
		return ErrInvalidSignature
	}
	return nil
}

// SigItem is one signature to verify: Sig is to be Signer's signature of
// Msg.
type SigItem struct {
	Msg    []byte
	Sig    []byte
	Signer stdtypes.NodeID
}

// Crypto is what the crypto modules ask of a signature scheme: sign with
// this node's key, verify signatures of the nodes it knows. Verification
// must be deterministic: whether a signature is valid depends on the
// signature, the message and the signer's key only, however the items are
// grouped into calls. Implementations must be safe for concurrent use: a
// Pool calls them from several goroutines at once.
type Crypto interface {
	// Sign returns this node's signature of msg.
	Sign(msg []byte) ([]byte, error)
	// Verify checks that sig is signer's signature of msg. It returns nil
	// or an error wrapping ErrInvalidSignature or ErrUnknownSigner.
	Verify(msg, sig []byte, signer stdtypes.NodeID) error
	// VerifyMany sets valid[i] to whether items[i] is a valid signature,
	// as Verify would decide. len(valid) must equal len(items).
	VerifyMany(items []SigItem, valid []bool)
}

// NodeCrypto is the Crypto of one node: its private key and the public
// keys of the nodes it knows (the membership, typically the same keys the
// transport uses). Nodes may use different schemes. It is immutable and
// safe for concurrent use.
type NodeCrypto struct {
	key     PrivateKey
	members map[stdtypes.NodeID]PublicKey
}

// minBatch is the smallest number of Ed25519 signatures VerifyMany checks
// as one batch: below it, the batch's fixed costs eat its gain.
const minBatch = 4

// New returns the Crypto of a node whose private key is key, knowing the
// public keys of members. A zero key makes a node that only verifies. The
// map is copied.
func New(key PrivateKey, members map[stdtypes.NodeID]PublicKey) (*NodeCrypto, error) {
	if key.scheme != 0 && key.Signer() == nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownScheme, key.scheme)
	}
	for id, pk := range members {
		if pk.StdKey() == nil {
			return nil, fmt.Errorf("public key of node %q: %w: scheme %v", id, ErrMalformedKey, pk.scheme)
		}
	}
	return &NodeCrypto{key: key, members: maps.Clone(members)}, nil
}

// Sign returns this node's signature of msg.
func (c *NodeCrypto) Sign(msg []byte) ([]byte, error) {
	if c.key.scheme == 0 {
		return nil, ErrNoPrivateKey
	}
	return c.key.Sign(msg)
}

// Verify checks that sig is signer's signature of msg.
func (c *NodeCrypto) Verify(msg, sig []byte, signer stdtypes.NodeID) error {
	pk, ok := c.members[signer]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownSigner, signer)
	}
	return pk.Verify(msg, sig)
}

// VerifyMany checks many signatures. Ed25519 signatures, when there are at
// least a few, are checked in one batch, about twice as fast per signature
// as one by one; if the batch fails, each is checked on its own to find
// the bad ones. The results are those of Verify.
func (c *NodeCrypto) VerifyMany(items []SigItem, valid []bool) {
	if len(valid) != len(items) {
		panic(fmt.Sprintf("crypto: VerifyMany with %d items and %d results", len(items), len(valid)))
	}
	nEd := 0
	for i, it := range items {
		pk, ok := c.members[it.Signer]
		valid[i] = false
		if !ok {
			continue
		}
		if pk.scheme == Ed25519 {
			nEd++
			continue
		}
		valid[i] = pk.Verify(it.Msg, it.Sig) == nil
	}
	if nEd == 0 {
		return
	}
	if nEd >= minBatch {
		bv := ed25519consensus.NewPreallocatedBatchVerifier(nEd)
		for _, it := range items {
			if pk, ok := c.members[it.Signer]; ok && pk.scheme == Ed25519 {
				bv.Add(pk.ed, it.Msg, it.Sig)
			}
		}
		if bv.Verify() {
			for i, it := range items {
				if pk, ok := c.members[it.Signer]; ok && pk.scheme == Ed25519 {
					valid[i] = true
				}
			}
			return
		}
	}
	for i, it := range items {
		if pk, ok := c.members[it.Signer]; ok && pk.scheme == Ed25519 {
			valid[i] = ed25519consensus.Verify(pk.ed, it.Msg, it.Sig)
		}
	}
}

// PublicKey returns the public key of node id, if known.
func (c *NodeCrypto) PublicKey(id stdtypes.NodeID) (PublicKey, bool) {
	pk, ok := c.members[id]
	return pk, ok
}
