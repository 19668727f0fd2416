package crypto

import (
	stdcrypto "crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/mirframework/mir/stdtypes"
	"strings"

	"github.com/mirframework/mir/internal/keyfile"
)

// Scheme is a signature scheme.
type Scheme uint8

// The schemes. Their numbers are the first byte of a key's raw encoding, so
// they never change.
const (
	// Ed25519 is EdDSA on edwards25519 (RFC 8032), the default. Signatures
	// are 64 bytes and deterministic. Verification follows ZIP 215 (see
	// the package documentation).
	Ed25519 Scheme = 1
	// ECDSAP256 is ECDSA on NIST P-256 with SHA-256. Signatures are ASN.1
	// DER, at most 72 bytes, and deterministic (RFC 6979).
	ECDSAP256 Scheme = 2
)

// DefaultScheme is the scheme to use when there is no reason to choose.
const DefaultScheme = Ed25519

// String returns the scheme's name: "ed25519" or "ecdsa-p256".
func (s Scheme) String() string {
	switch s {
	case Ed25519:
		return "ed25519"
	case ECDSAP256:
		return "ecdsa-p256"
	}
	return fmt.Sprintf("Scheme(%d)", uint8(s))
}

// ParseScheme returns the scheme named name, as spelled by String.
func ParseScheme(name string) (Scheme, error) {
	for _, s := range []Scheme{Ed25519, ECDSAP256} {
		if s.String() == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownScheme, name)
}

// Errors about keys. Parse functions wrap ErrMalformedKey.
var (
	ErrUnknownScheme = errors.New("unknown signature scheme")
	ErrMalformedKey  = errors.New("malformed key")
)

// PublicKey is a public key of one of the schemes. It wraps a standard
// library key: an ed25519.PublicKey or an *ecdsa.PublicKey on P-256, which
// StdKey returns, so the same key can serve TLS. The zero value is not a
// usable key.
type PublicKey struct {
	scheme Scheme
	ed     ed25519.PublicKey
	ec     *ecdsa.PublicKey
}

// PrivateKey is a private key of one of the schemes. It wraps a standard
// library key: an ed25519.PrivateKey or an *ecdsa.PrivateKey on P-256,
// which Signer returns. The zero value is not a usable key.
type PrivateKey struct {
	scheme Scheme
	ed     ed25519.PrivateKey
	ec     *ecdsa.PrivateKey
	pub    PublicKey
}

// Sizes of raw encodings, the scheme byte included.
const (
	ed25519PublicRawSize  = 1 + ed25519.PublicKeySize
	ed25519PrivateRawSize = 1 + ed25519.SeedSize
	p256PublicRawSize     = 1 + 65 // SEC 1 uncompressed point
	p256PrivateRawSize    = 1 + 32
)

// wrongSize returns the error for the raw encoding data of a key of kind
// whose size is not rawSize. It counts the key's bytes, without the scheme
// byte, as the documentation and the text forms of keys do (32 for an
// Ed25519 key).
func wrongSize(kind string, data []byte, rawSize int) error {
	return fmt.Errorf("%w: %s of %d bytes, want %d", ErrMalformedKey, kind, len(data)-1, rawSize-1)
}

// GenerateKey returns a new random key pair of scheme s.
func GenerateKey(s Scheme) (PrivateKey, error) {
	switch s {
	case Ed25519:
		_, k, err := ed25519.GenerateKey(nil)
		if err != nil {
			return PrivateKey{}, fmt.Errorf("generate ed25519 key: %w", err)
		}
		return newEd25519Private(k), nil
	case ECDSAP256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), nil)
		if err != nil {
			return PrivateKey{}, fmt.Errorf("generate ecdsa-p256 key: %w", err)
		}
		return newP256Private(k), nil
	}
	return PrivateKey{}, fmt.Errorf("%w: %v", ErrUnknownScheme, s)
}

