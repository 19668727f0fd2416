package checkpoint_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// ExampleVerifyCertificate verifies a certificate as another module does:
// the checks that need no key, then the signatures, here with a
// NodeCrypto directly (a module hands the items to the crypto module in a
// crypto.VerifyRequest instead).
func ExampleVerifyCertificate() {
	ids := stdtypes.NumberedNodeIDs(4)
	voters := membership.EqualVoters(ids...)
	keys := make([]crypto.PrivateKey, len(ids))
	pubs := map[stdtypes.NodeID]crypto.PublicKey{}
	for i, id := range ids {
		k, err := crypto.KeyPairFromSeed(crypto.Ed25519, []byte("example"), i)
		if err != nil {
			panic(err)
		}
		keys[i], pubs[id] = k, k.Public()
	}
	st := checkpoint.State{Epoch: 3, SeqNr: 64, AppData: []byte("state"), Voters: []membership.Voters{voters}}
	cert := checkpoint.Certificate{Epoch: st.Epoch, SeqNr: st.SeqNr, StateHash: checkpoint.StateHash(crypto.SHA256, st)}
	for _, i := range []int{0, 2, 3} { // In the voters' order.
		sig, err := keys[i].Sign(checkpoint.SignedBytes(cert.Epoch, cert.SeqNr, cert.StateHash))
		if err != nil {
			panic(err)
		}
		cert.Signatures = append(cert.Signatures, checkpoint.Signature{Signer: ids[i], Sig: sig})
	}

	items, err := checkpoint.VerifyCertificate(cert, voters)
	fmt.Println("form:", err)
	c, err := crypto.New(keys[1], pubs)
	if err != nil {
		panic(err)
	}
	valid := make([]bool, len(items))
	c.VerifyMany(items, valid)
	fmt.Println("signatures:", valid)

	_, err = checkpoint.VerifyCertificate(cert, voters[:2])
	fmt.Println("against other voters:", err)
	// Output:
	// form: <nil>
	// signatures: [true true true]
	// against other voters: invalid checkpoint certificate: 3 signatures of 2 voters
}
