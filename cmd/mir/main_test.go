package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
)

// run runs the command tree with args and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestKeygenAndPubkey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.key")
	out, err := run(t, "keygen", "-o", path)
	if err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	pub, err := crypto.ParsePublicKeyText(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("keygen printed %q: %v", out, err)
	}
	key, err := crypto.LoadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Public().Equal(pub) {
		t.Error("the printed public key is not the saved key's")
	}
	out, err = run(t, "pubkey", path)
	if err != nil || strings.TrimSpace(out) != pub.Text() {
		t.Errorf("pubkey printed %q, %v", out, err)
	}
	// Never overwrite a key.
	if _, err := run(t, "keygen", "-o", path); err == nil {
		t.Error("keygen overwrote an existing key file")
	}
	// Other scheme.
	p256 := filepath.Join(dir, "p256.key")
	if out, err := run(t, "keygen", "-o", p256, "--scheme", "ecdsa-p256"); err != nil || !strings.HasPrefix(out, "ecdsa-p256:") {
		t.Errorf("keygen --scheme ecdsa-p256: %q, %v", out, err)
	}
	for _, args := range [][]string{
		{"keygen"},
		{"keygen", "-o", filepath.Join(dir, "x.key"), "--scheme", "rsa"},
		{"pubkey"},
		{"pubkey", filepath.Join(dir, "missing.key")},
	} {
		if _, err := run(t, args...); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestMembershipGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deploy")
	out, err := run(t, "membership", "generate", "-n", "4", "--base-port", "17000", "--dir", dir)
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	if !strings.Contains(out, "node 3  127.0.0.1:17003  node-3.key") {
		t.Errorf("unexpected output:\n%s", out)
	}
	m, err := membership.Load(filepath.Join(dir, "membership.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 4 {
		t.Fatalf("%d nodes, want 4", m.Len())
	}
	for _, n := range m.Nodes() {
		key, err := crypto.LoadPrivateKey(filepath.Join(dir, "node-"+string(n.ID)+".key"))
		if err != nil {
			t.Fatal(err)
		}
		if !key.Public().Equal(n.PublicKey) {
			t.Errorf("node %s: key file does not match the membership", n.ID)
		}
	}
	// Nothing is overwritten, and nothing is written when something would be.
	before, _ := os.ReadFile(filepath.Join(dir, "membership.json"))
	if _, err := run(t, "membership", "generate", "-n", "6", "--dir", dir); err == nil {
		t.Error("generate overwrote an existing membership")
	}
	if _, err := os.Stat(filepath.Join(dir, "node-5.key")); err == nil {
		t.Error("a failed generate left a key file behind")
	}
	after, _ := os.ReadFile(filepath.Join(dir, "membership.json"))
	if !bytes.Equal(before, after) {
		t.Error("a failed generate changed the membership")
	}

	out, err = run(t, "membership", "check", filepath.Join(dir, "membership.json"))
	if err != nil || !strings.HasPrefix(out, "4 nodes\n") || !strings.Contains(out, "node 2  127.0.0.1:17002  ed25519:") {
		t.Errorf("check: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"membership", "generate", "-n", "0", "--dir", t.TempDir()},
		{"membership", "generate", "--base-port", "70000", "--dir", t.TempDir()},
		{"membership", "generate", "extra"},
		{"membership", "check", filepath.Join(dir, "node-0.key")},
		{"membership", "check"},
		{"nosuchcommand"},
	} {
		if _, err := run(t, args...); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestMembershipGenerateAddrs: --addrs names each node's address, as
// containers and pods need; it excludes the flags of local addresses.
func TestMembershipGenerateAddrs(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, "membership", "generate", "--addrs", "mir-0:7000,mir-1:7000,mir-2:7000,mir-3:7000", "--dir", dir)
	if err != nil || !strings.Contains(out, "node 3  mir-3:7000  node-3.key") {
		t.Fatalf("generate --addrs: %v\n%s", err, out)
	}
	m, err := membership.Load(filepath.Join(dir, "membership.json"))
	if err != nil || m.Len() != 4 {
		t.Fatalf("membership: %v", err)
	}
	for _, args := range [][]string{
		{"--addrs", "mir-0:7000", "--nodes", "2"},
		{"--addrs", "mir-0:7000", "--base-port", "8000"},
		{"--addrs", "mir-0"},
		{"--addrs", "mir-0:7000,mir-0:7000"},
	} {
		args = append([]string{"membership", "generate", "--dir", t.TempDir()}, args...)
		if _, err := run(t, args...); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
