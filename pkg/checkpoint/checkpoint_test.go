package checkpoint_test

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// A Start: the node hashes the State, signs (epoch, slot, hash) and sends
// its CHECKPOINT to the other voters through the reliablenet module.
func TestStartSendsCheckpoint(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	st := testState(0, tn.voters)
	out := tn.apply(t, tn.start(st))
	sends := only[*reliablenet.SendMessage](out)
	if len(sends) != 1 || len(out) != 1 {
		t.Fatalf("Start: %v, want one reliablenet SendMessage", out)
	}
	s := sends[0]
	msg, ok := s.Msg.(*checkpoint.CheckpointMsg)
	if !ok || s.MsgDest != mc.Self || !slices.Equal(s.Destinations, []stdtypes.NodeID{"1", "2", "3"}) {
		t.Fatalf("sent %T to %s on %v, want a CHECKPOINT to %s on 1, 2, 3", s.Msg, s.MsgDest, s.Destinations, mc.Self)
	}
	want := checkpointMsg(t, 4, 0, st)
	if msg.Epoch != 0 || msg.SeqNr != st.SeqNr || !bytes.Equal(msg.StateHash, want.StateHash) || !bytes.Equal(msg.Sig, want.Sig) {
		t.Fatalf("CHECKPOINT %+v, want %+v", msg, want)
	}
	if got := tn.m.Stats().Started; got != 1 {
		t.Errorf("Started = %d", got)
	}
}

// With a strong quorum of signatures (3 of 4, this node's included) the
// checkpoint is stable: the Stable goes to the Start's ReplyTo, and lists
// the signers in the voters' order whatever the order they came in.
func TestStableAtStrongQuorum(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	st := testState(0, tn.voters)
	tn.apply(t, tn.start(st))
	if out := tn.apply(t, received(3, checkpointMsg(t, 4, 3, st))); len(only[*checkpoint.Stable](out)) != 0 {
		t.Fatalf("stable with 2 signatures of 4: %v", out)
	}
	out := tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)))
	got := stables(out, replyTo)
	if len(got) != 1 {
		t.Fatalf("got %v, want one Stable to %s", out, replyTo)
	}
	cert := got[0].Cert
	if signers := signersOf(cert); !slices.Equal(signers, []stdtypes.NodeID{"0", "1", "3"}) {
		t.Errorf("signers %v, want 0, 1, 3", signers)
	}
	if got[0].State.Epoch != 0 || !bytes.Equal(got[0].State.AppData, st.AppData) {
		t.Errorf("Stable of %+v, want the Start's State", got[0].State)
	}
	verifyValid(t, cert, tn.voters)
	// A late signature changes nothing; its sender, behind, gets the
	// certificate.
	out = tn.apply(t, received(2, checkpointMsg(t, 4, 2, st)))
	if certs, to := sent[*checkpoint.StableCheckpointMsg](out); len(out) != 1 || len(certs) != 1 || !slices.Equal(to[0], []stdtypes.NodeID{"2"}) {
		t.Errorf("after stable: %v, want the certificate to node 2", out)
	}
}

func signersOf(cert checkpoint.Certificate) []stdtypes.NodeID {
	var ids []stdtypes.NodeID
	for _, s := range cert.Signatures {
		ids = append(ids, s.Signer)
	}
	return ids
}

// verifyValid checks that cert is valid for voters, with real signatures.
func verifyValid(t *testing.T, cert checkpoint.Certificate, voters membership.Voters) {
	t.Helper()
	items, err := checkpoint.VerifyCertificate(cert, voters)
	if err != nil {
		t.Fatal(err)
	}
	c := nodeCrypto(t, len(voters), 0)
	for _, it := range items {
		if err := c.Verify(it.Msg, it.Sig, it.Signer); err != nil {
			t.Fatalf("signature of %s: %v", it.Signer, err)
		}
	}
}

