// Package crypto gives Mir protocols signatures and hashing through
// events, so that the same protocol code runs with a synchronous module in
// simulation and a parallel one in production.
//
// # Modules and events
//
// A protocol asks the crypto module for signatures with a SignRequest and
// for verification with a VerifyRequest, and the hasher module for digests
// with a HashRequest. Each request holds many items (messages to sign,
// signatures to verify, inputs to hash), which amortizes the cost of an
// event over them, and an Origin: the module the result goes to and an ID
// of the caller's choosing, which comes back unchanged in the SignResult,
// VerifyResult or HashResult. A caller keeps what it needs under that ID
// with a contextstore.Store (package contextstore).
//
// Each module comes in two runtimes answering the same events with the
// same results (see package runner):
//
//   - NewModule and NewHasher return passive modules that compute every
//     result on the node's goroutine, in the order of the requests: for
//     simulation, tests and replay.
//   - NewPool and NewHashPool return active modules that spread the items
//     of each request over a pool of workers, one per core by default, and
//     emit each result when it is complete, so results may come in another
//     order than the requests: for production.
//
// Bad input from other nodes is a result, never an error: a malformed
// signature, a signature by an unknown node, a key of the wrong length all
// verify as false. An error (which stops the node) means a local bug: a
// request with an invalid Origin, an event the module does not handle, a
// node without a private key asked to sign.
//
// # Schemes and keys
//
// Ed25519 (RFC 8032) is the default scheme; ECDSA on P-256 with SHA-256 is
// the other. A PrivateKey or PublicKey wraps the standard library's key,
// which Signer and StdKey return, so a node's transport can use the same
// key for TLS. Keys are made:
//
//   - deterministically for tests and simulations, by KeyPairFromSeed;
//   - at random, by GenerateKey;
//   - from files for deployments: SavePrivateKey and LoadPrivateKey use
//     PEM-encoded PKCS #8, the format crypto/tls and openssl read; the
//     public side is PEM-encoded PKIX.
//
// MarshalBinary gives a short raw form (a scheme byte, then the key), which
// makes a PublicKey encodable by package codec inside events and messages;
// ParsePublicKey reads it. Text gives a public key's text form
// ("ed25519:" and the key in base64), which membership files and the mir
// tool use; ParsePublicKeyText reads it.
//
// NodeCrypto implements Crypto, the plain interface behind the modules, for
// one node: its private key and the public keys of the nodes it knows.
//
// # Verification rules and batch verification
//
// Ed25519 implementations do not all agree on which signatures are valid
// at the edges (non-canonical encodings, points of small order), and
// batch verification agrees with one-by-one verification only under
// cofactored rules. Since nodes must agree, and since the pool splits
// requests into batches differently from the synchronous module, this
// package checks every Ed25519 signature by one set of rules, those of ZIP
// 215, whether alone or in a batch, with github.com/hdevalence/ed25519consensus
// (on filippo.io/edwards25519). Every signature crypto/ed25519 produces,
// and every test vector of RFC 8032, is valid under these rules; they
// differ from crypto/ed25519.Verify only on signatures crafted with points
// of small order or non-canonical encodings, which ZIP 215 accepts.
//
// VerifyMany checks four or more Ed25519 signatures as one batch, about
// twice as cheap per signature as one by one; if the batch fails, it
// checks each on its own to find the invalid ones. Batch verification
// draws random coefficients: an invalid batch passes with probability
// below 2^-128, so results are a function of the input, short of that.
//
// ECDSA signatures are deterministic (RFC 6979), so the two runtimes give
// byte-identical SignResults with both schemes.
//
// # Hashing
//
// A HashRequest input is a list of pieces, hashed as Digest does: each
// piece preceded by its length, so that where pieces end is part of what
// is hashed. SHA-256 is the default function.
package crypto
