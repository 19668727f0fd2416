package membership

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// Local returns a membership of n nodes with IDs "0" to "n-1", node i
// listening on host:basePort+i, and each node's new private key (of
// crypto.DefaultScheme), by index. It is how tests and local deployments
// get one.
func Local(n int, host string, basePort int) (*Membership, []crypto.PrivateKey, error) {
	if n < 1 {
		return nil, nil, fmt.Errorf("%w: %d nodes, want at least 1", ErrInvalid, n)
	}
	if basePort < 1 || basePort+n-1 > 65535 {
		return nil, nil, fmt.Errorf("%w: ports %d to %d are not all between 1 and 65535", ErrInvalid, basePort, basePort+n-1)
	}
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = net.JoinHostPort(host, strconv.Itoa(basePort+i))
	}
	return WithAddrs(addrs)
}

// WithAddrs returns a membership of len(addrs) nodes with IDs "0" to
// "n-1", node i listening on addrs[i], and each node's new private key (of
// crypto.DefaultScheme), by index.
func WithAddrs(addrs []string) (*Membership, []crypto.PrivateKey, error) {
	nodes := make([]Node, len(addrs))
	keys := make([]crypto.PrivateKey, len(addrs))
	for i, addr := range addrs {
		k, err := crypto.GenerateKey(crypto.DefaultScheme)
		if err != nil {
			return nil, nil, err
		}
		keys[i] = k
		nodes[i] = Node{ID: stdtypes.NewNodeIDFromInt(i), Addr: addr, PublicKey: k.Public()}
	}
	m, err := New(nodes)
	if err != nil {
		return nil, nil, err
	}
	return m, keys, nil
}

// KeyFile returns the path of node id's private key file in dir, in the
// layout `mir membership generate` writes and the samples read: node-ID.key
// next to the membership file. An ID that would lead out of dir (one with
// a path separator, or "." or "..") has no key file there: an error.
func KeyFile(dir string, id stdtypes.NodeID) (string, error) {
	if strings.ContainsAny(string(id), `/\`) || id == "" || id == "." || id == ".." {
		return "", fmt.Errorf("node ID %q cannot name a key file", id)
	}
	return filepath.Join(dir, "node-"+string(id)+".key"), nil
}
