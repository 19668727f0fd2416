package threshcrypto_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdtypes"
)

// Example shows a 3-of-4 threshold signature: a dealer makes the keys,
// three nodes sign shares, node 0 verifies them and recovers the full
// signature through its module, and checks it.
func Example() {
	members := []stdtypes.NodeID{"a", "b", "c", "d"}
	pub, keyShares, err := threshcrypto.DealFromSeed(3, len(members), []byte("example"))
	if err != nil {
		panic(err)
	}
	nodes := make([]*threshcrypto.BLS, len(members))
	for i := range members {
		if nodes[i], err = threshcrypto.New(pub, keyShares[i], members); err != nil {
			panic(err)
		}
	}

	msg := []byte("checkpoint 7")
	var items []threshcrypto.ShareItem
	for i := 1; i < 4; i++ { // Nodes b, c and d sign.
		share, err := nodes[i].SignShare(msg)
		if err != nil {
			panic(err)
		}
		items = append(items, threshcrypto.ShareItem{Msg: msg, Share: share, Signer: members[i]})
	}

	module, err := threshcrypto.NewModule(nodes[0])
	if err != nil {
		panic(err)
	}
	from := crypto.Origin{Module: "checkpoint", ID: 7}
	out, err := module.ApplyEvents(stdtypes.ListOf(threshcrypto.NewVerifyShareRequest("threshcrypto", from, items...)))
	if err != nil {
		panic(err)
	}
	fmt.Println("shares valid:", out.Get(0).(*threshcrypto.VerifyShareResult).AllValid)

	// The shares were verified: recovering checks none of them again.
	shares := [][]byte{items[0].Share, items[1].Share, items[2].Share}
	out, err = module.ApplyEvents(stdtypes.ListOf(threshcrypto.NewRecoverRequest("threshcrypto", from,
		threshcrypto.RecoverItem{Msg: msg, Shares: shares})))
	if err != nil {
		panic(err)
	}
	rec := out.Get(0).(*threshcrypto.RecoverResult)
	fmt.Println("recovered:", rec.OK[0], len(rec.Sigs[0]), "bytes")
	fmt.Println("verifies:", nodes[3].VerifyFull(msg, rec.Sigs[0]) == nil)
	// Output:
	// shares valid: true
	// recovered: true 48 bytes
	// verifies: true
}
