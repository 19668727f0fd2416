package membership

import (
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// ErrMalformedKey is wrapped by the errors of ParsePublicKey. It is
// crypto.ErrMalformedKey, one sentinel for one fault, whether the text or
// the key it holds is malformed: so an error says "malformed key" once, and
// errors.Is matches it by either name.
var ErrMalformedKey = crypto.ErrMalformedKey

// maxKeyTextBytes bounds the text form of a public key: a P-256 point, the
// longest, takes 88 base64 characters.
const maxKeyTextBytes = 256

// FormatPublicKey returns the text form of key used in membership files:
// the scheme's name (crypto.Scheme.String), a colon, and the key in
// standard base64: the 32 bytes of an Ed25519 key, the 65 bytes of an
// uncompressed P-256 point. The zero key gives "".
func FormatPublicKey(key crypto.PublicKey) string {
	raw, err := key.MarshalBinary()
	if err != nil {
		return ""
	}
	// raw is the scheme byte, then the key.
	return key.Scheme().String() + ":" + base64.StdEncoding.EncodeToString(raw[1:])
}

// ParsePublicKey parses the text form FormatPublicKey returns.
func ParsePublicKey(s string) (crypto.PublicKey, error) {
	if len(s) > maxKeyTextBytes {
		return crypto.PublicKey{}, fmt.Errorf("%w: %d characters, at most %d", ErrMalformedKey, len(s), maxKeyTextBytes)
	}
	name, b64, ok := strings.Cut(s, ":")
	if !ok {
		return crypto.PublicKey{}, fmt.Errorf("%w: %q is not scheme:base64", ErrMalformedKey, s)
	}
	scheme, err := crypto.ParseScheme(name)
	if err != nil {
		return crypto.PublicKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return crypto.PublicKey{}, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	pub, err := crypto.ParsePublicKey(append([]byte{byte(scheme)}, key...))
	if err != nil {
		return crypto.PublicKey{}, err // It wraps ErrMalformedKey already.
	}
	return pub, nil
}

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
