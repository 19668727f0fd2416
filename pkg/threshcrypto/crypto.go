package threshcrypto

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"

	"github.com/mirframework/mir/stdtypes"
)

// ThreshCrypto is what the threshold crypto modules ask of a threshold
// signature scheme. Every check must be deterministic: whether a share or
// signature is valid depends on it and the message only. Implementations
// must be safe for concurrent use: a Pool calls them from several
// goroutines at once.
type ThreshCrypto interface {
	// SignShare returns this node's signature share of msg.
	SignShare(msg []byte) ([]byte, error)
	// VerifyShare checks that share is signer's valid signature share of
	// msg. It returns nil or an error wrapping ErrMalformed,
	// ErrInvalidSignature or ErrUnknownSigner.
	VerifyShare(msg, share []byte, signer stdtypes.NodeID) error
	// Recover returns the full signature of msg from shares, of which at
	// least the threshold must be valid. See BLS.Recover.
	Recover(msg []byte, shares [][]byte) ([]byte, error)
	// VerifyFull checks that sig is the group's valid signature of msg. It
	// returns nil or an error wrapping ErrMalformed or ErrInvalidSignature.
	VerifyFull(msg, sig []byte) error
}

// BLS is the ThreshCrypto of one node: t-of-n threshold BLS signatures on
// BLS12-381, with signatures in G1 (48 bytes) and public keys in G2. A
// share is this node's key share times the hash of the message to G1; t
// shares give the full signature, the group's secret times the hash, by
// Lagrange interpolation in the exponent. Full signatures are ordinary BLS
// signatures under the group's public key. It is safe for concurrent use.
type BLS struct {
	pub *PublicKey
	// share is nil for a node that only verifies and recovers.
	share *KeyShare
	// secret is share.secret prepared for constant-time multiplication.
	secret *secretScalar
	// index maps each member to its share index (1-based).
	index map[stdtypes.NodeID]int
	// groupLines and shareLines[i-1] are the precomputed pairing lines of
	// the group key and of share i's key.
	groupLines lines
	shareLines []lines

	// verified remembers shares that passed VerifyShare, so that Recover
	// does not check them again.
	verified *fifoCache[cacheKey, bls.G1Affine]
	// hashes remembers the hashes to G1 of recent messages, by their
	// SHA-256 digest: a node hashes each message once, not once for its
	// share, once per share it verifies and once more for the full
	// signature.
	hashes *fifoCache[[sha256.Size]byte, bls.G1Affine]
}

// VerifiedShareCacheSize is how many verified shares a BLS remembers for
// Recover. Beyond it, the oldest are forgotten, and Recover checks them
// again if it gets them: that costs time, never correctness. A few
// thousand covers many concurrent signing instances of a large system, for
// about a megabyte.
const VerifiedShareCacheSize = 4096

// hashCacheSize is how many hashes of messages a BLS remembers. Hashing
// costs about a tenth of a millisecond; the messages a node signs or
// checks at once are few (those of the protocol instances in progress),
// and an entry takes about 200 bytes.
const hashCacheSize = 1024

// New returns the ThreshCrypto of a node holding share (nil for a node that
// only verifies and recovers) of the threshold key pub, for the nodes:
// nodes[i] holds share i+1. It checks that the share matches the public
// key.
func New(pub *PublicKey, share *KeyShare, nodes []stdtypes.NodeID) (*BLS, error) {
	if pub == nil {
		return nil, fmt.Errorf("threshcrypto: nil public key")
	}
	if len(nodes) != pub.n {
		return nil, fmt.Errorf("threshcrypto: %d nodes for a key of %d shares", len(nodes), pub.n)
	}
	c := &BLS{
		pub:        pub,
		share:      share,
		index:      make(map[stdtypes.NodeID]int, len(nodes)),
		groupLines: bls.PrecomputeLines(pub.group),
		shareLines: make([]lines, pub.n),
		verified:   newFIFOCache[cacheKey, bls.G1Affine](VerifiedShareCacheSize),
		hashes:     newFIFOCache[[sha256.Size]byte, bls.G1Affine](hashCacheSize),
	}
	for i, id := range nodes {
		if _, dup := c.index[id]; dup {
			return nil, fmt.Errorf("threshcrypto: node %q is listed twice", id)
		}
		c.index[id] = i + 1
		c.shareLines[i] = bls.PrecomputeLines(pub.shares[i])
	}
	if share != nil {
		if share.index < 1 || share.index > pub.n {
			return nil, fmt.Errorf("threshcrypto: key share %d of a key of %d shares", share.index, pub.n)
		}
		if want := mulSecretG2Base(&share.secret); !want.Equal(&pub.shares[share.index-1]) {
			return nil, fmt.Errorf("threshcrypto: key share %d does not match the public key", share.index)
		}
		c.secret = newSecretScalar(&share.secret)
	}
	return c, nil
}

