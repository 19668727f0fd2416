package mircat

import (
	"bufio"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

func newListCmd(e *env) *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list LOG...",
		Short: "Count the events of logs per node, module and event type",
		Long: `list reads the logs (stream files, directories of them, SQLite logs) and prints
how many events each node dispatched, how many each module received (by the
top-level module of the destination, iss for iss/pbft/3, or by the full path
with --full-path) and how many there are of each event type, with totals.
Types that this binary cannot decode are marked. Warnings, such as a log cut
off by a crash or events the recorder dropped, go to stderr.

` + exitCodesHelp,
		Example: `  mircat list run/
  mircat list --full-path run/0.000000.mirlog run/1.000000.mirlog`,
		Args: needLogs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runList(e, args, o)
		},
	}
	cmd.Flags().BoolVar(&o.fullPath, "full-path", false, "count modules by the full destination path (iss/pbft/3), not the top-level module")
	cmd.Flags().BoolVar(&o.noProgress, "no-progress", false, "never show a progress bar")
	return cmd
}

type listOptions struct {
	fullPath   bool
	noProgress bool
}

// counts are what list counts.
type counts struct {
	total   uint64
	nodes   map[stdtypes.NodeID]uint64
	modules map[stdtypes.ModuleID]uint64
	types   map[string]uint64
	// unencodable counts, per type, the events that could not be encoded
	// when they were recorded.
	unencodable map[string]uint64
	first, last time.Time
}

func runList(e *env, paths []string, o listOptions) error {
	set, err := openLogs(paths)
	if err != nil {
		return failure(err)
	}
	defer set.Close()
	c := counts{
		nodes:       make(map[stdtypes.NodeID]uint64),
		modules:     make(map[stdtypes.ModuleID]uint64),
		types:       make(map[string]uint64),
		unencodable: make(map[string]uint64),
	}
	err = scan(set, e.newProgress(set, !o.noProgress), func(rec *eventlog.Record) bool {
		c.add(rec, o.fullPath)
		return true
	})
	if err != nil {
		return err
	}
	out := newOutput(e.stdout)
	c.print(out, len(set.Files()))
	if err := outputError(out.Flush()); err != nil {
		return err
	}
	return e.finish(set)
}

func (c *counts) add(rec *eventlog.Record, fullPath bool) {
	c.total++
	c.nodes[rec.Node]++
	dest := rec.Dest
	if !fullPath {
		dest = dest.Top()
	}
	c.modules[dest]++
	c.types[rec.Type]++
	if rec.Unencodable {
		c.unencodable[rec.Type]++
	}
	if c.first.IsZero() || rec.Time.Before(c.first) {
		c.first = rec.Time
	}
	if rec.Time.After(c.last) {
		c.last = rec.Time
	}
}

// print writes the counts, each table sorted by name so that the output is
// the same for the same logs.
func (c *counts) print(w *bufio.Writer, files int) {
	fmt.Fprintf(w, "%d events, %d nodes, %d modules, %d event types in %d %s\n",
		c.total, len(c.nodes), len(c.modules), len(c.types), files, plural(files, "file", "files"))
	if c.total > 0 {
		fmt.Fprintf(w, "from %s to %s (%v)\n", c.first.UTC().Format(timeLayout), c.last.UTC().Format(timeLayout), c.last.Sub(c.first))
	}
	printTable(w, "node", c.total, c.nodes, nil)
	printTable(w, "module", c.total, c.modules, nil)
	printTable(w, "event type", c.total, c.types, func(t string) string {
		switch {
		case c.unencodable[t] == c.types[t]:
			return "  (not encodable when recorded)"
		case c.unencodable[t] > 0:
			return fmt.Sprintf("  (%d not encodable when recorded)", c.unencodable[t])
		}
		if _, err := codec.New(t); err != nil {
			return "  (not registered in this binary: decoded generically)"
		}
		return ""
	})
}

// printTable writes one table of counts: name, count, share of the total,
// and a note per name if note is not nil.
func printTable[K ~string](w *bufio.Writer, title string, total uint64, m map[K]uint64, note func(string) string) {
	if len(m) == 0 {
		return
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b K) int { return cmp.Compare(a, b) })
	width := len(title)
	for _, k := range keys {
		width = max(width, len(k))
	}
	countWidth := max(len(fmt.Sprint(total)), len("events"))
	fmt.Fprintf(w, "\n%-*s  %*s  %6s\n", width, title, countWidth, "events", "share")
	for _, k := range keys {
		n := m[k]
		fmt.Fprintf(w, "%-*s  %*d  %5.1f%%", width, k, countWidth, n, 100*float64(n)/float64(total))
		if note != nil {
			w.WriteString(note(string(k)))
		}
		w.WriteByte('\n')
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
