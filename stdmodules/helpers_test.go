package stdmodules

import (
	"fmt"
	"strings"

	"github.com/mirframework/mir/stdtypes"
)

// note is the event tests send and expect back: a destination and a text.
type note struct {
	stdtypes.Header
	Text string
}

func newNote(dest stdtypes.ModuleID, text string) *note {
	return &note{Header: stdtypes.NewHeader(dest), Text: text}
}

// render writes events as short strings for comparison: a note as its
// text, any other event as "Type->dest".
func render(evs ...stdtypes.Event) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		if n, ok := ev.(*note); ok {
			out = append(out, n.Text)
			continue
		}
		out = append(out, fmt.Sprintf("%s->%s", stdtypes.TypeName(ev), ev.Dest()))
	}
	return out
}

func join(s []string) string { return "[" + strings.Join(s, ", ") + "]" }