// NodeKeysFromSeed returns the key pairs of scheme s of nodes, from seed:
// node i's private key is KeyPairFromSeed(s, seed, i), at keys[i], and
// pubs maps each node to its public key, what New takes. Tests and
// simulations make their nodes' keys with it.
func NodeKeysFromSeed(s Scheme, seed []byte, nodes []stdtypes.NodeID) (keys []PrivateKey, pubs map[stdtypes.NodeID]PublicKey, err error) {
	keys = make([]PrivateKey, len(nodes))
	pubs = make(map[stdtypes.NodeID]PublicKey, len(nodes))
	for i, id := range nodes {
		if keys[i], err = KeyPairFromSeed(s, seed, i); err != nil {
			return nil, nil, err
		}
		pubs[id] = keys[i].Public()
	}
	return keys, pubs, nil
}

// KeyPairFromSeed derives the index-th key pair of scheme s from seed,
// deterministically: the same arguments always give the same key, and
// different indices give unrelated keys. Tests and simulations give node i
// the key KeyPairFromSeed(s, seed, i). The keys are only as secret as seed.
func KeyPairFromSeed(s Scheme, seed []byte, index int) (PrivateKey, error) {
	if index < 0 {
		return PrivateKey{}, fmt.Errorf("key index %d is negative", index)
	}
	// Every input is framed, so that no two (scheme, seed, index, attempt)
	// give the same hash input.
	derive := func(attempt uint32) []byte {
		h := sha256.New()
		h.Write([]byte("mir/crypto key from seed v1\x00"))
		var hdr [1 + 8 + 4 + 8]byte
		hdr[0] = byte(s)
		binary.BigEndian.PutUint64(hdr[1:], uint64(index))
		binary.BigEndian.PutUint32(hdr[9:], attempt)
		binary.BigEndian.PutUint64(hdr[13:], uint64(len(seed)))
		h.Write(hdr[:])
		h.Write(seed)
		return h.Sum(nil)
	}
	switch s {
	case Ed25519:
		return newEd25519Private(ed25519.NewKeyFromSeed(derive(0))), nil
	case ECDSAP256:
		// A 32-byte string is a valid P-256 scalar unless it is zero or not
		// below the group order, which happens with probability about
		// 2^-32 per attempt.
		for attempt := uint32(0); attempt < 64; attempt++ {
			k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), derive(attempt))
			if err == nil {
				return newP256Private(k), nil
			}
		}
		return PrivateKey{}, errors.New("derive ecdsa-p256 key: no valid scalar in 64 attempts")
	}
	return PrivateKey{}, fmt.Errorf("%w: %v", ErrUnknownScheme, s)
}

func newEd25519Private(k ed25519.PrivateKey) PrivateKey {
	return PrivateKey{
		scheme: Ed25519,
		ed:     k,
		pub:    PublicKey{scheme: Ed25519, ed: k.Public().(ed25519.PublicKey)},
	}
}

func newP256Private(k *ecdsa.PrivateKey) PrivateKey {
	return PrivateKey{scheme: ECDSAP256, ec: k, pub: PublicKey{scheme: ECDSAP256, ec: &k.PublicKey}}
}

// FromStdPrivateKey wraps a standard library private key: an
// ed25519.PrivateKey or an *ecdsa.PrivateKey on P-256.
func FromStdPrivateKey(k stdcrypto.PrivateKey) (PrivateKey, error) {
	switch k := k.(type) {
	case ed25519.PrivateKey:
		if len(k) != ed25519.PrivateKeySize {
			return PrivateKey{}, fmt.Errorf("%w: ed25519 private key of %d bytes", ErrMalformedKey, len(k))
		}
		return newEd25519Private(k), nil
	case *ecdsa.PrivateKey:
		if k == nil || k.Curve != elliptic.P256() {
			return PrivateKey{}, fmt.Errorf("%w: ecdsa key not on P-256", ErrUnknownScheme)
		}
		// Round-trip through the raw form, which validates the key.
		raw, err := k.Bytes()
		if err != nil {
			return PrivateKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
		}
		k2, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
		if err != nil {
			return PrivateKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
		}
		return newP256Private(k2), nil
	}
	return PrivateKey{}, fmt.Errorf("%w: %T", ErrUnknownScheme, k)
}

