package availability_test

import (
	"bytes"
	"testing"

	"github.com/mirframework/mir/internal/netfuzz"
	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzReceive feeds nodes whatever another node could send: bytes from the
// network, decoded as the transport would, from any sender (nodes 0 to 3
// are the voters, node 4 a stranger), to a leader collecting signatures
// (node 0), a node fetching a batch (node 3) and a node with a batch
// stored (node 1). Whatever they get, the nodes must not fail (an error
// would stop them) nor panic, must accept the crypto module's answers to
// what they ask, and must sign only what they persisted.
func FuzzReceive(f *testing.F) {
	ids := four.IDs()
	batch := txs("a", 0, 2)
	d := availability.BatchDigest(0, "0", buckets, batch)
	seeds := []stdtypes.Message{
		&availability.RequestSigMsg{Epoch: 0, Buckets: buckets, Txs: batch},
		&availability.RequestSigMsg{Epoch: 1, Buckets: []int{1}, Txs: txs("b", 0, 1)},
		&availability.SigMsg{Digest: d, Sig: sign(f, ids, 1, d)},
		&availability.SigMsg{Digest: d, Sig: make([]byte, 64)},
		&availability.FetchMsg{Digest: d},
		&availability.FetchResponseMsg{Digest: d, Txs: batch},
		&availability.FetchResponseMsg{Digest: d, Txs: txs("a", 1, 2)},
	}
	netfuzz.Received(f, 5, seeds, func(t *testing.T, sender stdtypes.NodeID, msg stdtypes.Message) {
		c := newCluster(t, four, func(p *availability.ModuleParams) { p.MaxBatchesPerSender = 4 })
		drop := func(envelope) stdtypes.Message { return nil }
		c.filter = drop
		// Node 0 leads slot 0 with batch; nodes 1 and 2 store another of
		// its batches (of epoch 1), certified, which node 3 fetches.
		c.propose("0", 0, 0, batch)
		c.filter = func(e envelope) stdtypes.Message {
			if e.to == "3" {
				return nil
			}
			return e.msg
		}
		c.queue = nil
		p := c.propose("0", 1, 1, txs("c", 0, 1))
		c.filter = drop
		c.apply("3", &availability.RequestTxs{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "bf", Ref: 1, Cert: p.Value})
		for _, id := range []stdtypes.NodeID{"0", "1", "3"} {
			c.apply(id, stdevents.NewMessageReceived(mc.Self, sender, msg))
			c.apply(id, stdevents.NewMessageReceived(mc.Self, sender, msg))
			if c.nodes[id].signedBeforePersisted {
				t.Fatalf("node %s signed what it did not persist", id)
			}
		}
	})
}

// FuzzCertificate decodes certificates: one that decodes is canonical
// (its encoding is the input), and verifying any value must not fail the
// node nor panic.
func FuzzCertificate(f *testing.F) {
	ids := four.IDs()
	batch := txs("a", 0, 2)
	f.Add(makeCert(f, ids, 1, "0", batch, 0, 2).Encode())
	f.Add(makeCert(f, ids, 1, "0", batch, 0, 1, 2, 3).Encode())
	f.Add(makeCert(f, ids, 1, "0", batch, 3).Encode())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		cert, err := availability.DecodeCertificate(data, 64)
		if err == nil {
			if enc := cert.Encode(); !bytes.Equal(enc, data) {
				t.Fatalf("not canonical: %x encodes as %x", data, enc)
			}
			if _, err := availability.VerifyCertificate(cert, membership.EqualVoters("0", "1")); err == nil && len(cert.Signers) == 0 {
				t.Fatal("a certificate without signers passes")
			}
		}
		c := newCluster(t, four, nil)
		c.verify("1", 1, "0", buckets, four, data)
	})
}
