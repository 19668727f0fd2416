package mircat

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/replay"
	"github.com/mirframework/mir/stdtypes"
)

// exitDiverged is replay's exit code when a replay differs from its
// recording.
const exitDiverged = 4

type replayOptions struct {
	nodes    []string
	builder  string
	params   string
	builders bool
}

func newReplayCmd(e *env) *cobra.Command {
	var o replayOptions
	cmd := &cobra.Command{
		Use:   "replay LOG...",
		Short: "Re-run recorded nodes and check that they produce exactly what was recorded",
		Long: `replay rebuilds each recorded node (each run of it, if it was restarted) from a
builder (one this mircat was built with), feeds its passive modules the recorded inputs
in debug mode, batch by batch as the node dispatched them, and compares every
output with the recording, byte for byte. It reports the first divergence (its
sequence number, the recorded event and the produced one) or "identical".

The recording names the builder and its parameters (metadata replay.builder and
replay.params, which samples such as pingpong write with -record); --builder
and --params override them. A replay needs the whole run: a recording made
with a filter, or with events dropped, cannot be replayed.

` + exitCodesHelp + `
  4  a replay diverged from its recording`,
		Example: `  mircat replay run/
  mircat replay run/ --node 1
  mircat replay run/1.000000.mirlog --builder pingpong-altered
  mircat replay --builders`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.builders {
				return nil
			}
			return needLogs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.builders {
				out := newOutput(e.stdout)
				for _, name := range e.builders.Names() {
					fmt.Fprintln(out, name)
				}
				return outputError(out.Flush())
			}
			return runReplay(e, args, o)
		},
	}
	cmd.Flags().StringSliceVar(&o.nodes, "node", nil, "replay only these nodes (repeat or separate with commas)")
	cmd.Flags().StringVar(&o.builder, "builder", "", "rebuild the nodes with this builder instead of the one the recording names")
	cmd.Flags().StringVar(&o.params, "params", "", "builder parameters instead of the recorded ones: JSON, or @FILE to read them from a file")
	cmd.Flags().BoolVar(&o.builders, "builders", false, "list the builders this mircat has and exit")
	return cmd
}

// recordedRun is one run of one node found in the logs.
type recordedRun struct {
	node  stdtypes.NodeID
	run   int64
	start time.Time
	meta  map[string]string
	// paths are the files holding the run.
	paths []string
}

// recordedRuns opens the logs at paths and lists the runs they hold
// (findRuns). An input that could not be opened is an error, which stops
// the command (replay, export): what it does must never silently miss a
// log.
func (e *env) recordedRuns(paths []string) ([]*recordedRun, error) {
	set, err := openLogs(paths)
	if err != nil {
		return nil, failure(err)
	}
	defer set.Close()
	runs := findRuns(set)
	if err := e.finish(set); err != nil {
		return nil, err
	}
	return runs, nil
}

// findRuns lists the runs in the logs, ordered by node and start.
func findRuns(set *logSet) []*recordedRun {
	type key struct {
		node stdtypes.NodeID
		run  int64
	}
	byKey := map[key]*recordedRun{}
	var runs []*recordedRun
	add := func(k key, start time.Time, meta map[string]string, path string) {
		r, ok := byKey[k]
		if !ok {
			r = &recordedRun{node: k.node, run: k.run, start: start, meta: meta}
			byKey[k] = r
			runs = append(runs, r)
		}
		if !slices.Contains(r.paths, path) {
			r.paths = append(r.paths, path)
		}
	}
	for _, f := range set.Files() {
		switch f.Kind {
		case kindStream:
			add(key{f.Header.Node, f.Header.Start.UnixNano()}, f.Header.Start, f.Header.Meta, f.Path)
		case kindSQLite:
			for _, r := range f.Runs {
				add(key{stdtypes.NodeID(r.Node), r.ID}, r.Start, r.Meta, f.Path)
			}
		}
	}
	slices.SortFunc(runs, func(a, b *recordedRun) int {
		return cmp.Or(cmp.Compare(a.node, b.node), a.start.Compare(b.start), cmp.Compare(a.run, b.run))
	})
	return runs
}