// FromStdPublicKey wraps a standard library public key: an
// ed25519.PublicKey or an *ecdsa.PublicKey on P-256.
func FromStdPublicKey(k stdcrypto.PublicKey) (PublicKey, error) {
	switch k := k.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return PublicKey{}, fmt.Errorf("%w: ed25519 public key of %d bytes", ErrMalformedKey, len(k))
		}
		return PublicKey{scheme: Ed25519, ed: append(ed25519.PublicKey(nil), k...)}, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return PublicKey{}, fmt.Errorf("%w: ecdsa key not on P-256", ErrUnknownScheme)
		}
		raw, err := k.Bytes()
		if err != nil {
			return PublicKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
		}
		return parseP256Public(raw)
	}
	return PublicKey{}, fmt.Errorf("%w: %T", ErrUnknownScheme, k)
}

// Scheme returns the key's scheme; 0 for the zero value.
func (k PrivateKey) Scheme() Scheme { return k.scheme }

// Public returns the public key that goes with k.
func (k PrivateKey) Public() PublicKey { return k.pub }

// Signer returns the standard library key k wraps, an ed25519.PrivateKey or
// an *ecdsa.PrivateKey, for use with crypto/tls and crypto/x509. Nil for
// the zero value.
func (k PrivateKey) Signer() stdcrypto.Signer {
	switch k.scheme {
	case Ed25519:
		return k.ed
	case ECDSAP256:
		return k.ec
	}
	return nil
}

// Sign signs msg: with Ed25519 as RFC 8032 says, with ECDSA over the
// SHA-256 digest of msg, deterministically (RFC 6979).
func (k PrivateKey) Sign(msg []byte) ([]byte, error) {
	switch k.scheme {
	case Ed25519:
		return ed25519.Sign(k.ed, msg), nil
	case ECDSAP256:
		digest := sha256.Sum256(msg)
		// A nil random source asks for a deterministic signature.
		sig, err := k.ec.Sign(nil, digest[:], stdcrypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("ecdsa-p256 sign: %w", err)
		}
		return sig, nil
	}
	return nil, fmt.Errorf("sign: %w: %v", ErrUnknownScheme, k.scheme)
}

// MarshalBinary returns the raw encoding of k: the scheme byte followed by
// the Ed25519 seed (32 bytes) or the P-256 scalar (32 bytes, big-endian).
func (k PrivateKey) MarshalBinary() ([]byte, error) {
	switch k.scheme {
	case Ed25519:
		return append([]byte{byte(Ed25519)}, k.ed.Seed()...), nil
	case ECDSAP256:
		raw, err := k.ec.Bytes()
		if err != nil {
			return nil, fmt.Errorf("marshal ecdsa-p256 key: %w", err)
		}
		return append([]byte{byte(ECDSAP256)}, raw...), nil
	}
	return nil, fmt.Errorf("marshal private key: %w: %v", ErrUnknownScheme, k.scheme)
}

// ParsePrivateKey parses the raw encoding MarshalBinary returns.
func ParsePrivateKey(data []byte) (PrivateKey, error) {
	if len(data) == 0 {
		return PrivateKey{}, fmt.Errorf("%w: empty", ErrMalformedKey)
	}
	switch Scheme(data[0]) {
	case Ed25519:
		if len(data) != ed25519PrivateRawSize {
			return PrivateKey{}, wrongSize("ed25519 private key", data, ed25519PrivateRawSize)
		}
		return newEd25519Private(ed25519.NewKeyFromSeed(data[1:])), nil
	case ECDSAP256:
		if len(data) != p256PrivateRawSize {
			return PrivateKey{}, wrongSize("ecdsa-p256 private key", data, p256PrivateRawSize)
		}
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), data[1:])
		if err != nil {
			return PrivateKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
		}
		return newP256Private(k), nil
	}
	return PrivateKey{}, fmt.Errorf("%w: %w: scheme byte %d", ErrMalformedKey, ErrUnknownScheme, data[0])
}

// Scheme returns the key's scheme; 0 for the zero value.
func (k PublicKey) Scheme() Scheme { return k.scheme }

// StdKey returns the standard library key k wraps, an ed25519.PublicKey or
// an *ecdsa.PublicKey. Nil for the zero value.
func (k PublicKey) StdKey() stdcrypto.PublicKey {
	switch k.scheme {
	case Ed25519:
		return k.ed
	case ECDSAP256:
		return k.ec
	}
	return nil
}

