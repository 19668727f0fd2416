package pbft_test

import (
	"testing"

	"github.com/mirframework/mir/internal/netfuzz"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzReceive feeds an orderer whatever another node could send: bytes
// from the network, decoded as the transport would, from any sender (4
// voters and a stranger), twice, to a node that has pre-prepared a slot,
// is changing view and has one VIEWCHANGE of another node. Whatever it
// gets, it must not fail (an error would stop the node) nor panic, and
// the answers of the validator and the crypto module to what it asks
// must be accepted too.
func FuzzReceive(f *testing.F) {
	cs := nodeCryptos(f, 4)
	v := []byte("v")
	d := digest(0, v)
	q := []pbft.Cert{{SeqNr: 0, View: 0, Digest: d}}
	vc1 := signedVC(f, cs, 1, 1, nil, q, nil)
	vc3 := signedVC(f, cs, 3, 1, nil, nil, nil)
	seeds := []stdtypes.Message{
		&pbft.PrePrepareMsg{View: 0, SeqNr: 4, Value: []byte("w")},
		&pbft.PrepareMsg{View: 1, SeqNr: 0, Digest: d},
		&pbft.CommitMsg{View: 0, SeqNr: 8, Digest: abortDigest(8)},
		vc1,
		signedVC(f, cs, 3, 2, []pbft.Cert{{SeqNr: 0, View: 0, Digest: d}}, q, [][]byte{v}),
		&pbft.NewViewMsg{View: 1, ViewChanges: []pbft.SignedViewChange{
			{From: "1", PrePrepared: q, Signature: vc1.Signature},
			{From: "3", Signature: vc3.Signature},
		}, Slots: []pbft.NewViewSlot{{Aborted: true}, {Aborted: true}, {Aborted: true}}},
		&pbft.DoneMsg{Digests: [][]byte{d, digest(4, nil), abortDigest(8)}},
		&pbft.DoneRequestMsg{},
		&pbft.CatchUpRequestMsg{SeqNr: 0},
		&pbft.CatchUpResponseMsg{SeqNr: 0, Value: v},
	}
	netfuzz.Received(f, 5, seeds, func(t *testing.T, from stdtypes.NodeID, msg stdtypes.Message) {
		h, _ := newHarness(t, "2", 4)
		out := h.apply(received("0", &pbft.PrePrepareMsg{SeqNr: 0, Value: v}))
		out = h.apply(answer(t, h, out)...)
		out = append(out, h.apply(timeout(0))...)
		out = append(out, h.apply(received("1", vc1))...)
		for range 3 {
			out = h.apply(answer(t, h, out)...)
		}
		out = h.apply(received(from, msg), received(from, msg))
		for range 3 {
			out = h.apply(answer(t, h, out)...)
		}
	})
}

// answer returns the validator's and the crypto module's answers to what
// out asks.
func answer(t *testing.T, h *harness, out []stdtypes.Event) []stdtypes.Event {
	t.Helper()
	answers := answerCrypto(t, nodeCryptos(t, 4)[idx(h.self)], out)
	for _, vp := range of[*iss.VerifyProposal](out) {
		answers = append(answers, &iss.ProposalVerified{Header: stdtypes.NewHeader(vp.ReplyTo), Ref: vp.Ref})
	}
	return answers
}
