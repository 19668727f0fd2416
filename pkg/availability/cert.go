package availability

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// Certificate is an availability certificate: signatures of a weak quorum
// of epoch Epoch's voters over the digest of a batch that Leader proposed
// for its Buckets in that epoch. It is the value ISS orders.
type Certificate struct {
	Epoch   stdtypes.EpochNr
	Leader  stdtypes.NodeID
	Buckets []int
	// Digest is BatchDigest(Epoch, Leader, Buckets, the transactions).
	Digest []byte
	// Signers are the signers, each once, in the order of the epoch's
	// voters; Sigs[i] is Signers[i]'s signature of SignedBytes(Digest).
	Signers []stdtypes.NodeID
	Sigs    [][]byte
}

// Bounds of a certificate's encoding. A certificate is untrusted input
// (a leader's proposal): each bound keeps what its decoding allocates
// small before any signature is checked.
const (
	// DigestBytes is the size of a batch digest (SHA-256).
	DigestBytes = 32
	// MaxSignatureBytes bounds a signature: an Ed25519 signature has 64
	// bytes, an ECDSA P-256 one at most 72.
	MaxSignatureBytes = 128
	// MaxNodeIDBytes bounds a node ID in a certificate.
	MaxNodeIDBytes = 256
	// certVersion is the first byte of every encoding: a new encoding
	// gets a new one.
	certVersion = 1
)

// digestDomain and signDomain separate what availability hashes and signs
// from anything else a node hashes or signs with the same keys.
var (
	digestDomain = []byte("mir/availability batch v1")
	signDomain   = []byte("mir/availability sign v1\x00")
)

// ErrBadCertificate is wrapped by the errors of certificates that do not
// decode or do not verify.
var ErrBadCertificate = errors.New("invalid availability certificate")

// BatchDigest returns the digest of a batch: SHA-256 (crypto.Digest, which
// frames each piece with its length) of the pieces
//
//	"mir/availability batch v1", Epoch (8 bytes big-endian), Leader,
//	the buckets (4 bytes big-endian each, in one piece), then for each
//	transaction its ClientID, its TxNo (8) and its Data.
//
// The framing and the fixed number of pieces per transaction make it
// injective: two batches differ in some field exactly when their pieces
// do. The epoch, the leader and the buckets are in it, so that a
// signature of a batch is worth nothing for another leader, epoch or
// segment.
func BatchDigest(epoch stdtypes.EpochNr, leader stdtypes.NodeID, buckets []int, txs []mempool.Tx) []byte {
	bs := make([]byte, 0, 4*len(buckets))
	for _, b := range buckets {
		bs = binary.BigEndian.AppendUint32(bs, uint32(b))
	}
	pieces := make([][]byte, 0, 4+3*len(txs))
	pieces = append(pieces, digestDomain, binary.BigEndian.AppendUint64(nil, uint64(epoch)), []byte(leader), bs)
	nos := make([]byte, 8*len(txs))
	for i, tx := range txs {
		no := nos[8*i : 8*i+8]
		binary.BigEndian.PutUint64(no, tx.TxNo)
		pieces = append(pieces, []byte(tx.ClientID), no, tx.Data)
	}
	return crypto.Digest(crypto.SHA256, pieces...)
}

// SignedBytes returns what a node signs to vouch that it stores the batch
// with digest digest: the domain, then the digest.
func SignedBytes(digest []byte) []byte {
	b := make([]byte, 0, len(signDomain)+len(digest))
	return append(append(b, signDomain...), digest...)
}

// Encode returns the certificate's canonical encoding:
//
//	version (1 byte, 1), Epoch (8 bytes big-endian),
//	Leader (2-byte length, bytes), the buckets (2-byte count, 4 bytes each),
//	Digest (32 bytes), the signatures (2-byte count, then for each the
//	signer (2-byte length, bytes) and the signature (2-byte length, bytes)).
//
// DecodeCertificate accepts exactly the encodings Encode produces.
func (c Certificate) Encode() []byte {
	n := 1 + 8 + 2 + len(c.Leader) + 2 + 4*len(c.Buckets) + len(c.Digest) + 2
	for i := range c.Signers {
		n += 4 + len(c.Signers[i]) + len(c.Sigs[i])
	}
	b := make([]byte, 0, n)
	b = append(b, certVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Epoch))
	b = appendBytes16(b, []byte(c.Leader))
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Buckets)))
	for _, x := range c.Buckets {
		b = binary.BigEndian.AppendUint32(b, uint32(x))
	}
	b = append(b, c.Digest...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Signers)))
	for i, s := range c.Signers {
		b = appendBytes16(b, []byte(s))
		b = appendBytes16(b, c.Sigs[i])
	}
	return b
}

func appendBytes16(b, x []byte) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(x))), x...)
}

