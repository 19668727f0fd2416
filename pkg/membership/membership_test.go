package membership_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// key returns a deterministic public key, different for each i.
func key(i int) crypto.PublicKey {
	k, err := crypto.KeyPairFromSeed(crypto.Ed25519, []byte("membership test"), i)
	if err != nil {
		panic(err)
	}
	return k.Public()
}

func TestNew(t *testing.T) {
	good := []membership.Node{
		{ID: "0", Addr: "127.0.0.1:7000", PublicKey: key(0)},
		{ID: "1", Addr: "localhost:7001", PublicKey: key(1)},
		{ID: "2", Addr: "[::1]:7002", PublicKey: p256Key(t)},
	}
	m, err := membership.New(good)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 3 || !slices.Equal(m.IDs(), []stdtypes.NodeID{"0", "1", "2"}) {
		t.Errorf("IDs() = %v", m.IDs())
	}
	n, ok := m.Node("1")
	if !ok || n.Addr != "localhost:7001" || !n.PublicKey.Equal(key(1)) {
		t.Errorf("Node(1) = %+v, %v", n, ok)
	}
	if _, ok := m.Node("3"); ok {
		t.Error("Node(3) found")
	}
	if n, ok := m.NodeByKey(good[2].PublicKey); !ok || n.ID != "2" {
		t.Errorf("NodeByKey(key 2) = %+v, %v", n, ok)
	}
	if _, ok := m.NodeByKey(key(9)); ok {
		t.Error("NodeByKey(unknown key) found a node")
	}
	if _, ok := m.NodeByKey(crypto.PublicKey{}); ok {
		t.Error("NodeByKey(zero key) found a node")
	}

	change := func(f func(ns []membership.Node) []membership.Node) []membership.Node {
		ns := slices.Clone(good)
		return f(ns)
	}
	bad := map[string][]membership.Node{
		"no nodes": nil,
		"empty ID": change(func(ns []membership.Node) []membership.Node { ns[1].ID = ""; return ns }),
		"long ID": change(func(ns []membership.Node) []membership.Node {
			ns[1].ID = stdtypes.NodeID(strings.Repeat("x", 129))
			return ns
		}),
		"duplicate ID":  change(func(ns []membership.Node) []membership.Node { ns[1].ID = "0"; return ns }),
		"same address":  change(func(ns []membership.Node) []membership.Node { ns[1].Addr = ns[0].Addr; return ns }),
		"same key":      change(func(ns []membership.Node) []membership.Node { ns[1].PublicKey = ns[0].PublicKey; return ns }),
		"zero key":      change(func(ns []membership.Node) []membership.Node { ns[1].PublicKey = crypto.PublicKey{}; return ns }),
		"no port":       change(func(ns []membership.Node) []membership.Node { ns[1].Addr = "localhost"; return ns }),
		"port 0":        change(func(ns []membership.Node) []membership.Node { ns[1].Addr = "localhost:0"; return ns }),
		"port too big":  change(func(ns []membership.Node) []membership.Node { ns[1].Addr = "localhost:65536"; return ns }),
		"named port":    change(func(ns []membership.Node) []membership.Node { ns[1].Addr = "localhost:http"; return ns }),
		"no host":       change(func(ns []membership.Node) []membership.Node { ns[1].Addr = ":7000"; return ns }),
		"long address":  change(func(ns []membership.Node) []membership.Node { ns[1].Addr = strings.Repeat("a", 300) + ":1"; return ns }),
		"bad addr form": change(func(ns []membership.Node) []membership.Node { ns[1].Addr = "a:b:c"; return ns }),
	}
	for name, nodes := range bad {
		if _, err := membership.New(nodes); !errors.Is(err, membership.ErrInvalid) {
			t.Errorf("%s: New = %v, want ErrInvalid", name, err)
		}
	}
}

func TestFileRoundTrip(t *testing.T) {
	m, keys, err := membership.Local(4, "127.0.0.1", 7000)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Fatalf("%d keys, want 4", len(keys))
	}
	for i, n := range m.Nodes() {
		if want := fmt.Sprintf("127.0.0.1:%d", 7000+i); n.Addr != want || n.ID != stdtypes.NewNodeIDFromInt(i) {
			t.Errorf("node %d is %s on %s, want %d on %s", i, n.ID, n.Addr, i, want)
		}
		if !n.PublicKey.Equal(keys[i].Public()) {
			t.Errorf("node %d: key does not match its private key", i)
		}
	}
	path := filepath.Join(t.TempDir(), "membership.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := membership.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Marshal(), m.Marshal()) {
		t.Errorf("round trip changed the membership:\n%s\nwant\n%s", got.Marshal(), m.Marshal())
	}
	if !strings.Contains(string(m.Marshal()), `"key": "ed25519:`) {
		t.Errorf("unexpected format:\n%s", m.Marshal())
	}
}

