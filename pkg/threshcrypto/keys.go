package threshcrypto

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"github.com/mirframework/mir/internal/keyfile"
)

// PublicKey is the public side of a t-of-n threshold key: the group's
// public key, which full signatures verify against, and the public key of
// each of the n shares, which signature shares verify against. Share i
// (1-based) belongs to the i-th node of the membership. A PublicKey is
// immutable.
type PublicKey struct {
	t, n int
	// group is the public key of the group, f(0) * g2 for the dealer's
	// secret polynomial f.
	group bls.G2Affine
	// shares[i-1] is the public key of share i, f(i) * g2.
	shares []bls.G2Affine
}

// KeyShare is one node's share of a threshold key: its index i (1-based)
// and its secret f(i). Keep it secret.
type KeyShare struct {
	index  int
	secret fr.Element
}

// Threshold returns t, the number of shares a full signature needs.
func (k *PublicKey) Threshold() int { return k.t }

// N returns the number of shares.
func (k *PublicKey) N() int { return k.n }

// Index returns the share's index, from 1 to n.
func (s *KeyShare) Index() int { return s.index }

// Deal makes a t-of-n threshold key as a trusted dealer: it draws a random
// polynomial f of degree t-1 from rng (crypto/rand if nil) and returns the
// public key and the n shares, share i (1-based) being f(i). The dealer
// knows every share: run it only where that is acceptable (tests,
// deployment tools run by the operator of all nodes).
func Deal(t, n int, rng io.Reader) (*PublicKey, []*KeyShare, error) {
	if rng == nil {
		rng = rand.Reader
	}
	return deal(t, n, func() (fr.Element, error) {
		var buf [48]byte // 128 bits more than the field: negligible bias.
		if _, err := io.ReadFull(rng, buf[:]); err != nil {
			return fr.Element{}, fmt.Errorf("deal: %w", err)
		}
		return scalarFromBytes(buf[:]), nil
	})
}

// DealFromSeed makes a t-of-n threshold key like Deal, deterministically
// from seed: the same arguments give the same key. Tests and simulations
// use it; the key is only as secret as the seed.
func DealFromSeed(t, n int, seed []byte) (*PublicKey, []*KeyShare, error) {
	counter := uint64(0)
	return deal(t, n, func() (fr.Element, error) {
		// Two SHA-256 blocks of a framed (seed, counter) per coefficient.
		var buf []byte
		for half := range 2 {
			h := sha256.New()
			h.Write([]byte("mir/threshcrypto deal from seed v1\x00"))
			var hdr [8 + 8 + 1]byte
			binary.BigEndian.PutUint64(hdr[:], uint64(len(seed)))
			binary.BigEndian.PutUint64(hdr[8:], counter)
			hdr[16] = byte(half)
			h.Write(hdr[:])
			h.Write(seed)
			buf = h.Sum(buf)
		}
		counter++
		return scalarFromBytes(buf), nil
	})
}

// deal makes a key from the coefficients draw returns.
func deal(t, n int, draw func() (fr.Element, error)) (*PublicKey, []*KeyShare, error) {
	if err := checkTN(t, n); err != nil {
		return nil, nil, err
	}
	coeffs := make([]fr.Element, t)
	for i := range coeffs {
		for {
			c, err := draw()
			if err != nil {
				return nil, nil, err
			}
			// A zero secret (f(0) = 0) would be the identity as public key.
			// It comes with probability 2^-255; redraw, to be exact.
			if i == 0 && c.IsZero() {
				continue
			}
			coeffs[i] = c
			break
		}
	}
	pub := &PublicKey{t: t, n: n, shares: make([]bls.G2Affine, n)}
	pub.group = mulSecretG2Base(&coeffs[0])
	shares := make([]*KeyShare, n)
	for i := 1; i <= n; i++ {
		// f(i) by Horner's rule, in constant time.
		var x, y fr.Element
		x.SetUint64(uint64(i))
		for j := t - 1; j >= 0; j-- {
			y.Mul(&y, &x)
			addScalar(&y, &y, &coeffs[j])
		}
		if y.IsZero() {
			// Probability about n * 2^-255; a share must not be zero.
			return nil, nil, errors.New("deal: zero share; deal again")
		}
		shares[i-1] = &KeyShare{index: i, secret: y}
		pub.shares[i-1] = mulSecretG2Base(&y)
	}
	return pub, shares, nil
}

func checkTN(t, n int) error {
	if n < 1 || n > MaxNodes {
		return fmt.Errorf("threshold key of %d shares: n must be between 1 and %d", n, MaxNodes)
	}
	if t < 1 || t > n {
		return fmt.Errorf("threshold key %d of %d: t must be between 1 and n", t, n)
	}
	return nil
}

// Encoding versions, the first byte of each encoding.
const (
	publicKeyVersion = 1
	keyShareVersion  = 1
)

// MarshalBinary returns the encoding of k: a version byte, t and n (2
// bytes each, big-endian), the group key and then the n share keys, each
// a compressed G2 point (96 bytes).
func (k *PublicKey) MarshalBinary() ([]byte, error) {
	out := make([]byte, 5, 5+(1+k.n)*g2Size)
	out[0] = publicKeyVersion
	binary.BigEndian.PutUint16(out[1:], uint16(k.t))
	binary.BigEndian.PutUint16(out[3:], uint16(k.n))
	g := k.group.Bytes()
	out = append(out, g[:]...)
	for i := range k.shares {
		s := k.shares[i].Bytes()
		out = append(out, s[:]...)
	}
	return out, nil
}