// Signatures that come before the node's own Start are kept and verified
// once the tuple is known; those of another state are dropped then.
func TestEarlySignatures(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	st := testState(0, tn.voters)
	other := st
	other.AppData = []byte("another state")
	tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)), received(2, checkpointMsg(t, 4, 2, other)))
	tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)))
	if d := tn.m.Stats().Duplicate; d != 1 {
		t.Errorf("Duplicate = %d, want 1", d)
	}
	out := tn.apply(t, tn.start(st))
	if len(stables(out, replyTo)) != 0 {
		t.Fatal("stable with 2 matching signatures of 4")
	}
	if m := tn.m.Stats().Mismatch; m != 1 {
		t.Errorf("Mismatch = %d, want 1 (node 2's signature of another state)", m)
	}
	out = tn.apply(t, received(3, checkpointMsg(t, 4, 3, st)))
	if len(stables(out, replyTo)) != 1 {
		t.Fatalf("not stable with 0, 1 and 3: %v", out)
	}
}

// A forged signature is dropped and counted, and does not count.
func TestBadSignature(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	st := testState(0, tn.voters)
	tn.apply(t, tn.start(st))
	forged := checkpointMsg(t, 4, 2, st)
	forged.Sig[0] ^= 1
	out := tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)), received(2, forged))
	if len(stables(out, replyTo)) != 0 {
		t.Fatal("stable with a forged signature")
	}
	if b := tn.m.Stats().BadSignature; b != 1 {
		t.Errorf("BadSignature = %d", b)
	}
	// Node 2's signature was not taken: its real one still counts.
	if out := tn.apply(t, received(2, checkpointMsg(t, 4, 2, st))); len(stables(out, replyTo)) != 1 {
		t.Fatal("not stable after the real signature")
	}
}

// Quorums count weight: with weights 3, 1, 1, 1 (total 6), 4 is not a
// strong quorum and 5 is.
func TestWeightedQuorum(t *testing.T) {
	weighted := membership.Voters{{ID: "0", Weight: 3}, {ID: "1", Weight: 1}, {ID: "2", Weight: 1}, {ID: "3", Weight: 1}}
	tn := newTestNode(t, 4, 0, func(p *checkpoint.ModuleParams) { p.Voters = weighted })
	st := testState(0, weighted)
	tn.apply(t, tn.start(st))
	if out := tn.apply(t, received(1, checkpointMsg(t, 4, 1, st))); len(stables(out, replyTo)) != 0 {
		t.Fatal("stable with weight 4 of 6")
	}
	if out := tn.apply(t, received(3, checkpointMsg(t, 4, 3, st))); len(stables(out, replyTo)) != 1 {
		t.Fatal("not stable with weight 5 of 6")
	}

	// Without the heavy node, three light ones (3 of 6) are no quorum.
	tn = newTestNode(t, 4, 1, func(p *checkpoint.ModuleParams) { p.Voters = weighted })
	tn.apply(t, tn.start(st))
	out := tn.apply(t, received(2, checkpointMsg(t, 4, 2, st)), received(3, checkpointMsg(t, 4, 3, st)))
	if len(stables(out, replyTo)) != 0 {
		t.Fatal("stable with weight 3 of 6")
	}
}

// Every network message is validated; bad ones are dropped and counted.
func TestCheckpointValidation(t *testing.T) {
	st := testState(0, membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...))
	long := checkpointMsg(t, 4, 1, st)
	long.Sig = make([]byte, checkpoint.MaxSignatureBytes+1)
	noHash := checkpointMsg(t, 4, 1, st)
	noHash.StateHash = nil
	far := checkpointMsg(t, 4, 1, testState(16, st.Voters[0]))
	for _, tc := range []struct {
		name string
		from int
		msg  stdtypes.Message
		want func(checkpoint.Stats) uint64
	}{
		{"stranger", 7, checkpointMsg(t, 4, 1, st), func(s checkpoint.Stats) uint64 { return s.UnknownSender }},
		{"long signature", 1, long, func(s checkpoint.Stats) uint64 { return s.Malformed }},
		{"no hash", 1, noHash, func(s checkpoint.Stats) uint64 { return s.Malformed }},
		{"far epoch", 1, far, func(s checkpoint.Stats) uint64 { return s.FarEpoch }},
		{"nil message", 1, nil, func(s checkpoint.Stats) uint64 { return s.UnknownMessages }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, started := range []bool{false, true} {
				tn := newTestNode(t, 4, 0, nil)
				if started {
					tn.apply(t, tn.start(st))
				}
				if out := tn.apply(t, received(tc.from, tc.msg)); len(out) != 0 {
					t.Errorf("output %v", out)
				}
				if got := tc.want(tn.m.Stats()); got != 1 || tn.m.Stats().Dropped() != 1 {
					t.Errorf("started %v: counter %d, %d dropped; want 1, 1", started, got, tn.m.Stats().Dropped())
				}
			}
		})
	}
}