// Equal reports whether k and o are the same key.
func (k PublicKey) Equal(o PublicKey) bool {
	if k.scheme != o.scheme {
		return false
	}
	switch k.scheme {
	case Ed25519:
		return k.ed.Equal(o.ed)
	case ECDSAP256:
		return k.ec.Equal(o.ec)
	}
	return true
}

// MarshalBinary returns the raw encoding of k: the scheme byte followed by
// the Ed25519 key (32 bytes) or the uncompressed P-256 point (65 bytes).
// It makes a PublicKey encodable by package codec.
func (k PublicKey) MarshalBinary() ([]byte, error) {
	switch k.scheme {
	case Ed25519:
		return append([]byte{byte(Ed25519)}, k.ed...), nil
	case ECDSAP256:
		raw, err := k.ec.Bytes()
		if err != nil {
			return nil, fmt.Errorf("marshal ecdsa-p256 key: %w", err)
		}
		return append([]byte{byte(ECDSAP256)}, raw...), nil
	}
	return nil, fmt.Errorf("marshal public key: %w: %v", ErrUnknownScheme, k.scheme)
}

// UnmarshalBinary sets k to the key data encodes, as ParsePublicKey.
func (k *PublicKey) UnmarshalBinary(data []byte) error {
	parsed, err := ParsePublicKey(data)
	if err != nil {
		return err
	}
	*k = parsed
	return nil
}

// ParsePublicKey parses the raw encoding MarshalBinary returns. A P-256
// point must be on the curve and not the point at infinity.
func ParsePublicKey(data []byte) (PublicKey, error) {
	if len(data) == 0 {
		return PublicKey{}, fmt.Errorf("%w: empty", ErrMalformedKey)
	}
	switch Scheme(data[0]) {
	case Ed25519:
		if len(data) != ed25519PublicRawSize {
			return PublicKey{}, wrongSize("ed25519 public key", data, ed25519PublicRawSize)
		}
		return PublicKey{scheme: Ed25519, ed: append(ed25519.PublicKey(nil), data[1:]...)}, nil
	case ECDSAP256:
		if len(data) != p256PublicRawSize {
			return PublicKey{}, wrongSize("ecdsa-p256 public key", data, p256PublicRawSize)
		}
		return parseP256Public(data[1:])
	}
	return PublicKey{}, fmt.Errorf("%w: %w: scheme byte %d", ErrMalformedKey, ErrUnknownScheme, data[0])
}

func parseP256Public(raw []byte) (PublicKey, error) {
	k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	return PublicKey{scheme: ECDSAP256, ec: k}, nil
}

// maxKeyTextBytes bounds the text form of a public key: a P-256 point, the
// longest, takes 88 base64 characters.
const maxKeyTextBytes = 256

// Text returns the text form of k, which membership files and the mir tool
// use: the scheme's name (Scheme.String), a colon, and the key in standard
// base64: the 32 bytes of an Ed25519 key, the 65 bytes of an uncompressed
// P-256 point. ParsePublicKeyText parses it. The zero key gives "".
func (k PublicKey) Text() string {
	raw, err := k.MarshalBinary()
	if err != nil {
		return ""
	}
	// raw is the scheme byte, then the key.
	return k.scheme.String() + ":" + base64.StdEncoding.EncodeToString(raw[1:])
}

// ParsePublicKeyText parses the text form Text returns. Its errors wrap
// ErrMalformedKey, whether the text or the key it holds is at fault.
func ParsePublicKeyText(s string) (PublicKey, error) {
	if len(s) > maxKeyTextBytes {
		return PublicKey{}, fmt.Errorf("%w: %d characters, at most %d", ErrMalformedKey, len(s), maxKeyTextBytes)
	}
	name, b64, ok := strings.Cut(s, ":")
	if !ok {
		return PublicKey{}, fmt.Errorf("%w: %q is not scheme:base64", ErrMalformedKey, s)
	}
	scheme, err := ParseScheme(name)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	return ParsePublicKey(append([]byte{byte(scheme)}, key...)) // Its errors wrap ErrMalformedKey.
}