// DecodeCertificate decodes a certificate strictly: the version, every
// length within its bound (buckets below maxBuckets and increasing, node
// IDs of 1 to MaxNodeIDBytes bytes, 1 to membership.MaxNodes signers,
// each once, signatures of 1 to MaxSignatureBytes bytes), and nothing
// after the end. It checks no signature: that needs the epoch's voters
// (VerifyCertificate).
func DecodeCertificate(data []byte, maxBuckets int) (Certificate, error) {
	r := reader{data: data}
	var c Certificate
	if v := r.byte(); v != certVersion && r.err == nil {
		return c, fmt.Errorf("%w: version %d", ErrBadCertificate, v)
	}
	c.Epoch = stdtypes.EpochNr(r.u64())
	c.Leader = stdtypes.NodeID(r.id())
	nb := int(r.u16())
	if nb > maxBuckets {
		return c, fmt.Errorf("%w: %d buckets, at most %d", ErrBadCertificate, nb, maxBuckets)
	}
	c.Buckets = make([]int, 0, min(nb, r.left()/4))
	for range nb {
		x := int64(r.u32())
		if r.err == nil && (x >= int64(maxBuckets) || (len(c.Buckets) > 0 && x <= int64(c.Buckets[len(c.Buckets)-1]))) {
			return c, fmt.Errorf("%w: bucket %d out of range or order", ErrBadCertificate, x)
		}
		c.Buckets = append(c.Buckets, int(x))
	}
	c.Digest = bytes.Clone(r.take(DigestBytes))
	ns := int(r.u16())
	if r.err == nil && (ns == 0 || ns > membership.MaxNodes) {
		return c, fmt.Errorf("%w: %d signers", ErrBadCertificate, ns)
	}
	for range ns {
		s := stdtypes.NodeID(r.id())
		sig := r.bytes16()
		if r.err != nil {
			break
		}
		if len(sig) == 0 || len(sig) > MaxSignatureBytes {
			return c, fmt.Errorf("%w: signature of %q of %d bytes", ErrBadCertificate, s, len(sig))
		}
		if slices.Contains(c.Signers, s) {
			return c, fmt.Errorf("%w: signer %q repeated", ErrBadCertificate, s)
		}
		c.Signers = append(c.Signers, s)
		c.Sigs = append(c.Sigs, sig)
	}
	if r.err != nil {
		return c, fmt.Errorf("%w: %w", ErrBadCertificate, r.err)
	}
	if r.left() != 0 {
		return c, fmt.Errorf("%w: %d bytes after the end", ErrBadCertificate, r.left())
	}
	return c, nil
}

// VerifyCertificate checks everything about cert that needs no public
// key, against voters, the voters of its epoch: every signer a voter, and
// a weak quorum of weight (DecodeCertificate checked that they are
// distinct). It returns the signatures to verify: cert is valid if and
// only if the error is nil and every item is valid, which a crypto module
// tells (a crypto.VerifyRequest of the items, in one batch).
func VerifyCertificate(cert Certificate, voters membership.Voters) ([]crypto.SigItem, error) {
	if len(cert.Signers) > len(voters) {
		return nil, fmt.Errorf("%w: %d signers of %d voters", ErrBadCertificate, len(cert.Signers), len(voters))
	}
	msg := SignedBytes(cert.Digest)
	items := make([]crypto.SigItem, len(cert.Signers))
	var weight uint64
	for i, s := range cert.Signers {
		w, ok := voters.Weight(s)
		if !ok {
			return nil, fmt.Errorf("%w: signer %q is not a voter of epoch %d", ErrBadCertificate, s, cert.Epoch)
		}
		weight += w
		items[i] = crypto.SigItem{Msg: msg, Sig: cert.Sigs[i], Signer: s}
	}
	if !voters.IsWeakQuorum(weight) {
		return nil, fmt.Errorf("%w: signers of weight %d of %d, not a weak quorum", ErrBadCertificate, weight, voters.Total())
	}
	return items, nil
}

// reader reads a certificate; its first error sticks, and every read
// after it returns zeros.
type reader struct {
	data []byte
	off  int
	err  error
}

var errShort = errors.New("truncated")

func (r *reader) left() int { return len(r.data) - r.off }

func (r *reader) take(n int) []byte {
	if r.err != nil || n > r.left() {
		r.err = firstErr(r.err, errShort)
		return nil
	}
	b := r.data[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

func firstErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *reader) bytes16() []byte {
	n := int(r.u16())
	return bytes.Clone(r.take(n))
}

// id reads a node ID of 1 to MaxNodeIDBytes bytes.
func (r *reader) id() string {
	b := r.bytes16()
	if r.err == nil && (len(b) == 0 || len(b) > MaxNodeIDBytes) {
		r.err = fmt.Errorf("node ID of %d bytes", len(b))
	}
	return string(b)
}
