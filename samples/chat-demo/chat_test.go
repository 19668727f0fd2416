package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/trantor"
)

// newTestChat returns a chat of a membership of three nodes whose first
// two are members, and what it prints.
func newTestChat(t testing.TB) (*chat, *membership.Membership, *bytes.Buffer) {
	t.Helper()
	members, err := membership.Load(testnet.Deployment(t, t.TempDir(), 3))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	return newChat(members, membership.EqualVoters("0", "1"), &out), members, &out
}

func tx(client, text string) mempool.Tx {
	return mempool.Tx{TxID: mempool.TxID{ClientID: client}, Data: []byte(text)}
}

// TestChatApply: lines and commands, each printed once, in order; a
// refused command printed with its reason; a line that is not printable
// text refused and not printed; the voters the commands decide.
func TestChatApply(t *testing.T) {
	c, members, out := newTestChat(t)
	n2, _ := members.Node("2")
	from0 := clientID("0", 1)
	steps := []struct {
		text, result, printed string
	}{
		{"hello", "ok", "0: hello"},
		{"/add-node 2 " + n2.Addr, "ok", "* 0 added node 2 (" + n2.Addr + ")"},
		{"/add-node 2 " + n2.Addr, "refused: node 2 is a member already", "* 0: /add-node 2 " + n2.Addr + " refused: node 2 is a member already"},
		{"/add-node 2 127.0.0.1:1", "refused: node 2 listens on", "refused"},
		{"/add-node 9 127.0.0.1:1", "refused: node 9 is not in the membership file", "refused"},
		{"/remove-node 1", "ok", "* 0 removed node 1"},
		{"/remove-node 1", "refused: node 1 is not a member", "refused"},
		{"/shout", "refused: unknown command", "refused"},
		{"bell\a", "refused: not a line", ""},
		{"c1 \u008a", "refused: not a line", ""},
		{"bidi \u202e", "refused: not a line", ""},
		{"   ", "refused: not a line", ""},
		{strings.Repeat("x", maxLineBytes+1), "refused: not a line", ""},
	}
	for _, s := range steps {
		out.Reset()
		res, err := c.Apply([]mempool.Tx{tx(from0, s.text)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(res[0]), s.result) {
			t.Errorf("%q: result %q, want %q...", s.text, res[0], s.result)
		}
		if got := out.String(); !strings.Contains(got, s.printed) || (s.printed == "") != (got == "") {
			t.Errorf("%q: printed %q, want %q", s.text, got, s.printed)
		}
	}
	_, voters, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if got := voters.IDs(); len(got) != 2 || got[0] != "0" || got[1] != "2" {
		t.Fatalf("voters %v, want [0 2]", got)
	}
	if res, _ := c.Apply([]mempool.Tx{tx(from0, "/remove-node 0"), tx(from0, "/remove-node 2")}); string(res[1]) != "refused: the last member stays" {
		t.Fatalf("the last member was removed: %q", res[1])
	}
	if res, _ := c.Apply([]mempool.Tx{tx("evil\x1b[2J", "hi")}); !strings.HasPrefix(string(res[0]), "refused") {
		t.Fatalf("a client ID with control characters was printed: %q", res[0])
	}
}

// TestChatRestore: a restored chat prints the lines this process has not
// printed, and a fresh one (a restarted node) the whole chat; a snapshot
// that does not decode, or names invalid voters, is an error.
func TestChatRestore(t *testing.T) {
	a, members, outA := newTestChat(t)
	if _, err := a.Apply([]mempool.Tx{tx(clientID("0", 1), "one"), tx(clientID("1", 3), "two")}); err != nil {
		t.Fatal(err)
	}
	snap, _, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var outB bytes.Buffer
	b := newChat(members, membership.EqualVoters("0"), &outB)
	if err := b.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if outB.String() != outA.String() || outB.String() != "0: one\n1: two\n" {
		t.Fatalf("restored chat printed %q, the original %q", outB.String(), outA.String())
	}
	if err := b.Restore(snap); err != nil || outB.String() != outA.String() {
		t.Fatalf("restoring again printed %q (%v)", outB.String(), err)
	}
	if _, voters, _ := b.Snapshot(); len(voters) != 2 {
		t.Fatalf("restored voters %v", voters)
	}
	for _, bad := range []string{"", "{", `{"voters":[],"lines":[]}`, `{"voters":[{"ID":"0","Weight":1}],"lines":[],"x":1}`} {
		if err := b.Restore([]byte(bad)); err == nil {
			t.Errorf("snapshot %q restored", bad)
		}
	}
}

// TestChatFull: once the history holds maxHistoryBytes, lines are refused.
func TestChatFull(t *testing.T) {
	c, _, _ := newTestChat(t)
	line := strings.Repeat("x", maxLineBytes-10)
	var res [][]byte
	for range maxHistoryBytes/len(line) + 2 {
		var err error
		if res, err = c.Apply([]mempool.Tx{tx(clientID("0", 1), line)}); err != nil {
			t.Fatal(err)
		}
	}
	if string(res[0]) != "refused: the chat is full" || c.historyBytes > maxHistoryBytes {
		t.Fatalf("result %q with %d bytes of history", res[0], c.historyBytes)
	}
}

func TestSenderOf(t *testing.T) {
	for id, want := range map[string]string{
		clientID("3", 7): "3", "alice": "alice", "chat/": "chat/", "chat/x/y/2": "x/y",
	} {
		if got := senderOf(id); got != want {
			t.Errorf("senderOf(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestChatStateBound: a full chat of the worst lines for JSON (quotes,
// escaped in two bytes; "<", in six unless HTML escaping is off) fits in
// the application's state bound.
func TestChatStateBound(t *testing.T) {
	limit := trantor.DefaultParams(membership.EqualVoters("0")).BatchFetcher.MaxAppStateBytes
	for _, char := range []string{`"`, "<"} {
		c, _, _ := newTestChat(t)
		line := strings.Repeat(char, maxLineBytes)
		for c.historyBytes+maxEntryBytes <= maxHistoryBytes {
			if _, err := c.Apply([]mempool.Tx{tx(clientID("0", 1), line)}); err != nil {
				t.Fatal(err)
			}
		}
		snap, _, err := c.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if len(snap) > limit {
			t.Fatalf("a chat full of %s has a snapshot of %d bytes, the application's state at most %d", char, len(snap), limit)
		}
	}
}