// PEM block types: the standard ones, so that the files are those
// crypto/tls and openssl read.
const (
	pemPrivateType = "PRIVATE KEY" // PKCS #8
	pemPublicType  = "PUBLIC KEY"  // PKIX (SubjectPublicKeyInfo)
)

// MarshalPEM returns k as a PEM "PRIVATE KEY" block (PKCS #8), the form
// crypto/tls and openssl read.
func (k PrivateKey) MarshalPEM() ([]byte, error) {
	s := k.Signer()
	if s == nil {
		return nil, fmt.Errorf("marshal private key: %w: %v", ErrUnknownScheme, k.scheme)
	}
	der, err := x509.MarshalPKCS8PrivateKey(s)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateType, Bytes: der}), nil
}

// MarshalPEM returns k as a PEM "PUBLIC KEY" block (PKIX).
func (k PublicKey) MarshalPEM() ([]byte, error) {
	std := k.StdKey()
	if std == nil {
		return nil, fmt.Errorf("marshal public key: %w: %v", ErrUnknownScheme, k.scheme)
	}
	der, err := x509.MarshalPKIXPublicKey(std)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicType, Bytes: der}), nil
}

// ParsePrivateKeyPEM parses the first PEM block of data, which must be a
// PKCS #8 "PRIVATE KEY" of one of the schemes. Nothing but white space
// may follow the block.
func ParsePrivateKeyPEM(data []byte) (PrivateKey, error) {
	der, err := pemBlock(data, pemPrivateType)
	if err != nil {
		return PrivateKey{}, err
	}
	std, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	return FromStdPrivateKey(std)
}

// ParsePublicKeyPEM parses the first PEM block of data, which must be a
// PKIX "PUBLIC KEY" of one of the schemes. Nothing but white space may
// follow the block.
func ParsePublicKeyPEM(data []byte) (PublicKey, error) {
	der, err := pemBlock(data, pemPublicType)
	if err != nil {
		return PublicKey{}, err
	}
	std, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	return FromStdPublicKey(std)
}

// pemBlock returns the bytes of the only PEM block in data, of type typ.
func pemBlock(data []byte, typ string) ([]byte, error) {
	block, rest := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf("%w: no PEM block", ErrMalformedKey)
	case block.Type != typ:
		return nil, fmt.Errorf("%w: PEM block of type %q, want %q", ErrMalformedKey, block.Type, typ)
	case len(block.Headers) != 0:
		return nil, fmt.Errorf("%w: PEM block with headers", ErrMalformedKey)
	case len(trimSpace(rest)) != 0:
		return nil, fmt.Errorf("%w: data after the PEM block", ErrMalformedKey)
	}
	return block.Bytes, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// maxKeyFileBytes bounds what the Load functions read: a PEM key of the
// supported schemes is a few hundred bytes.
const maxKeyFileBytes = 64 << 10

// SavePrivateKey writes k to the file path in PEM (see MarshalPEM),
// readable by its owner only. It refuses to overwrite an existing file.
func SavePrivateKey(path string, k PrivateKey) error {
	data, err := k.MarshalPEM()
	if err != nil {
		return err
	}
	return keyfile.WriteNew(path, data, 0o600)
}

// SavePublicKey writes k to the file path in PEM (see MarshalPEM). It
// refuses to overwrite an existing file.
func SavePublicKey(path string, k PublicKey) error {
	data, err := k.MarshalPEM()
	if err != nil {
		return err
	}
	return keyfile.WriteNew(path, data, 0o644)
}

// LoadPrivateKey reads a private key written by SavePrivateKey (or any
// PKCS #8 PEM file of a supported scheme, such as openssl writes).
func LoadPrivateKey(path string) (PrivateKey, error) {
	data, err := keyfile.ReadSmall(path, maxKeyFileBytes)
	if err != nil {
		return PrivateKey{}, err
	}
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads a public key written by SavePublicKey (or any PKIX
// PEM file of a supported scheme).
func LoadPublicKey(path string) (PublicKey, error) {
	data, err := keyfile.ReadSmall(path, maxKeyFileBytes)
	if err != nil {
		return PublicKey{}, err
	}
	k, err := ParsePublicKeyPEM(data)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}