// A Byzantine voter that floods signatures for many epochs makes the node
// keep at most EpochWindow of them.
func TestFloodFarEpochs(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	var evs []stdtypes.Event
	for e := range stdtypes.EpochNr(1000) {
		evs = append(evs, received(3, &checkpoint.CheckpointMsg{Epoch: e, SeqNr: 1, StateHash: make([]byte, 32), Sig: make([]byte, 64)}))
		evs = append(evs, received(3, &checkpoint.CheckpointMsg{Epoch: e, SeqNr: 2, StateHash: make([]byte, 32), Sig: make([]byte, 64)}))
	}
	tn.apply(t, evs...)
	epochs, early, _, _, _ := tn.m.Sizes()
	window := checkpoint.DefaultModuleParams(tn.voters).EpochWindow
	if uint64(epochs) > window || uint64(early) > window {
		t.Fatalf("%d epochs, %d early signatures kept; the window is %d", epochs, early, window)
	}
	s := tn.m.Stats()
	if s.FarEpoch != 2*(1000-window) || s.Duplicate != window {
		t.Errorf("FarEpoch %d, Duplicate %d", s.FarEpoch, s.Duplicate)
	}
	// Certificates of far epochs, ever higher: one claim kept, no State
	// fetched, no signature verified (the voters are unknown).
	evs = nil
	for e := range stdtypes.EpochNr(1000) {
		cert := checkpoint.Certificate{Epoch: 100 + e, StateHash: make([]byte, 32), Signatures: []checkpoint.Signature{{Signer: "3", Sig: make([]byte, 64)}}}
		evs = append(evs, received(3, &checkpoint.StableCheckpointMsg{Cert: cert}))
	}
	if out := tn.apply(t, evs...); len(out) != 0 {
		t.Fatalf("flood of certificates: %d events out", len(out))
	}
	if _, _, _, claims, requests := tn.m.Sizes(); claims != 1 || requests != 0 {
		t.Fatalf("%d claims, %d requests after a flood of certificates", claims, requests)
	}
	// The node still checkpoints: the flood's signatures are dropped as
	// mismatches, and the real ones count.
	st := testState(0, tn.voters)
	tn.apply(t, tn.start(st))
	out := tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)), received(2, checkpointMsg(t, 4, 2, st)))
	if len(stables(out, replyTo)) != 1 {
		t.Fatal("no stable checkpoint after the flood")
	}
}

// Misuse by ISS is an error naming the event.
func TestStartErrors(t *testing.T) {
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	for _, tc := range []struct {
		name  string
		tweak func(*checkpoint.Start)
		want  string
	}{
		{"no voters", func(s *checkpoint.Start) { s.Voters = nil }, "voters"},
		{"bad reply", func(s *checkpoint.Start) { s.ReplyTo = "" }, "ReplyTo"},
		{"bad next voters", func(s *checkpoint.Start) { s.State.Voters = []membership.Voters{{{ID: "", Weight: 1}}} }, "State: the membership of epoch 1 (Voters[0])"},
		{"too large", func(s *checkpoint.Start) { s.State.AppData = make([]byte, 4<<20) }, "MaxStateBytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTestNode(t, 4, 0, nil)
			ev := tn.start(testState(0, voters))
			tc.tweak(ev)
			_, err := tn.try(ev)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Start") {
				t.Fatalf("err = %v, want one about %s naming Start", err, tc.want)
			}
		})
	}
	tn := newTestNode(t, 4, 0, nil)
	tn.apply(t, tn.start(testState(0, voters)))
	if _, err := tn.try(tn.start(testState(0, voters))); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("second Start: %v", err)
	}
}

