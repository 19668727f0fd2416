package crypto

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
)

// HashAlg is a hash function.
type HashAlg uint8

// The hash functions.
const (
	// SHA256 is SHA-256 (FIPS 180-4), the default.
	SHA256 HashAlg = 1
	// SHA512 is SHA-512 (FIPS 180-4).
	SHA512 HashAlg = 2
)

// DefaultHash is the hash function to use when there is no reason to
// choose.
const DefaultHash = SHA256

// String returns the function's name: "sha256" or "sha512".
func (a HashAlg) String() string {
	switch a {
	case SHA256:
		return "sha256"
	case SHA512:
		return "sha512"
	}
	return fmt.Sprintf("HashAlg(%d)", uint8(a))
}

// Validate reports whether a is a known hash function.
func (a HashAlg) Validate() error {
	switch a {
	case SHA256, SHA512:
		return nil
	}
	return fmt.Errorf("unknown hash function %v", a)
}

// Size returns the length of a digest in bytes; 0 for an unknown function.
func (a HashAlg) Size() int {
	switch a {
	case SHA256:
		return sha256.Size
	case SHA512:
		return sha512.Size
	}
	return 0
}

// New returns a new hash.Hash computing a. It panics if a is not a known
// function: Validate first where a comes from configuration.
func (a HashAlg) New() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	}
	panic(fmt.Sprintf("crypto: unknown hash function %v", a))
}

// Digest returns the digest of the pieces, by a, each piece preceded by its
// length as 8 bytes big-endian. The lengths make the digest depend on
// where each piece ends, not just on their concatenation: ("ab", "c") and
// ("a", "bc") have different digests. Because of them, the digest of one
// piece is not the plain digest of its bytes.
func Digest(a HashAlg, pieces ...[]byte) []byte {
	h := a.New()
	return appendDigest(h, nil, pieces)
}

// appendDigest appends to dst the digest of pieces computed by h, which it
// resets first.
func appendDigest(h hash.Hash, dst []byte, pieces [][]byte) []byte {
	h.Reset()
	var n [8]byte
	for _, p := range pieces {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:]) // A hash.Hash never returns an error.
		h.Write(p)
	}
	return h.Sum(dst)
}