// SignShare returns this node's signature share of msg: its index (2
// bytes) and the signature under its key share (48 bytes).
func (c *BLS) SignShare(msg []byte) ([]byte, error) {
	if c.share == nil {
		return nil, ErrNoKeyShare
	}
	digest := sha256.Sum256(msg)
	h, err := c.hash(msg, &digest)
	if err != nil {
		return nil, err
	}
	sig := c.secret.mulSecret(&h)
	out := make([]byte, 2, ShareSize)
	binary.BigEndian.PutUint16(out, uint16(c.share.index))
	enc := sig.Bytes()
	return append(out, enc[:]...), nil
}

// parseShareIndex returns the index a share claims, checking its length
// and that the index is one of the key's.
func (c *BLS) parseShareIndex(share []byte) (int, error) {
	if len(share) != ShareSize {
		return 0, fmt.Errorf("%w: share of %d bytes, want %d", ErrMalformed, len(share), ShareSize)
	}
	idx := int(binary.BigEndian.Uint16(share))
	if idx < 1 || idx > c.pub.n {
		return 0, fmt.Errorf("%w: %d", ErrUnknownIndex, idx)
	}
	return idx, nil
}

// VerifyShare checks that share is signer's valid signature share of msg.
// A share that passes is remembered, so that Recover need not check it
// again.
func (c *BLS) VerifyShare(msg, share []byte, signer stdtypes.NodeID) error {
	want, ok := c.index[signer]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownSigner, signer)
	}
	idx, err := c.parseShareIndex(share)
	if err != nil {
		return err
	}
	if idx != want {
		return fmt.Errorf("%w: share of index %d from node %q, whose index is %d", ErrInvalidSignature, idx, signer, want)
	}
	key := newCacheKey(msg, share)
	if _, ok := c.verified.get(&key); ok {
		return nil
	}
	_, err = c.verifyShare(msg, share, idx, &key)
	return err
}

// verifyShare checks share, of index idx, against msg, and remembers it
// under key, which holds msg's digest, if valid. It returns the share's
// point.
func (c *BLS) verifyShare(msg, share []byte, idx int, key *cacheKey) (bls.G1Affine, error) {
	p, err := decodeG1(share[2:])
	if err != nil {
		return p, err
	}
	h, err := c.hash(msg, &key.digest)
	if err != nil {
		return p, err
	}
	if !pairingCheck(&p, &h, &c.shareLines[idx-1]) {
		return p, fmt.Errorf("%w: share %d", ErrInvalidSignature, idx)
	}
	c.verified.put(key, p)
	return p, nil
}