// ParsePublicKey decodes the encoding MarshalBinary returns. Every point
// must be in G2 and not the identity. It does not check that the share
// keys lie on one polynomial with the group key: the dealer is trusted.
func ParsePublicKey(data []byte) (*PublicKey, error) {
	if len(data) < 5 {
		return nil, fmt.Errorf("%w: public key of %d bytes", ErrMalformed, len(data))
	}
	if data[0] != publicKeyVersion {
		return nil, fmt.Errorf("%w: public key version %d", ErrMalformed, data[0])
	}
	t := int(binary.BigEndian.Uint16(data[1:]))
	n := int(binary.BigEndian.Uint16(data[3:]))
	if err := checkTN(t, n); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if want := 5 + (1+n)*g2Size; len(data) != want {
		return nil, fmt.Errorf("%w: public key of %d bytes, want %d for n = %d", ErrMalformed, len(data), want, n)
	}
	k := &PublicKey{t: t, n: n, shares: make([]bls.G2Affine, n)}
	var err error
	rest := data[5:]
	if k.group, err = decodeG2(rest[:g2Size]); err != nil {
		return nil, fmt.Errorf("group key: %w", err)
	}
	for i := range k.shares {
		rest = rest[g2Size:]
		if k.shares[i], err = decodeG2(rest[:g2Size]); err != nil {
			return nil, fmt.Errorf("key of share %d: %w", i+1, err)
		}
	}
	return k, nil
}

// MarshalBinary returns the encoding of s: a version byte, the index (2
// bytes, big-endian) and the secret (32 bytes, big-endian).
func (s *KeyShare) MarshalBinary() ([]byte, error) {
	out := make([]byte, 3, 3+fr.Bytes)
	out[0] = keyShareVersion
	binary.BigEndian.PutUint16(out[1:], uint16(s.index))
	b := s.secret.Bytes()
	return append(out, b[:]...), nil
}

// ParseKeyShare decodes the encoding MarshalBinary returns. The secret
// must be canonical and not zero, the index between 1 and MaxNodes.
func ParseKeyShare(data []byte) (*KeyShare, error) {
	if len(data) != 3+fr.Bytes {
		return nil, fmt.Errorf("%w: key share of %d bytes, want %d", ErrMalformed, len(data), 3+fr.Bytes)
	}
	if data[0] != keyShareVersion {
		return nil, fmt.Errorf("%w: key share version %d", ErrMalformed, data[0])
	}
	s := &KeyShare{index: int(binary.BigEndian.Uint16(data[1:]))}
	if s.index < 1 || s.index > MaxNodes {
		return nil, fmt.Errorf("%w: key share index %d", ErrMalformed, s.index)
	}
	var canonical bool
	if s.secret, canonical = scalarFromBytesCanonical(data[3:]); !canonical {
		return nil, fmt.Errorf("%w: key share secret not below the group order", ErrMalformed)
	}
	if s.secret.IsZero() {
		return nil, fmt.Errorf("%w: zero key share", ErrMalformed)
	}
	return s, nil
}

// PEM block types of the key files.
const (
	pemPublicType = "MIR THRESHOLD BLS12-381 PUBLIC KEY"
	pemShareType  = "MIR THRESHOLD BLS12-381 KEY SHARE"
)

// maxKeyFileBytes bounds what the Load functions read: a public key of
// MaxNodes shares in PEM.
const maxKeyFileBytes = (5+(1+MaxNodes)*g2Size)*4/3 + 4096

// SavePublicKey writes k to the file path in PEM. It refuses to overwrite
// an existing file.
func SavePublicKey(path string, k *PublicKey) error {
	data, _ := k.MarshalBinary() // Never fails.
	return keyfile.WriteNew(path, pem.EncodeToMemory(&pem.Block{Type: pemPublicType, Bytes: data}), 0o644)
}

// SaveKeyShare writes s to the file path in PEM, readable by its owner
// only. It refuses to overwrite an existing file.
func SaveKeyShare(path string, s *KeyShare) error {
	data, _ := s.MarshalBinary() // Never fails.
	return keyfile.WriteNew(path, pem.EncodeToMemory(&pem.Block{Type: pemShareType, Bytes: data}), 0o600)
}

// LoadPublicKey reads a public key written by SavePublicKey.
func LoadPublicKey(path string) (*PublicKey, error) {
	der, err := loadPEM(path, pemPublicType)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadKeyShare reads a key share written by SaveKeyShare.
func LoadKeyShare(path string) (*KeyShare, error) {
	der, err := loadPEM(path, pemShareType)
	if err != nil {
		return nil, err
	}
	s, err := ParseKeyShare(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// loadPEM reads the file path, which must hold one PEM block of type typ
// and nothing else but white space, and returns the block's bytes.
func loadPEM(path, typ string) ([]byte, error) {
	data, err := keyfile.ReadSmall(path, maxKeyFileBytes)
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf("%s: %w: no PEM block", path, ErrMalformed)
	case block.Type != typ:
		return nil, fmt.Errorf("%s: %w: PEM block of type %q, want %q", path, ErrMalformed, block.Type, typ)
	case len(block.Headers) != 0:
		return nil, fmt.Errorf("%s: %w: PEM block with headers", path, ErrMalformed)
	}
	for _, c := range rest {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return nil, fmt.Errorf("%s: %w: data after the PEM block", path, ErrMalformed)
		}
	}
	return block.Bytes, nil
}