func TestVerifyCertificate(t *testing.T) {
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	st := testState(0, voters)
	valid := certOf(t, 4, st, 0, 1, 3)
	verifyValid(t, valid, voters)
	items, err := checkpoint.VerifyCertificate(certOf(t, 4, st, 0, 1, 2, 3), voters)
	if err != nil || len(items) != 4 {
		t.Fatalf("all 4 signers: %d items, %v", len(items), err)
	}
	for _, tc := range []struct {
		name   string
		cert   checkpoint.Certificate
		voters membership.Voters
	}{
		{"below quorum", certOf(t, 4, st, 0, 1), voters},
		{"duplicate signer", certOf(t, 4, st, 0, 1, 1), voters},
		{"out of order", certOf(t, 4, st, 1, 0, 3), voters},
		{"not a voter", certOf(t, 5, st, 0, 1, 4), voters},
		{"wrong voters", valid, membership.EqualVoters("0", "1", "5", "6", "7")},
		{"weighted below", certOf(t, 4, st, 1, 2, 3), membership.Voters{{ID: "0", Weight: 3}, {ID: "1", Weight: 1}, {ID: "2", Weight: 1}, {ID: "3", Weight: 1}}},
		{"no hash", func() checkpoint.Certificate { c := certOf(t, 4, st, 0, 1, 3); c.StateHash = nil; return c }(), voters},
		{"empty signature", func() checkpoint.Certificate { c := certOf(t, 4, st, 0, 1, 3); c.Signatures[1].Sig = nil; return c }(), voters},
		{"no signatures", checkpoint.Certificate{Epoch: 0, StateHash: hashOf(st)}, voters},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := checkpoint.VerifyCertificate(tc.cert, tc.voters); !errors.Is(err, checkpoint.ErrBadCertificate) {
				t.Fatalf("err = %v, want ErrBadCertificate", err)
			}
		})
	}
	// A forged signature passes the form check, and fails verification.
	forged := certOf(t, 4, st, 0, 1, 3)
	forged.Signatures[2].Sig[5] ^= 1
	items, err = checkpoint.VerifyCertificate(forged, voters)
	if err != nil {
		t.Fatal(err)
	}
	if nodeCrypto(t, 4, 0).Verify(items[2].Msg, items[2].Sig, items[2].Signer) == nil {
		t.Fatal("forged signature verified")
	}
	// The signed bytes name the tuple: another hash, slot or epoch, other bytes.
	if bytes.Equal(checkpoint.SignedBytes(1, 2, []byte{3}), checkpoint.SignedBytes(1, 3, []byte{3})) ||
		bytes.Equal(checkpoint.SignedBytes(1, 2, []byte{3}), checkpoint.SignedBytes(2, 2, []byte{3})) ||
		bytes.Equal(checkpoint.SignedBytes(1, 2, []byte{3}), checkpoint.SignedBytes(1, 2, []byte{4})) {
		t.Fatal("SignedBytes ignores a field")
	}
}

// Every field of the State changes its hash; the encoding has no
// ambiguity between neighbouring fields.
func TestStateHashEveryField(t *testing.T) {
	voters := membership.EqualVoters("0", "1", "2", "3")
	base := testState(3, voters)
	h := hashOf(base)
	if !bytes.Equal(h, checkpoint.StateHash(crypto.SHA256, testState(3, voters))) {
		t.Fatal("StateHash is not a function of the State")
	}
	if !bytes.Equal(h, crypto.Digest(crypto.SHA256, checkpoint.StateHashInput(base)...)) {
		t.Fatal("StateHash differs from the digest of StateHashInput (what a hasher module computes)")
	}
	for _, tc := range []struct {
		name   string
		change func(*checkpoint.State)
	}{
		{"Epoch", func(s *checkpoint.State) { s.Epoch++ }},
		{"SeqNr", func(s *checkpoint.State) { s.SeqNr++ }},
		{"AppData", func(s *checkpoint.State) { s.AppData = append(slices.Clone(s.AppData), 0) }},
		{"Protocol", func(s *checkpoint.State) { s.Protocol = []byte{9} }},
		{"Protocol into AppData", func(s *checkpoint.State) {
			s.AppData = append(slices.Clone(s.AppData), s.Protocol...)
			s.Protocol = nil
		}},
		{"one membership fewer", func(s *checkpoint.State) { s.Voters = s.Voters[:2] }},
		{"a voter fewer", func(s *checkpoint.State) { s.Voters = []membership.Voters{voters, voters, voters[:3]} }},
		{"a voter moved", func(s *checkpoint.State) {
			s.Voters = []membership.Voters{voters, {voters[0], voters[1], voters[2]}, {voters[3]}}
		}},
		{"a weight", func(s *checkpoint.State) {
			w := slices.Clone(voters)
			w[2].Weight = 2
			s.Voters = []membership.Voters{voters, voters, w}
		}},
		{"an ID", func(s *checkpoint.State) {
			w := slices.Clone(voters)
			w[2].ID = "22"
			s.Voters = []membership.Voters{voters, voters, w}
		}},
		{"the order", func(s *checkpoint.State) {
			w := slices.Clone(voters)
			w[0], w[1] = w[1], w[0]
			s.Voters = []membership.Voters{w, voters, voters}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testState(3, voters)
			tc.change(&s)
			if bytes.Equal(hashOf(s), h) {
				t.Fatal("the hash did not change")
			}
		})
	}
	empty := base
	empty.AppData, empty.Protocol = []byte{}, []byte{}
	nilled := base
	nilled.AppData, nilled.Protocol = nil, nil
	if !bytes.Equal(hashOf(empty), hashOf(nilled)) {
		t.Error("nil and empty encode differently")
	}
}

