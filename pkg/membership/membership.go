package membership

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// Limits on what a membership holds. A membership is configuration written
// by operators, but it is parsed before anything else and its IDs travel in
// handshakes, so its sizes are bounded all the same.
const (
	// MaxIDBytes bounds the length of a node ID.
	MaxIDBytes = 128
	// MaxAddrBytes bounds the length of an address.
	MaxAddrBytes = 256
	// MaxNodes bounds the number of nodes.
	MaxNodes = 1 << 12
	// MaxWeight bounds a node's voting weight, so that the total weight of
	// MaxNodes nodes, and three times it (quorum arithmetic), fit in a
	// uint64 with room to spare.
	MaxWeight = 1 << 40
	// maxFileBytes bounds what Load reads: MaxNodes entries of the longest
	// kind fit with room to spare.
	maxFileBytes = 4 << 20
)

// FormatVersion is the version of the file format this package writes and
// reads.
const FormatVersion = 1

// ErrInvalid is wrapped by every error about the content of a membership.
var ErrInvalid = errors.New("invalid membership")

// Node is one member: its ID, the address it listens on, and its public
// key.
type Node struct {
	// ID identifies the node in the system.
	ID stdtypes.NodeID
	// Addr is the host:port the node listens on and others dial.
	Addr string
	// PublicKey is the node's identity on the network: a transport accepts
	// a connection as coming from this node only if the peer proves it
	// holds the matching private key.
	PublicKey crypto.PublicKey
	// Weight is the node's voting weight in the quorums of the protocols
	// that count weight (see Voters). 0 stands for the default, 1, so that
	// a membership that names no weights gives every node one vote.
	Weight uint64
}

// weight returns the node's voting weight: Weight, or 1 if it is 0.
func (n Node) weight() uint64 {
	if n.Weight == 0 {
		return 1
	}
	return n.Weight
}

// Membership is a validated set of nodes: IDs, addresses and keys are
// unique. It is immutable, and safe for concurrent use.
type Membership struct {
	nodes []Node // In the order given.
	byID  map[stdtypes.NodeID]int
	byKey map[string]int // Raw key encoding (crypto.PublicKey.MarshalBinary) -> index.
}

