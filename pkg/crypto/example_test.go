package crypto_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// Example shows a node's crypto module signing two messages and verifying
// the signatures, one of them against the wrong signer, through events.
func Example() {
	// Keys from a seed, as in tests and simulations; deployments load them
	// from files with LoadPrivateKey and LoadPublicKey.
	members := map[stdtypes.NodeID]crypto.PublicKey{}
	keys := map[stdtypes.NodeID]crypto.PrivateKey{}
	for i := range 2 {
		id := stdtypes.NewNodeIDFromInt(i)
		k, err := crypto.KeyPairFromSeed(crypto.Ed25519, []byte("example"), i)
		if err != nil {
			panic(err)
		}
		keys[id], members[id] = k, k.Public()
	}
	c, err := crypto.New(keys["0"], members)
	if err != nil {
		panic(err)
	}
	// The synchronous module; crypto.NewPool gives the same results.
	module, err := crypto.NewModule(c)
	if err != nil {
		panic(err)
	}

	// A protocol module "app" asks for signatures, under an ID it chooses.
	msgs := [][]byte{[]byte("block 1"), []byte("block 2")}
	out, err := module.ApplyEvents(stdtypes.ListOf(
		crypto.NewSignRequest("crypto", crypto.Origin{Module: "app", ID: 1}, msgs...)))
	if err != nil {
		panic(err)
	}
	signed := out.Get(0).(*crypto.SignResult)
	fmt.Println("signatures for", signed.Dest(), "request", signed.Origin.ID, ":", len(signed.Sigs))

	// And later verifies them.
	out, err = module.ApplyEvents(stdtypes.ListOf(crypto.NewVerifyRequest("crypto", crypto.Origin{Module: "app", ID: 2},
		crypto.SigItem{Msg: msgs[0], Sig: signed.Sigs[0], Signer: "0"},
		crypto.SigItem{Msg: msgs[1], Sig: signed.Sigs[1], Signer: "1"})))
	if err != nil {
		panic(err)
	}
	verified := out.Get(0).(*crypto.VerifyResult)
	fmt.Println("valid:", verified.Valid, "all valid:", verified.AllValid)
	// Output:
	// signatures for app request 1 : 2
	// valid: [true false] all valid: false
}

// ExampleDigest shows that where the pieces of an input end is part of its
// digest.
func ExampleDigest() {
	a := crypto.Digest(crypto.SHA256, []byte("ab"), []byte("c"))
	b := crypto.Digest(crypto.SHA256, []byte("a"), []byte("bc"))
	fmt.Println(len(a), string(a) == string(b))
	// Output: 32 false
}