// Recover returns the full signature of msg from shares. It checks each
// share that VerifyShare has not accepted before (recently: see
// VerifiedShareCacheSize), skips those that are invalid, and combines the
// first t valid ones; so the result is a valid signature whenever at least
// t of the shares are valid, and Recover from shares a protocol has
// verified one by one as they arrived costs no pairing at all.
//
// It returns an error wrapping ErrMalformed, ErrUnknownIndex or
// ErrDuplicateIndex if a share has the wrong length or an index of no
// node, or two shares have the same index, and ErrNotEnoughShares if fewer
// than t shares are valid.
func (c *BLS) Recover(msg []byte, shares [][]byte) ([]byte, error) {
	idx := make([]int, len(shares))
	seen := make(map[int]bool, len(shares))
	for i, s := range shares {
		var err error
		if idx[i], err = c.parseShareIndex(s); err != nil {
			return nil, fmt.Errorf("share %d: %w", i, err)
		}
		if seen[idx[i]] {
			return nil, fmt.Errorf("%w: %d", ErrDuplicateIndex, idx[i])
		}
		seen[idx[i]] = true
	}
	if len(shares) < c.pub.t {
		return nil, fmt.Errorf("%w: %d shares for a threshold of %d", ErrNotEnoughShares, len(shares), c.pub.t)
	}

	digest := sha256.Sum256(msg)
	useIdx := make([]int, 0, c.pub.t)
	points := make([]bls.G1Affine, 0, c.pub.t)
	for i, s := range shares {
		key := cacheKeyOf(&digest, s)
		p, ok := c.verified.get(&key)
		if !ok {
			var err error
			if p, err = c.verifyShare(msg, s, idx[i], &key); err != nil {
				continue // An invalid share: others may do.
			}
		}
		useIdx = append(useIdx, idx[i])
		points = append(points, p)
		if len(points) == c.pub.t {
			sig := interpolate(useIdx, points)
			enc := sig.Bytes()
			return enc[:], nil
		}
	}
	return nil, fmt.Errorf("%w: %d valid of %d, threshold %d", ErrNotEnoughShares, len(points), len(shares), c.pub.t)
}

// VerifyFull checks that sig is the group's valid signature of msg.
func (c *BLS) VerifyFull(msg, sig []byte) error {
	p, err := decodeG1(sig)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(msg)
	h, err := c.hash(msg, &digest)
	if err != nil {
		return err
	}
	if !pairingCheck(&p, &h, &c.groupLines) {
		return ErrInvalidSignature
	}
	return nil
}

// PublicKey returns the threshold public key.
func (c *BLS) PublicKey() *PublicKey { return c.pub }

// cacheKey identifies a share of a message: the message's SHA-256 digest
// and the share's bytes.
type cacheKey struct {
	digest [sha256.Size]byte
	share  [ShareSize]byte
}

func newCacheKey(msg, share []byte) cacheKey {
	digest := sha256.Sum256(msg)
	return cacheKeyOf(&digest, share)
}

func cacheKeyOf(digest *[sha256.Size]byte, share []byte) cacheKey {
	k := cacheKey{digest: *digest}
	copy(k.share[:], share)
	return k
}

// hash returns the hash to G1 of msg, whose SHA-256 digest is digest,
// from the memory of recent hashes if it is there.
func (c *BLS) hash(msg []byte, digest *[sha256.Size]byte) (bls.G1Affine, error) {
	if h, ok := c.hashes.get(digest); ok {
		return h, nil
	}
	h, err := hashToG1(msg)
	if err != nil {
		return h, err
	}
	c.hashes.put(digest, h)
	return h, nil
}

// fifoCache remembers up to a fixed number of values, forgetting the
// oldest first. It is safe for concurrent use.
type fifoCache[K comparable, V any] struct {
	mu      sync.Mutex
	values  map[K]V
	order   []K // A ring of the keys, oldest at next once full.
	next    int
	maxSize int
}

func newFIFOCache[K comparable, V any](size int) *fifoCache[K, V] {
	return &fifoCache[K, V]{values: make(map[K]V), maxSize: size}
}

func (c *fifoCache[K, V]) get(k *K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.values[*k]
	return v, ok
}

func (c *fifoCache[K, V]) put(k *K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.values[*k]; ok {
		return
	}
	if len(c.order) < c.maxSize {
		c.order = append(c.order, *k)
	} else {
		delete(c.values, c.order[c.next])
		c.order[c.next] = *k
		c.next = (c.next + 1) % c.maxSize
	}
	c.values[*k] = v
}