// State transfer: a node that gets a certificate beyond its latest
// stable checkpoint, which it verifies against the voters it knows, asks
// the signers for the State in turn, rejects a State that does not match
// the hash and hands the one that does to ISS.
func TestStateTransfer(t *testing.T) {
	tn := newTestNode(t, 4, 3, nil)
	st := testState(1, tn.voters)
	cert := certOf(t, 4, st, 0, 1, 2)

	forged := certOf(t, 4, st, 0, 1, 2)
	forged.Signatures[0].Sig[3] ^= 1
	if out := tn.apply(t, received(0, &checkpoint.StableCheckpointMsg{Cert: forged})); len(out) != 0 {
		t.Fatalf("forged certificate: %v", out)
	}
	if b := tn.m.Stats().BadCertificate; b != 1 {
		t.Fatalf("BadCertificate = %d", b)
	}

	out := tn.apply(t, received(2, &checkpoint.StableCheckpointMsg{Cert: cert}))
	askedOf := func(out []stdtypes.Event) stdtypes.NodeID {
		t.Helper()
		reqs, to := sent[*checkpoint.SnapshotRequestMsg](out)
		timers := only[*stdevents.TimerDelay](out)
		if len(reqs) != 1 || len(to[0]) != 1 || reqs[0].Epoch != 1 || len(timers) != 1 {
			t.Fatalf("got %v, want a SNAPSHOTREQUEST for epoch 1 to one node and a timer", out)
		}
		return to[0][0]
	}
	if a := askedOf(out); a != "0" {
		t.Fatalf("asked %s first, want signer 0", a)
	}
	timeout := only[*stdevents.TimerDelay](out)[0].Events[0]
	if a := askedOf(tn.apply(t, timeout)); a != "1" {
		t.Fatalf("asked %s after a timeout, want signer 1", a)
	}
	// The old timeout does nothing now.
	if out := tn.apply(t, timeout); len(out) != 0 {
		t.Fatalf("stale timeout: %v", out)
	}
	// Node 0's answer comes late: not taken. Node 1 sends a wrong State:
	// node 2 is asked at once.
	bad := st
	bad.AppData = []byte("not the certified state")
	out = tn.apply(t, received(0, &checkpoint.SnapshotResponseMsg{State: st}), received(1, &checkpoint.SnapshotResponseMsg{State: bad}))
	if a := askedOf(out); a != "2" {
		t.Fatalf("asked %s after a wrong State, want signer 2", a)
	}
	if s := tn.m.Stats(); s.Unsolicited != 1 || s.BadState != 1 {
		t.Fatalf("Unsolicited %d, BadState %d", s.Unsolicited, s.BadState)
	}
	out = tn.apply(t, received(2, &checkpoint.SnapshotResponseMsg{State: st}))
	got := stables(out, mc.ISS)
	if len(got) != 1 || got[0].Cert.Epoch != 1 || !bytes.Equal(got[0].State.AppData, st.AppData) {
		t.Fatalf("got %v, want the Stable of epoch 1 to ISS", out)
	}
	if s := tn.m.Stats(); s.Transferred != 1 {
		t.Errorf("Transferred = %d", s.Transferred)
	}
	// Now stable at 1: the same certificate again is stale.
	tn.apply(t, received(0, &checkpoint.StableCheckpointMsg{Cert: cert}))
	if s := tn.m.Stats().Stale; s != 1 {
		t.Errorf("Stale = %d", s)
	}
}

