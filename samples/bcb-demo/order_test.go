package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/bcb"
)

func TestOrderedPrinter(t *testing.T) {
	// An instance of the leader's: seq, or -1 for another leader's, or
	// 1000*incarnation+seq for a later incarnation; and -2 for a tick
	// past the gap timeout.
	const tick = -2
	for _, c := range []struct {
		name string
		// seqs are what the node delivers, in order, and ticks.
		seqs []int
		want string // After flush.
	}{
		{"in order", []int{0, 1, 2}, "0/0 0/1 0/2"},
		{"out of order", []int{2, 0, 1, 3}, "0/0 0/1 0/2 0/3"},
		{"another leader is printed at once", []int{1, -1, 0}, "9/0 0/0 0/1"},
		// Window 3: once 3 are held above a gap, it will not fill.
		{"gap for good", []int{1, 3, 4, 5, 2}, "missed 0/0 to 0/0 | 0/1 missed 0/2 to 0/2 | 0/3 0/4 0/5 0/2"},
		{"gap of two", []int{2, 3, 4}, "missed 0/0 to 0/1 | 0/2 0/3 0/4"},
		{"flush prints what waits", []int{0, 2, 4}, "0/0 missed 0/1 to 0/1 | 0/2 missed 0/3 to 0/3 | 0/4"},
		// A node that restarted gets the leader's later instances only.
		{"gap timeout", []int{5, tick, 6}, "missed 0/0 to 0/4 | 0/5 0/6"},
		{"gap timeout, twice", []int{1, tick, 3, tick, 4}, "missed 0/0 to 0/0 | 0/1 missed 0/2 to 0/2 | 0/3 0/4"},
		{"no gap, nothing to report", []int{0, tick, 1}, "0/0 0/1"},
		{"late after the gap timeout", []int{1, tick, 0}, "missed 0/0 to 0/0 | 0/1 0/0"},
		{"leader restarted", []int{0, 2, 1000, 1001}, "0/0 missed 0/1 to 0/1 | 0/2 restarted (incarnation 1) | 0/0 0/1"},
		{"leader restarted, out of order", []int{0, 1001, 1000, 1}, "0/0 restarted (incarnation 1) | 0/0 0/1 0/1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			p := newOrderedPrinter(&out, "1", "0", 3, time.Second)
			now := time.Unix(0, 0)
			for _, seq := range c.seqs {
				if seq == tick {
					now = now.Add(time.Second)
					p.expire(now)
					continue
				}
				id := bcb.InstanceID{Leader: "0", Incarnation: uint64(seq / 1000), Seq: uint64(seq % 1000)}
				if seq == -1 {
					id = bcb.InstanceID{Leader: "9", Seq: 0}
				}
				now = now.Add(time.Millisecond)
				p.print(bcb.NewDeliver("app", id, []byte("x")), now)
			}
			p.flush()
			if got := summarize(out.String()); got != c.want {
				t.Errorf("printed %q, want %q:\n%s", got, c.want, &out)
			}
			if len(p.held) != 0 {
				t.Errorf("%d held after flush", len(p.held))
			}
		})
	}
}

// summarize shortens the printer's lines: "node 1 delivered 0/2: x"
// becomes "0/2", "node 1 missed 0/0 to 0/1" becomes "missed 0/0 to 0/1 |",
// "node 1: leader 0 restarted (incarnation 1); its..." becomes "restarted
// (incarnation 1) |".
func summarize(out string) string {
	var parts []string
	for line := range strings.Lines(out) {
		line = strings.TrimPrefix(strings.TrimSpace(line), "node 1 ")
		if rest, ok := strings.CutPrefix(line, "delivered "); ok {
			parts = append(parts, strings.TrimSuffix(rest, ": x"))
		} else if rest, ok := strings.CutPrefix(line, "node 1: leader 0 "); ok {
			parts = append(parts, strings.Split(rest, ";")[0]+" |")
		} else {
			parts = append(parts, line+" |")
		}
	}
	return strings.Join(parts, " ")
}
