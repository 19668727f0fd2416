package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// Limits of the chat. The whole history is the application's state, which
// a node that catches up receives in one state transfer: it stays within
// trantor.DefaultParams' 1 MiB, encoded (JSON doubles a line of quotes
// and backslashes at worst).
const (
	// maxLineBytes bounds a line; a longer one is refused before it is
	// submitted, and by every node if it comes from elsewhere.
	maxLineBytes = 1 << 10
	// maxHistoryBytes bounds the chat's history: once it is full, lines
	// are refused (the demo keeps every line, to print the whole history
	// on a node that catches up).
	maxHistoryBytes = 256 << 10
	// maxEntryBytes bounds what one transaction adds to the history: a
	// refused command's line holds its sender, its text, and the reason,
	// which may quote the text.
	maxEntryBytes = 3*maxLineBytes + 512
)

// chat is the replicated state machine of the demo: the history of the
// chat and the voters it decided. It prints each line of the history once
// per process, in the order of the log: those a restart or a state
// transfer restores, then each one applied.
type chat struct {
	// members are the nodes that may ever take part (the membership
	// file): /add-node names one of them.
	members *membership.Membership
	state   chatState
	// historyBytes is the size of state.Lines.
	historyBytes int
	// out gets the lines; printed counts those printed.
	out     io.Writer
	printed int
}

// chatState is what a snapshot holds, encoded as JSON (deterministic for
// a struct of slices).
type chatState struct {
	Voters membership.Voters `json:"voters"`
	Lines  []string          `json:"lines"`
}

func newChat(members *membership.Membership, voters membership.Voters, out io.Writer) *chat {
	return &chat{members: members, state: chatState{Voters: slices.Clone(voters)}, out: out}
}

// Apply executes each transaction: a line of the chat, or a command.
// Its result says whether the line was taken.
func (c *chat) Apply(txs []mempool.Tx) ([][]byte, error) {
	results := make([][]byte, len(txs))
	for i, tx := range txs {
		sender, text := senderOf(tx.ClientID), string(tx.Data)
		if !isLine(sender) || !isLine(text) {
			// Nothing to print: it could rewrite the terminals.
			results[i] = []byte("refused: not a line of printable text")
			continue
		}
		if c.historyBytes+maxEntryBytes > maxHistoryBytes {
			// Checked first, so that no command takes effect unseen.
			results[i] = []byte("refused: the chat is full")
			continue
		}
		line, err := c.execute(sender, text)
		results[i] = []byte("ok")
		if err != nil {
			// Everyone sees why a command did nothing.
			results[i] = []byte("refused: " + err.Error())
			line = fmt.Sprintf("* %s: %s refused: %v", sender, text, err)
		}
		c.state.Lines = append(c.state.Lines, line)
		c.historyBytes += len(line)
	}
	return results, c.print()
}

// execute returns the history line of text from sender, having applied
// the command it is, if it is one.
func (c *chat) execute(sender, text string) (string, error) {
	if !isCommand(text) {
		return fmt.Sprintf("%s: %s", sender, text), nil
	}
	fields := strings.Fields(text)
	switch {
	case fields[0] == "/add-node" && len(fields) == 3:
		id, addr := stdtypes.NodeID(fields[1]), fields[2]
		n, ok := c.members.Node(id)
		switch {
		case !ok:
			return "", fmt.Errorf("node %s is not in the membership file", id)
		case n.Addr != addr:
			return "", fmt.Errorf("node %s listens on %s, not %s", id, n.Addr, addr)
		case c.state.Voters.Contains(id):
			return "", fmt.Errorf("node %s is a member already", id)
		}
		c.state.Voters = append(c.state.Voters, membership.Voter{ID: id, Weight: 1})
		return fmt.Sprintf("* %s added node %s (%s)", sender, id, addr), nil
	case fields[0] == "/remove-node" && len(fields) == 2:
		id := stdtypes.NodeID(fields[1])
		i := c.state.Voters.Index(id)
		switch {
		case i < 0:
			return "", fmt.Errorf("node %s is not a member", id)
		case len(c.state.Voters) == 1:
			return "", errors.New("the last member stays")
		}
		c.state.Voters = slices.Delete(c.state.Voters, i, i+1)
		return fmt.Sprintf("* %s removed node %s", sender, id), nil
	}
	return "", errors.New("unknown command: /add-node ID ADDR or /remove-node ID")
}

// isCommand reports whether a line of text is a command.
func isCommand(text string) bool { return strings.HasPrefix(strings.TrimSpace(text), "/") }

// Snapshot returns the history and the voters, which are also the
// membership the chat decides (ISS applies it a fixed number of epochs
// after the one that ends now).
func (c *chat) Snapshot() ([]byte, membership.Voters, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Else "<" takes 6 bytes.
	if err := enc.Encode(c.state); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), slices.Clone(c.state.Voters), nil
}

// Restore replaces the state with a snapshot and prints the lines this
// process has not printed yet.
func (c *chat) Restore(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s chatState
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("chat: restore: %w", err)
	}
	if err := s.Voters.Validate(); err != nil {
		return fmt.Errorf("chat: restore: %w", err)
	}
	c.state, c.historyBytes = s, 0
	for _, l := range s.Lines {
		c.historyBytes += len(l)
	}
	c.printed = min(c.printed, len(s.Lines))
	return c.print()
}

// print prints the lines not printed yet.
func (c *chat) print() error {
	for ; c.printed < len(c.state.Lines); c.printed++ {
		if _, err := fmt.Fprintln(c.out, c.state.Lines[c.printed]); err != nil {
			return err
		}
	}
	return nil
}

// clientPrefix starts the client ID under which a node submits its
// lines: clientPrefix, the node's ID, "/", and its incarnation.
const clientPrefix = "chat/"

// clientID returns the client ID of node id's lines at incarnation inc:
// one per start of the node, so that it numbers its lines from 0 again.
func clientID(id stdtypes.NodeID, inc uint64) string {
	return fmt.Sprintf("%s%s/%d", clientPrefix, id, inc)
}

// senderOf returns the name a line's client ID gives its sender: the node
// for the demo's clients, the client ID for another client.
func senderOf(clientID string) string {
	rest, ok := strings.CutPrefix(clientID, clientPrefix)
	if !ok {
		return clientID
	}
	if i := strings.LastIndexByte(rest, '/'); i > 0 {
		return rest[:i]
	}
	return clientID
}

// isLine reports whether s is a line the chat takes: some printable text
// of at most maxLineBytes, so that a line cannot rewrite the terminal of
// the nodes that print it.
func isLine(s string) bool {
	if len(s) > maxLineBytes || strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		// Not printable: control characters (C0 and C1), format
		// characters such as bidirectional overrides, and the
		// replacement of an invalid encoding.
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