// A certificate for an epoch whose voters the node does not know is
// accepted once a weak quorum of the latest voters it knows sent it (2 of
// 4: one may be faulty, not both).
func TestWeakQuorumCertificate(t *testing.T) {
	tn := newTestNode(t, 4, 3, nil)
	st := testState(10, tn.voters)
	// Signatures of no one, by nodes that do not exist: the node cannot
	// check them anyway, and fetches the State from the nodes that
	// vouched for the certificate.
	cert := certOf(t, 4, st, 0, 1, 2)
	for i := range cert.Signatures {
		cert.Signatures[i].Signer = stdtypes.NodeID("ghost" + strconv.Itoa(i))
		cert.Signatures[i].Sig = []byte("unverifiable")
	}
	if out := tn.apply(t, received(0, &checkpoint.StableCheckpointMsg{Cert: cert})); len(out) != 0 {
		t.Fatalf("one voter's word: %v", out)
	}
	// The same sender again does not make a quorum, nor a stranger.
	tn.apply(t, received(0, &checkpoint.StableCheckpointMsg{Cert: cert}), received(9, &checkpoint.StableCheckpointMsg{Cert: cert}))
	if s := tn.m.Stats(); s.Stale != 1 || s.UnknownSender != 1 {
		t.Fatalf("Stale %d, UnknownSender %d", s.Stale, s.UnknownSender)
	}
	out := tn.apply(t, received(1, &checkpoint.StableCheckpointMsg{Cert: cert}))
	if reqs, to := sent[*checkpoint.SnapshotRequestMsg](out); len(reqs) != 1 || !slices.Equal(to[0], []stdtypes.NodeID{"0"}) {
		t.Fatalf("got %v, want a SNAPSHOTREQUEST to node 0", out)
	}
	out = tn.apply(t, received(0, &checkpoint.SnapshotResponseMsg{State: st}))
	if got := stables(out, mc.ISS); len(got) != 1 || got[0].Cert.Epoch != 10 {
		t.Fatalf("got %v, want the Stable of epoch 10", out)
	}
	// The node learned the voters of epochs 11 to 13 from the State: it
	// verifies certificates of those now.
	next := testState(11, tn.voters)
	forged := certOf(t, 4, next, 0, 1, 2)
	forged.Signatures[1].Sig[0] ^= 1
	tn.apply(t, received(0, &checkpoint.StableCheckpointMsg{Cert: forged}))
	if b := tn.m.Stats().BadCertificate; b != 1 {
		t.Fatalf("BadCertificate = %d", b)
	}
}

// A node whose own Start of the epoch is under way takes a verified
// certificate of its own State without fetching anything, and answers the
// Start.
func TestCertificateOfOwnState(t *testing.T) {
	tn := newTestNode(t, 4, 3, nil)
	st := testState(0, tn.voters)
	tn.apply(t, tn.start(st))
	out := tn.apply(t, received(0, &checkpoint.StableCheckpointMsg{Cert: certOf(t, 4, st, 0, 1, 2)}))
	if got := stables(out, replyTo); len(got) != 1 || len(out) != 1 {
		t.Fatalf("got %v, want only a Stable to %s", out, replyTo)
	}
}

