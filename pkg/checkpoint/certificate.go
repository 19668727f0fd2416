package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// stateDomain and signDomain separate what the module hashes and signs
// from anything else a node hashes or signs with the same keys: a
// signature of a checkpoint is worth nothing as another protocol's, and
// the other way round.
var (
	stateDomain = []byte("mir/checkpoint state v1")
	signDomain  = []byte("mir/checkpoint sign v1\x00")
)

// StateHashInput returns the canonical encoding of s that StateHash hashes:
// pieces for crypto.Digest (which frames each with its length), so a
// hasher module (crypto.HashRequest) computes the same digest. Every field
// is in it, in this order:
//
//	"mir/checkpoint state v1", Epoch (8 bytes big-endian), SeqNr (8),
//	AppData, len(Voters) (8), then for each membership its number of
//	voters (8) and for each voter its ID and Weight (8), and Protocol.
//
// The counts and crypto.Digest's length framing make the encoding
// injective: two States differ in some field exactly when their inputs
// differ. A nil and an empty byte slice encode the same (a codec may turn
// one into the other). Changing this encoding changes every hash: it is
// part of the protocol, and versioned by the domain string.
func StateHashInput(s State) [][]byte {
	n := 5 + 1
	for _, v := range s.Voters {
		n += 1 + 2*len(v)
	}
	pieces := make([][]byte, 0, n)
	pieces = append(pieces, stateDomain, be64(uint64(s.Epoch)), be64(uint64(s.SeqNr)), s.AppData, be64(uint64(len(s.Voters))))
	for _, v := range s.Voters {
		pieces = append(pieces, be64(uint64(len(v))))
		for _, x := range v {
			pieces = append(pieces, []byte(x.ID), be64(x.Weight))
		}
	}
	return append(pieces, s.Protocol)
}

// StateHash returns the digest of s by alg: crypto.Digest of
// StateHashInput(s). It is what a Certificate's StateHash holds when the
// nodes' hasher modules use alg.
func StateHash(alg crypto.HashAlg, s State) []byte {
	return crypto.Digest(alg, StateHashInput(s)...)
}

func be64(x uint64) []byte { return binary.BigEndian.AppendUint64(nil, x) }

// StateBytes returns the size of s that ModuleParams.MaxStateBytes bounds:
// its AppData, its Protocol, and 8 bytes plus the ID for each voter of
// each membership.
func StateBytes(s State) int {
	n := len(s.AppData) + len(s.Protocol)
	for _, v := range s.Voters {
		for _, x := range v {
			n += 8 + len(x.ID)
		}
	}
	return n
}

// maxVoterEpochs bounds State.Voters in a State from the network: the
// memberships of ConfigOffset+1 epochs, and no ISS deployment has a
// ConfigOffset anywhere near.
const maxVoterEpochs = 64

// validateState checks a State that came from another node.
func validateState(s State, maxBytes int) error {
	if len(s.Voters) > maxVoterEpochs {
		return fmt.Errorf("memberships of %d epochs; at most %d", len(s.Voters), maxVoterEpochs)
	}
	if b := StateBytes(s); b > maxBytes {
		return fmt.Errorf("%d bytes; MaxStateBytes is %d", b, maxBytes)
	}
	for i, v := range s.Voters {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("the membership of epoch %d (Voters[%d]): %w", uint64(s.Epoch)+1+uint64(i), i, err)
		}
	}
	return nil
}

// SignedBytes returns what a voter signs for the checkpoint of epoch
// epoch: a domain tag, epoch and sn (8 bytes big-endian each), and the
// state hash. The fields before the hash have fixed lengths, so the bytes
// name one tuple.
func SignedBytes(epoch stdtypes.EpochNr, sn stdtypes.SeqNr, stateHash []byte) []byte {
	b := make([]byte, 0, len(signDomain)+16+len(stateHash))
	b = append(b, signDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(epoch))
	b = binary.BigEndian.AppendUint64(b, uint64(sn))
	return append(b, stateHash...)
}

// MaxHashBytes bounds a state hash (SHA-512 has 64 bytes).
const MaxHashBytes = 64

// MaxSignatureBytes bounds a signature: an Ed25519 signature has 64
// bytes, an ECDSA P-256 one at most 72. Anything longer is invalid and is
// dropped before it costs a verification.
const MaxSignatureBytes = 128

// ErrBadCertificate is wrapped by what VerifyCertificate reports.
var ErrBadCertificate = errors.New("invalid checkpoint certificate")

// VerifyCertificate checks everything about cert that needs no public key,
// against voters, the voters of epoch cert.Epoch: a state hash of 1 to
// MaxHashBytes bytes, signers that are voters, each once, in the order of
// their positions among voters, signatures of 1 to MaxSignatureBytes
// bytes, and a strong quorum of weight. It returns the signatures to
// verify: cert is valid if and only if the error is nil and every item is
// valid, which a crypto module tells (hand the items to a
// crypto.VerifyRequest; the answer's AllValid). ISS, Trantor and this
// module verify certificates so.
func VerifyCertificate(cert Certificate, voters membership.Voters) ([]crypto.SigItem, error) {
	if err := checkForm(cert); err != nil {
		return nil, err
	}
	if len(cert.Signatures) > len(voters) {
		return nil, fmt.Errorf("%w: %d signatures of %d voters", ErrBadCertificate, len(cert.Signatures), len(voters))
	}
	msg := SignedBytes(cert.Epoch, cert.SeqNr, cert.StateHash)
	items := make([]crypto.SigItem, len(cert.Signatures))
	// One pass over the voters, as the signers must come in their order:
	// linear in the voters, however large the membership.
	next := 0
	var weight uint64
	for k, s := range cert.Signatures {
		i := next
		for i < len(voters) && voters[i].ID != s.Signer {
			i++
		}
		if i == len(voters) {
			if !voters.Contains(s.Signer) {
				return nil, fmt.Errorf("%w: signer %q is not a voter of epoch %d", ErrBadCertificate, s.Signer, cert.Epoch)
			}
			return nil, fmt.Errorf("%w: signer %q repeated or out of the voters' order", ErrBadCertificate, s.Signer)
		}
		next = i + 1
		weight += voters[i].Weight
		items[k] = crypto.SigItem{Msg: msg, Sig: s.Sig, Signer: s.Signer}
	}
	if !voters.IsStrongQuorum(weight) {
		return nil, fmt.Errorf("%w: signers of weight %d of %d, not a strong quorum", ErrBadCertificate, weight, voters.Total())
	}
	return items, nil
}

// checkForm checks what a certificate must be whatever its voters: a
// possible hash, a possible number of signatures, each of possible length.
func checkForm(cert Certificate) error {
	switch {
	case len(cert.StateHash) == 0 || len(cert.StateHash) > MaxHashBytes:
		return fmt.Errorf("%w: state hash of %d bytes", ErrBadCertificate, len(cert.StateHash))
	case len(cert.Signatures) == 0 || len(cert.Signatures) > membership.MaxNodes:
		return fmt.Errorf("%w: %d signatures", ErrBadCertificate, len(cert.Signatures))
	}
	for _, s := range cert.Signatures {
		if len(s.Sig) == 0 || len(s.Sig) > MaxSignatureBytes {
			return fmt.Errorf("%w: signature of %q of %d bytes", ErrBadCertificate, s.Signer, len(s.Sig))
		}
	}
	return nil
}
