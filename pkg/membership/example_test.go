package membership_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
)

// A membership of three nodes on local ports, saved with each node's key,
// as `mir membership generate` does, and loaded back by a node.
func Example() {
	dir, err := os.MkdirTemp("", "membership")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	m, keys, err := membership.Local(3, "127.0.0.1", 7000)
	if err != nil {
		panic(err)
	}
	if err := m.Save(filepath.Join(dir, "membership.json")); err != nil {
		panic(err)
	}
	for i, k := range keys {
		if err := crypto.SavePrivateKey(filepath.Join(dir, fmt.Sprintf("node-%d.key", i)), k); err != nil {
			panic(err)
		}
	}

	// Node 1 starts up.
	loaded, err := membership.Load(filepath.Join(dir, "membership.json"))
	if err != nil {
		panic(err)
	}
	key, err := crypto.LoadPrivateKey(filepath.Join(dir, "node-1.key"))
	if err != nil {
		panic(err)
	}
	self, _ := loaded.Node("1")
	fmt.Println(loaded.IDs(), self.Addr, self.PublicKey.Equal(key.Public()))
	// Output: [0 1 2] 127.0.0.1:7001 true
}