// A node serves the States of its retained checkpoints, within its
// budget, and answers a node that is behind with its latest certificate.
func TestServe(t *testing.T) {
	tn := newTestNode(t, 4, 0, func(p *checkpoint.ModuleParams) { p.MaxServesPerPeriod = 2; p.RetainedCheckpoints = 2 })
	for e := range stdtypes.EpochNr(3) {
		st := testState(e, tn.voters)
		tn.apply(t, tn.start(st))
		tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)), received(2, checkpointMsg(t, 4, 2, st)))
	}
	if _, _, retained, _, _ := tn.m.Sizes(); retained != 2 {
		t.Fatalf("%d retained", retained)
	}
	out := tn.apply(t, received(3, &checkpoint.SnapshotRequestMsg{Epoch: 1}))
	resp, to := sent[*checkpoint.SnapshotResponseMsg](out)
	if len(resp) != 1 || resp[0].State.Epoch != 1 || !slices.Equal(to[0], []stdtypes.NodeID{"3"}) {
		t.Fatalf("got %v, want the State of epoch 1 to node 3", out)
	}
	// Epoch 0 is no longer retained: node 3 gets the latest certificate.
	out = tn.apply(t, received(3, &checkpoint.SnapshotRequestMsg{Epoch: 0}))
	if certs, _ := sent[*checkpoint.StableCheckpointMsg](out); len(certs) != 1 || certs[0].Cert.Epoch != 2 {
		t.Fatalf("got %v, want the certificate of epoch 2", out)
	}
	// The budget of the period is spent.
	if out := tn.apply(t, received(2, &checkpoint.SnapshotRequestMsg{Epoch: 2})); len(out) != 0 {
		t.Fatalf("beyond the budget: %v", out)
	}
	s := tn.m.Stats()
	if s.NotRetained != 1 || s.RateLimited != 1 || s.SnapshotsServed != 1 {
		t.Errorf("%+v", s)
	}
	// A tick renews it, and sends the latest certificate to all.
	out = tn.apply(t, checkpoint.NewTick(mc.Self))
	if certs, to := sent[*checkpoint.StableCheckpointMsg](out); len(certs) != 1 || certs[0].Cert.Epoch != 2 || !slices.Equal(to[0], []stdtypes.NodeID{"1", "2", "3"}) {
		t.Fatalf("tick: %v", out)
	}
	if resp, _ := sent[*checkpoint.SnapshotResponseMsg](tn.apply(t, received(2, &checkpoint.SnapshotRequestMsg{Epoch: 2}))); len(resp) != 1 {
		t.Fatal("not served after a tick")
	}
}

// Garbage collection: the CHECKPOINTs of epochs below the latest stable
// one are cancelled, their state dropped, and only RetainedCheckpoints
// kept.
func TestGarbageCollection(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	var cancelled []reliablenet.MsgID
	for e := range stdtypes.EpochNr(5) {
		st := testState(e, tn.voters)
		tn.apply(t, tn.start(st))
		// Early signatures of the next epoch wait meanwhile.
		tn.apply(t, received(3, checkpointMsg(t, 4, 3, testState(e+1, tn.voters))))
		out := tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)), received(2, checkpointMsg(t, 4, 2, st)))
		for _, c := range only[*reliablenet.Cancel](out) {
			cancelled = append(cancelled, c.MsgID)
		}
		if epochs, early, retained, _, requests := tn.m.Sizes(); epochs != 1 || early != 1 || retained != min(int(e)+1, 2) || requests != 0 {
			t.Fatalf("epoch %d: %d epochs, %d early, %d retained, %d requests", e, epochs, early, retained, requests)
		}
	}
	if want := []reliablenet.MsgID{"0/cp", "1/cp", "2/cp", "3/cp"}; !slices.Equal(cancelled, want) {
		t.Errorf("cancelled %v, want %v", cancelled, want)
	}
	// Signatures of collected epochs are stale, and answered with the
	// latest certificate.
	out := tn.apply(t, received(3, checkpointMsg(t, 4, 3, testState(2, tn.voters))))
	if certs, _ := sent[*checkpoint.StableCheckpointMsg](out); len(certs) != 1 || certs[0].Cert.Epoch != 4 {
		t.Fatalf("got %v", out)
	}
	// A Start of an epoch at or below the latest stable one is ignored.
	if out := tn.apply(t, tn.start(testState(3, tn.voters))); len(out) != 0 {
		t.Fatalf("stale Start: %v", out)
	}
}

// A certificate of the epoch the node is ordering (the one after its
// latest Start) is not fetched at once: the node's own Start may come
// first, and does without a transfer; if it does not come within a
// ResendPeriod, the node fetches the State.
func TestDeferredTransfer(t *testing.T) {
	for _, ownStart := range []bool{true, false} {
		tn := newTestNode(t, 4, 3, nil)
		st0, st1 := testState(0, tn.voters), testState(1, tn.voters)
		tn.apply(t, tn.start(st0))
		out := tn.apply(t, received(0, &checkpoint.StableCheckpointMsg{Cert: certOf(t, 4, st1, 0, 1, 2)}))
		if len(out) != 0 {
			t.Fatalf("certificate of the epoch being ordered: %v, want nothing yet", out)
		}
		if ownStart {
			out = tn.apply(t, tn.start(st1))
			if got := stables(out, replyTo); len(got) != 1 || got[0].Cert.Epoch != 1 {
				t.Fatalf("own Start after the certificate: %v, want its Stable", out)
			}
			if reqs, _ := sent[*checkpoint.SnapshotRequestMsg](tn.apply(t, checkpoint.NewTick(mc.Self))); len(reqs) != 0 {
				t.Fatal("fetched a State the node has")
			}
			continue
		}
		if reqs, to := sent[*checkpoint.SnapshotRequestMsg](tn.apply(t, checkpoint.NewTick(mc.Self))); len(reqs) != 1 || to[0][0] != "0" {
			t.Fatalf("no SNAPSHOTREQUEST after a ResendPeriod: %v", reqs)
		}
	}
}

