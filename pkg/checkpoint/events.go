package checkpoint

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// The events between ISS and the checkpoint module. They are registered
// with the codec: an event log records them. The names are part of every
// encoding: renaming one makes recorded data unreadable.
var (
	_ = codec.Register[State]("checkpoint.State")
	_ = codec.Register[Certificate]("checkpoint.Certificate")
	_ = codec.Register[Start]("checkpoint.Start")
	_ = codec.Register[Stable]("checkpoint.Stable")
)

// State is what a checkpoint vouches for: everything a node needs to take
// part from slot SeqNr on without the log before it.
type State struct {
	// Epoch is the epoch the checkpoint ends; SeqNr the first slot of the
	// next one.
	Epoch stdtypes.EpochNr
	SeqNr stdtypes.SeqNr
	// AppData is the application's snapshot (iss.Snapshot.Data).
	AppData []byte
	// Voters are the memberships of epochs Epoch+1 to
	// Epoch+1+ConfigOffset, the ones already decided, in order.
	Voters []membership.Voters
	// Protocol is ISS's own state that the next epochs depend on (the
	// leader selection policy's), in ISS's encoding.
	Protocol []byte
}

// Certificate proves that a strong quorum of epoch Epoch's voters signed
// (Epoch, SeqNr, StateHash): the state after that epoch is the one whose
// digest is StateHash.
type Certificate struct {
	Epoch     stdtypes.EpochNr
	SeqNr     stdtypes.SeqNr
	StateHash []byte
	// Signatures are the signers' signatures, one per signer, ordered by
	// the signers' positions among the epoch's voters.
	Signatures []Signature
}

// Signature is one node's signature in a Certificate.
type Signature struct {
	Signer stdtypes.NodeID
	Sig    []byte
}

// Start asks the checkpoint module to checkpoint epoch State.Epoch: sign
// the digest of State and collect the other voters' signatures. Voters are
// the voters of epoch State.Epoch, who sign it. The module answers with a
// Stable to ReplyTo once it has a certificate.
type Start struct {
	stdtypes.Header
	ReplyTo stdtypes.ModuleID
	State   State
	Voters  membership.Voters
}

// Stable tells ISS that the checkpoint of Cert.Epoch is stable: Cert is a
// valid certificate of State. It comes for this node's own checkpoints
// (after a Start), and for later ones the module learned from other nodes:
// a certificate it could verify against the voters of its epoch (which it
// knows from the Starts and States it has seen), or one that a weak quorum
// of the latest voters it knows sent it; in both cases it fetched the
// State from a signer and checked it against the certificate's hash. A
// Stable for an epoch beyond ISS's own is how a node that fell behind
// catches up (state transfer).
type Stable struct {
	stdtypes.Header
	Cert  Certificate
	State State
}