// New returns the membership of nodes, after checking them: at least one
// node; each ID non-empty and at most MaxIDBytes; each address a host:port
// with a numeric port from 1 to 65535 and at most MaxAddrBytes; each key
// a valid key of a scheme of package crypto; no ID, address or key twice.
func New(nodes []Node) (*Membership, error) {
	switch {
	case len(nodes) == 0:
		return nil, fmt.Errorf("%w: no nodes", ErrInvalid)
	case len(nodes) > MaxNodes:
		return nil, fmt.Errorf("%w: %d nodes, at most %d", ErrInvalid, len(nodes), MaxNodes)
	}
	m := &Membership{
		nodes: make([]Node, len(nodes)),
		byID:  make(map[stdtypes.NodeID]int, len(nodes)),
		byKey: make(map[string]int, len(nodes)),
	}
	addrs := make(map[string]stdtypes.NodeID, len(nodes))
	var errs []error
	for i, n := range nodes {
		if err := checkNode(n); err != nil {
			errs = append(errs, fmt.Errorf("node %d (%q): %w", i, n.ID, err))
			continue
		}
		if _, dup := m.byID[n.ID]; dup {
			errs = append(errs, fmt.Errorf("node ID %q listed twice", n.ID))
		}
		if other, dup := addrs[n.Addr]; dup {
			errs = append(errs, fmt.Errorf("nodes %q and %q have the same address %s", other, n.ID, n.Addr))
		}
		raw, _ := n.PublicKey.MarshalBinary() // checkNode made sure it works.
		if j, dup := m.byKey[string(raw)]; dup {
			errs = append(errs, fmt.Errorf("nodes %q and %q have the same key", nodes[j].ID, n.ID))
		}
		m.nodes[i] = n
		m.byID[n.ID] = i
		m.byKey[string(raw)] = i
		addrs[n.Addr] = n.ID
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return m, nil
}

// checkNode checks one node's fields.
func checkNode(n Node) error {
	switch {
	case n.ID == "":
		return errors.New("empty ID")
	case len(n.ID) > MaxIDBytes:
		return fmt.Errorf("ID of %d bytes, at most %d", len(n.ID), MaxIDBytes)
	case len(n.Addr) > MaxAddrBytes:
		return fmt.Errorf("address of %d bytes, at most %d", len(n.Addr), MaxAddrBytes)
	case n.Weight > MaxWeight:
		return fmt.Errorf("weight %d, at most %d", n.Weight, MaxWeight)
	}
	if _, err := n.PublicKey.MarshalBinary(); err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	host, port, err := net.SplitHostPort(n.Addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", n.Addr, err)
	}
	if host == "" {
		return fmt.Errorf("address %q: no host", n.Addr)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("address %q: port must be a number from 1 to 65535", n.Addr)
	}
	return nil
}

// Len returns the number of nodes.
func (m *Membership) Len() int { return len(m.nodes) }

// Nodes returns the nodes, in the order they were given.
func (m *Membership) Nodes() []Node { return slices.Clone(m.nodes) }

// IDs returns the node IDs, in the order the nodes were given.
func (m *Membership) IDs() []stdtypes.NodeID {
	ids := make([]stdtypes.NodeID, len(m.nodes))
	for i, n := range m.nodes {
		ids[i] = n.ID
	}
	return ids
}

// Node returns the node with ID id.
func (m *Membership) Node(id stdtypes.NodeID) (Node, bool) {
	i, ok := m.byID[id]
	if !ok {
		return Node{}, false
	}
	return m.nodes[i], true
}

// NodeByKey returns the node whose public key is key.
func (m *Membership) NodeByKey(key crypto.PublicKey) (Node, bool) {
	raw, err := key.MarshalBinary()
	if err != nil {
		return Node{}, false
	}
	i, ok := m.byKey[string(raw)]
	if !ok {
		return Node{}, false
	}
	return m.nodes[i], true
}

// file is the JSON form of a membership.
type file struct {
	Version int        `json:"version"`
	Nodes   []fileNode `json:"nodes"`
}

type fileNode struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
	Key  string `json:"key"`
	// Weight is omitted when it is the default, 1.
	Weight uint64 `json:"weight,omitempty"`
}

// Marshal returns the membership in the file format, indented, with a
// final newline.
func (m *Membership) Marshal() []byte {
	f := file{Version: FormatVersion, Nodes: make([]fileNode, len(m.nodes))}
	for i, n := range m.nodes {
		f.Nodes[i] = fileNode{ID: string(n.ID), Addr: n.Addr, Key: n.PublicKey.Text()}
		if w := n.weight(); w != 1 {
			f.Nodes[i].Weight = w
		}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("membership: marshal: %v", err)) // Strings only: cannot fail.
	}
	return append(data, '\n')
}

// Parse reads a membership in the file format and validates it as New
// does. Unknown fields, a version other than FormatVersion and anything
// after the JSON object are refused.
func Parse(data []byte) (*Membership, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalid)
	}
	if f.Version != FormatVersion {
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrInvalid, f.Version, FormatVersion)
	}
	nodes := make([]Node, len(f.Nodes))
	for i, fn := range f.Nodes {
		key, err := crypto.ParsePublicKeyText(fn.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: node %d (%q): %w", ErrInvalid, i, fn.ID, err)
		}
		nodes[i] = Node{ID: stdtypes.NodeID(fn.ID), Addr: fn.Addr, PublicKey: key, Weight: fn.Weight}
	}
	return New(nodes)
}

// Load reads and parses the membership file at path.
func Load(path string) (*Membership, error) {
	data, err := readFile(path, maxFileBytes)
	if err != nil {
		return nil, err
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Save writes the membership to the file at path, replacing it if it
// exists.
func (m *Membership) Save(path string) error {
	if err := os.WriteFile(path, m.Marshal(), 0o644); err != nil {
		return fmt.Errorf("save membership: %w", err)
	}
	return nil
}

// readFile reads the file at path, refusing one longer than limit.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
