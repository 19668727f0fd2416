package main

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/bcb"
)

func TestOrderedPrinter(t *testing.T) {
	for _, c := range []struct {
		name string
		// seqs are the leader's instances delivered, in delivery order;
		// another leader's instance is written -1.
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
	} {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			p := newOrderedPrinter(&out, "1", "0", 3)
			for _, seq := range c.seqs {
				id := bcb.InstanceID{Leader: "0", Seq: uint64(seq)}
				if seq < 0 {
					id = bcb.InstanceID{Leader: "9", Seq: 0}
				}
				p.print(bcb.NewDeliver("app", id, []byte("x")))
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
// becomes "0/2", "node 1 missed 0/0 to 0/1" stays "missed 0/0 to 0/1 |".
func summarize(out string) string {
	var parts []string
	for line := range strings.Lines(out) {
		line = strings.TrimPrefix(strings.TrimSpace(line), "node 1 ")
		if rest, ok := strings.CutPrefix(line, "delivered "); ok {
			parts = append(parts, strings.TrimSuffix(rest, ": x"))
		} else {
			parts = append(parts, line+" |")
		}
	}
	return strings.Join(parts, " ")
}
