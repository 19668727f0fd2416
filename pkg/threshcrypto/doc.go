// Package threshcrypto gives Mir protocols t-of-n threshold signatures
// through events: each node signs a share of a message, any t valid shares
// combine into one full signature, which anyone verifies with the group's
// public key as an ordinary BLS signature.
//
// # Modules and events
//
// Like package crypto, it has a synchronous module (NewModule: passive,
// deterministic, for simulation, tests and replay) and a parallel one
// (NewPool: active, for production) answering the same events with the
// same results, built with package runner:
//
//   - SignShareRequest: this node's shares of messages (SignShareResult);
//   - VerifyShareRequest: checks shares from other nodes
//     (VerifyShareResult);
//   - RecoverRequest: full signatures from shares (RecoverResult);
//   - VerifyFullRequest: checks full signatures (VerifyFullResult).
//
// Each request holds many items and a crypto.Origin, returned unchanged in
// the result. Bad input (malformed shares, shares of unknown or duplicate
// indices, points off the curve or outside the subgroup) is a result
// (false, or no signature), never an error or a panic.
//
// # The scheme
//
// BLS signatures on BLS12-381 (github.com/consensys/gnark-crypto), with
// signatures in G1 (48 bytes compressed) and public keys in G2 (96 bytes),
// messages hashed to G1 as RFC 9380 says with the domain separation tag of
// the basic scheme of the IETF BLS signature draft. A trusted dealer
// (Deal, DealFromSeed) draws a polynomial f of degree t-1 and gives node i
// (1-based, in the order of the membership) the key share f(i); the group
// key is f(0) times the generator of G2. A share is the node's index (2
// bytes) and its BLS signature under its key share; the full signature is
// the group secret times the hash of the message, which Lagrange
// interpolation in the exponent obtains from any t shares.
//
// Every point decoded from input is checked: canonical compressed
// encoding, on the curve, in the prime-order subgroup, not the identity.
//
// # Recovering without checking twice
//
// A protocol typically verifies shares as they arrive (a pairing each)
// and recovers once it has t valid ones. BLS remembers the shares that
// passed VerifyShare (the last VerifiedShareCacheSize of them), so Recover
// uses those as they are and verifies only the shares it has not seen;
// invalid ones are skipped, and recovery succeeds whenever t of the shares
// are valid. Likewise it remembers the hashes to G1 of recent messages, so
// that the n shares and the full signature of one message cost one hash,
// not n+1. The memories change how long operations take, never what they
// return, so the modules stay deterministic.
//
// For small sets of small indices, as in most deployments, the Lagrange
// coefficients are fractions of small integers, which Recover exploits:
// recovering 3 of 4 costs a few point additions and at most one
// multiplication by the inverse of the common denominator, about half a
// full scalar multiplication for the denominator 3 of shares 1, 2 and 4.
//
// # Constant time
//
// Whatever computes on a secret takes the same time, and reads the same
// memory, whatever the secret: signing a share (the key share times the
// hash of the message), checking in New that the key share matches the
// public key, dealing (reducing random bytes to scalars, evaluating the
// polynomial, making the public keys) and decoding a key share. Their
// scalar multiplications (ctcurve.go) read every entry of their tables and
// keep one with masks, add with complete formulas that need no branch for
// the identity or for doubling, and invert by exponentiation; their field
// additions are this package's, since the library's branch on whether to
// reduce. They rely on the library's Montgomery multiplication being
// constant-time, which it is in assembly (amd64 with ADX, arm64), not in
// its Go fallback (amd64 without ADX, the purego build tag, other
// architectures).
//
// Everything else computes on public values only and may take the faster,
// variable-time paths of the library and of scalarmul.go: hashing the
// message to G1, decoding points, the pairing checks of verification, and
// recovery, whose Lagrange coefficients come from the public indices of
// public shares. Constant time costs signing about a third more time per
// share, nearly twice as much when the message's hash is remembered (see
// BENCHMARKS.md).
//
// TestDudect checks the timing of signing and of making public keys with
// Welch's t-test between a fixed secret and random ones, in the manner of
// dudect; it runs for a few seconds in CI and longer by hand (see
// dudect_test.go).
//
// # Keys
//
// Deal and DealFromSeed make keys; PublicKey and KeyShare have binary
// encodings (MarshalBinary, ParsePublicKey, ParseKeyShare) and PEM files
// (SavePublicKey, LoadPublicKey, SaveKeyShare, LoadKeyShare) for
// deployment tools.
package threshcrypto