func TestParse(t *testing.T) {
	const k0 = "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	const k1 = "ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	valid := `{"version": 1, "nodes": [{"id": "a", "addr": "h:1", "key": "` + k0 + `"}, {"id": "b", "addr": "h:2", "key": "` + k1 + `"}]}`
	m, err := membership.Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.IDs(), []stdtypes.NodeID{"a", "b"}) {
		t.Errorf("IDs() = %v", m.IDs())
	}
	for name, in := range map[string]string{
		"not JSON":         `{`,
		"trailing data":    valid + `{}`,
		"unknown field":    `{"version": 1, "nodes": [{"id": "a", "addr": "h:1", "key": "` + k0 + `", "port": 1}]}`,
		"wrong version":    `{"version": 2, "nodes": [{"id": "a", "addr": "h:1", "key": "` + k0 + `"}]}`,
		"no version":       `{"nodes": [{"id": "a", "addr": "h:1", "key": "` + k0 + `"}]}`,
		"no nodes":         `{"version": 1, "nodes": []}`,
		"key without name": `{"version": 1, "nodes": [{"id": "a", "addr": "h:1", "key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}`,
		"short key":        `{"version": 1, "nodes": [{"id": "a", "addr": "h:1", "key": "ed25519:AAAA"}]}`,
		"bad base64":       `{"version": 1, "nodes": [{"id": "a", "addr": "h:1", "key": "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!="}]}`,
		"duplicate keys":   `{"version": 1, "nodes": [{"id": "a", "addr": "h:1", "key": "` + k0 + `"}, {"id": "b", "addr": "h:2", "key": "` + k0 + `"}]}`,
	} {
		if _, err := membership.Parse([]byte(in)); !errors.Is(err, membership.ErrInvalid) {
			t.Errorf("%s: Parse = %v, want ErrInvalid", name, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := membership.Load(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), 5<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := membership.Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Load(big) = %v, want a size error", err)
	}
}

// TestBadKey: a membership file with a malformed key is invalid, and the
// error says which node and matches crypto.ErrMalformedKey.
func TestBadKey(t *testing.T) {
	for _, k := range []string{"", "ed25519:AAAA", "rsa:" + base64.StdEncoding.EncodeToString(make([]byte, 32))} {
		data := `{"version": 1, "nodes": [{"id": "0", "addr": "127.0.0.1:7000", "key": "` + k + `"}]}`
		_, err := membership.Parse([]byte(data))
		if !errors.Is(err, membership.ErrInvalid) || !errors.Is(err, crypto.ErrMalformedKey) || !strings.Contains(err.Error(), `node 0 ("0")`) {
			t.Errorf("key %q: %v, want ErrInvalid and crypto.ErrMalformedKey, naming the node", k, err)
		}
	}
}

func p256Key(t *testing.T) crypto.PublicKey {
	t.Helper()
	k, err := crypto.KeyPairFromSeed(crypto.ECDSAP256, []byte("membership test"), 0)
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}

func TestLocal(t *testing.T) {
	for _, c := range []struct {
		n, port int
	}{{0, 7000}, {2, 0}, {2, 65535}} {
		if _, _, err := membership.Local(c.n, "127.0.0.1", c.port); !errors.Is(err, membership.ErrInvalid) {
			t.Errorf("Local(%d, %d) = %v, want ErrInvalid", c.n, c.port, err)
		}
	}
	m, _, err := membership.Local(1, "127.0.0.1", 65535)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := m.Node("0"); n.Addr != "127.0.0.1:65535" {
		t.Errorf("address %s", n.Addr)
	}
}

func TestKeyFile(t *testing.T) {
	if got, err := membership.KeyFile("/tmp/m", "3"); err != nil || got != filepath.Join("/tmp/m", "node-3.key") {
		t.Errorf("KeyFile(/tmp/m, 3) = %q, %v", got, err)
	}
	for _, id := range []stdtypes.NodeID{"", ".", "..", "a/b", `a\b`, "../3"} {
		if got, err := membership.KeyFile("/tmp/m", id); err == nil {
			t.Errorf("KeyFile(/tmp/m, %q) = %q, want an error", id, got)
		}
	}
}