func runReplay(e *env, paths []string, o replayOptions) error {
	var params []byte
	if o.params != "" {
		params = []byte(o.params)
		if file, ok := strings.CutPrefix(o.params, "@"); ok {
			var err error
			if params, err = os.ReadFile(file); err != nil {
				return usageError("--params: %v", err)
			}
		}
	}
	if o.builder != "" {
		if _, ok := e.builders.Lookup(o.builder); !ok {
			return usageError("--builder %q: no such builder (this mircat has: %s)", o.builder, builderList(e.builders))
		}
	}
	runs, err := e.recordedRuns(paths)
	if err != nil {
		return err
	}
	if len(o.nodes) > 0 {
		runs = slices.DeleteFunc(runs, func(r *recordedRun) bool { return !slices.Contains(o.nodes, string(r.node)) })
		if len(runs) == 0 {
			return failure(fmt.Errorf("no recorded run of node %s in %s", strings.Join(o.nodes, ", "), strings.Join(paths, ", ")))
		}
	}
	if len(runs) == 0 {
		return failure(errors.New("the logs hold no runs"))
	}

	out := newOutput(e.stdout)
	diverged, failed, damaged := 0, 0, 0
	for _, r := range runs {
		res, err := replayRun(e, r, o.builder, params)
		name := fmt.Sprintf("node %s, run of %s", r.node, r.start.UTC().Format(time.RFC3339Nano))
		switch {
		case errors.Is(err, eventlog.ErrCorrupt):
			damaged++
			fmt.Fprintf(e.stderr, "mircat: %s: cannot replay: %v\n", name, err)
		case err != nil:
			failed++
			fmt.Fprintf(e.stderr, "mircat: %s: cannot replay: %v\n", name, err)
		case res.Identical():
			fmt.Fprintf(out, "%s: identical (%d events; %d inputs replayed, %d outputs compared)\n",
				name, res.Events, res.Inputs, res.Compared)
			if res.Pending > 0 {
				fmt.Fprintf(out, "  %d outputs of the replay were never dispatched in the recording (still queued when the node stopped)\n", res.Pending)
			}
		default:
			diverged++
			fmt.Fprintf(out, "%s: DIVERGED after %d outputs matched\n%s", name, res.Compared, res.Divergence)
		}
		if err := out.Flush(); err != nil {
			return outputError(err)
		}
	}
	switch {
	case diverged > 0:
		return &exitError{code: exitDiverged}
	case failed > 0:
		return &exitError{code: exitFailure}
	case damaged > 0:
		return &exitError{code: exitPartial}
	}
	return nil
}

// replayRun replays one run: it rebuilds the node and reads the run's
// records from its files.
func replayRun(e *env, r *recordedRun, builder string, params []byte) (*replay.Result, error) {
	if builder == "" {
		builder = r.meta[replay.MetaBuilder]
		if builder == "" {
			return nil, fmt.Errorf("the recording names no builder (metadata %q); give one with --builder (this mircat has: %s)",
				replay.MetaBuilder, builderList(e.builders))
		}
	}
	if params == nil {
		params = []byte(r.meta[replay.MetaParams])
	}
	mods, err := e.builders.Build(builder, r.node, params)
	if err != nil {
		return nil, err
	}
	set, err := openLogs(r.paths)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	res, err := replay.Run(r.filter(set), mods)
	if err != nil {
		return nil, err
	}
	for _, w := range set.Warnings() {
		e.warn("%s", w)
	}
	if errs := set.Errors(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return res, nil
}

// filter returns the records of src that belong to the run.
func (r *recordedRun) filter(src eventlog.Source) eventlog.Source {
	return eventlog.Filtered(src, eventlog.Query{Nodes: []stdtypes.NodeID{r.node}, Runs: []int64{r.run}})
}

// builderList names builders for a message; a mircat built without any
// says how to get one.
func builderList(builders replay.Builders) string {
	if len(builders) == 0 {
		return "none; a mircat built with mircat.WithReplayBuilders has some"
	}
	return strings.Join(builders.Names(), ", ")
}