// A stable State that decides no membership for the next epochs leaves
// the latest one known in force: the node still knows whom to send its
// certificate to, and whose word to take.
func TestVotersHoldOn(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	st := testState(5, tn.voters)
	st.Voters = nil
	tn.apply(t, tn.start(st))
	tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)), received(2, checkpointMsg(t, 4, 2, st)))
	out := tn.apply(t, checkpoint.NewTick(mc.Self))
	if certs, to := sent[*checkpoint.StableCheckpointMsg](out); len(certs) != 1 || !slices.Equal(to[0], []stdtypes.NodeID{"1", "2", "3"}) {
		t.Fatalf("tick: %v", out)
	}
}

// ISS can have the latest certificate sent to nodes it sees behind: each
// gets it once per ResendPeriod.
func TestSendLatest(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	if out := tn.apply(t, checkpoint.NewSendLatest(mc.Self, "1")); len(out) != 0 {
		t.Fatalf("no stable checkpoint yet: %v", out)
	}
	st := testState(0, tn.voters)
	tn.apply(t, tn.start(st))
	tn.apply(t, received(1, checkpointMsg(t, 4, 1, st)), received(2, checkpointMsg(t, 4, 2, st)))
	out := tn.apply(t, checkpoint.NewSendLatest(mc.Self, "1", "3"), checkpoint.NewSendLatest(mc.Self, "3"))
	certs, to := sent[*checkpoint.StableCheckpointMsg](out)
	if len(certs) != 2 || !slices.Equal(slices.Concat(to...), []stdtypes.NodeID{"1", "3"}) {
		t.Fatalf("got %v to %v, want the certificate to 1 and to 3, once each", certs, to)
	}
	if _, err := tn.try(checkpoint.NewSendLatest(mc.Self, "")); err == nil || !strings.Contains(err.Error(), "SendLatest") {
		t.Fatalf("SendLatest to no one: %v", err)
	}
}

// A Stable that ISS restored from its WAL, handed to the module after a
// restart, becomes the latest stable checkpoint: served, sent to all,
// and older certificates and signatures are stale.
func TestRestore(t *testing.T) {
	tn := newTestNode(t, 4, 0, nil)
	st := testState(5, tn.voters)
	restored := &checkpoint.Stable{Header: stdtypes.NewHeader(mc.Self), Cert: certOf(t, 4, st, 0, 1, 2), State: st}
	if out := tn.apply(t, restored); len(out) != 0 {
		t.Fatalf("restore: %v", out)
	}
	if resp, _ := sent[*checkpoint.SnapshotResponseMsg](tn.apply(t, received(3, &checkpoint.SnapshotRequestMsg{Epoch: 5}))); len(resp) != 1 {
		t.Fatal("restored State not served")
	}
	tn.apply(t, received(1, &checkpoint.StableCheckpointMsg{Cert: certOf(t, 4, testState(4, tn.voters), 0, 1, 2)}))
	if s := tn.m.Stats().Stale; s != 1 {
		t.Fatalf("Stale = %d", s)
	}
	if certs, _ := sent[*checkpoint.StableCheckpointMsg](tn.apply(t, checkpoint.NewTick(mc.Self))); len(certs) != 1 || certs[0].Cert.Epoch != 5 {
		t.Fatalf("tick sent %v", certs)
	}
	bad := *restored
	bad.State = testState(6, tn.voters)
	if _, err := tn.try(&bad); err == nil || !strings.Contains(err.Error(), "restored Stable") {
		t.Fatalf("restore with another epoch's State: %v", err)
	}
}
