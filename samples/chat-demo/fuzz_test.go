package main

import (
	"bytes"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
)

// FuzzChatApply: whatever a client submits, under whatever client ID, the
// chat never fails, answers each transaction, prints only printable
// lines, and keeps valid voters.
func FuzzChatApply(f *testing.F) {
	for _, seed := range []struct{ client, text string }{
		{"chat/0/1", "hello"}, {"chat/0/1", "/add-node 2 127.0.0.1:1"}, {"alice", "/remove-node 0"},
		{"x\x1b", "hi"}, {"chat/1/2", "/add-node"}, {"chat/1/2", "\xff\xfe"}, {"", ""},
	} {
		f.Add(seed.client, []byte(seed.text))
	}
	c, _, out := newTestChat(f)
	f.Fuzz(func(t *testing.T, client string, text []byte) {
		out.Reset()
		res, err := c.Apply([]mempool.Tx{{TxID: mempool.TxID{ClientID: client}, Data: text}})
		if err != nil || len(res) != 1 || len(res[0]) == 0 {
			t.Fatalf("Apply: %q, %v", res, err)
		}
		printed := bytes.TrimSuffix(out.Bytes(), []byte("\n"))
		if bytes.ContainsFunc(printed, func(r rune) bool { return !unicode.IsPrint(r) && r != '\n' || r == utf8.RuneError }) {
			t.Fatalf("printed %q", printed)
		}
		if err := c.state.Voters.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzChatRestore: a snapshot that does not decode is an error, never a
// panic; one that restores leaves valid voters and prints its lines.
func FuzzChatRestore(f *testing.F) {
	c, members, _ := newTestChat(f)
	if _, err := c.Apply([]mempool.Tx{tx("chat/0/1", "hello")}); err != nil {
		f.Fatal(err)
	}
	snap, _, err := c.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(snap)
	f.Add([]byte(`{"voters":[{"ID":"0","Weight":1}],"lines":null}`))
	f.Add([]byte(`{"voters":[{"ID":"0","Weight":0}],"lines":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		r := newChat(members, membership.EqualVoters("0"), &out)
		if err := r.Restore(data); err != nil {
			return
		}
		if err := r.state.Voters.Validate(); err != nil {
			t.Fatalf("restored invalid voters: %v", err)
		}
		if r.printed != len(r.state.Lines) {
			t.Fatalf("printed %d of %d lines", r.printed, len(r.state.Lines))
		}
	})
}
