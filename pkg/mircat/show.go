package mircat

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

func newShowCmd(e *env) *cobra.Command {
	var f showFlags
	cmd := &cobra.Command{
		Use:   "show LOG...",
		Short: "Print the events of logs, one line each, filtered",
		Long: `show prints the events of the logs (stream files, directories of them, SQLite
logs), merged by time, one line each:

  TIME  NODE  #SEQ bBATCH  in|out  DEST  TYPE {FIELD:VALUE ...}

"in" marks the inputs of the node's passive modules (events from active
modules, injected ones), "out" what passive modules produced. With --json each
event is one JSON object on a line: node, seq, batch, time, dest, type, input,
and event (the event's fields as JSON, null with a note when it cannot be
decoded). An event whose type, or the type of a message it holds, is not
registered in this binary is decoded generically: its fields as plain data,
sorted by name, and a value of an unknown type inside it by its tag number
(with --json, a note says so).

The filters combine: an event is shown if it passes all of them. --node,
--module and --event take several values (repeated or comma-separated), any
of which matches. --from and --to take a sequence number (of each node's
events) or an RFC 3339 time (as shown in the output), and are inclusive.
--grep matches the human-readable line, also with --json, so that both forms
select the same events.

` + exitCodesHelp,
		Example: `  mircat show run/
  mircat show run/ --node 0 --module pingpong --from 100 --to 200
  mircat show run/ --event mir.SendMessage,mir.MessageReceived --grep 'Seq:7\b'
  mircat show run/ --from 2025-01-02T15:04:05Z --json | jq -c .event`,
		Args: needLogs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sel, err := f.selector()
			if err != nil {
				return err
			}
			return runShow(e, args, sel, f)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.nodes, "node", nil, "show only events of these nodes")
	fl.StringSliceVar(&f.modules, "module", nil, "show only events for these modules or their submodules (iss matches iss/pbft/3)")
	fl.StringSliceVar(&f.events, "event", nil, "show only events of these types: mir.SendMessage, or SendMessage for that name in any package")
	fl.StringVar(&f.from, "from", "", "show events from this sequence number or RFC 3339 time on")
	fl.StringVar(&f.to, "to", "", "show events up to this sequence number or RFC 3339 time")
	fl.StringVar(&f.grep, "grep", "", "show only events whose line matches this regular expression (Go syntax)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per event")
	fl.BoolVar(&f.noProgress, "no-progress", false, "never show a progress bar")
	return cmd
}

type showFlags struct {
	nodes, modules, events []string
	from, to, grep         string
	json, noProgress       bool
}

// selector selects the events to show.
type selector struct {
	// query holds the node, module and time filters.
	query eventlog.Query
	// fromSeq and toSeq bound sequence numbers; they are kept apart from the
	// query, whose ToSeq 0 means no bound, so that --to 0 works.
	fromSeq, toSeq *uint64
	types          typeMatcher
	grep           *regexp.Regexp
}

// filtering tells whether the selector selects less than everything, which
// is when a scan may be long before it shows anything.
func (s *selector) filtering() bool {
	q := &s.query
	return len(q.Nodes)+len(q.Modules) > 0 || !q.From.IsZero() || !q.To.IsZero() ||
		s.fromSeq != nil || s.toSeq != nil || len(s.types) > 0 || s.grep != nil
}

// match reports whether rec passes the filters but grep, which needs the
// rendered line.
func (s *selector) match(rec *eventlog.Record) bool {
	if s.fromSeq != nil && rec.Seq < *s.fromSeq || s.toSeq != nil && rec.Seq > *s.toSeq {
		return false
	}
	return s.types.match(rec.Type) && s.query.Match(rec)
}

// past reports whether rec, and so every record after it, lies after the
// --to time: logs are read in time order, so the scan can stop there.
func (s *selector) past(rec *eventlog.Record) bool {
	return !s.query.To.IsZero() && rec.Time.After(s.query.To)
}

func (f *showFlags) selector() (*selector, error) {
	s := &selector{types: typeMatcher(f.events)}
	for _, n := range f.nodes {
		s.query.Nodes = append(s.query.Nodes, stdtypes.NodeID(n))
	}
	for _, m := range f.modules {
		id := stdtypes.ModuleID(m)
		if err := id.Validate(); err != nil {
			return nil, usageError("--module %q: %v", m, err)
		}
		s.query.Modules = append(s.query.Modules, id)
	}
	var err error
	if s.fromSeq, s.query.From, err = parseBound("--from", f.from); err != nil {
		return nil, err
	}
	if s.toSeq, s.query.To, err = parseBound("--to", f.to); err != nil {
		return nil, err
	}
	if f.grep != "" {
		if s.grep, err = regexp.Compile(f.grep); err != nil {
			return nil, usageError("--grep: %v", err)
		}
	}
	return s, nil
}

// parseBound parses the value of --from or --to: a sequence number or an
// RFC 3339 time. Empty is no bound.
func parseBound(flag, v string) (*uint64, time.Time, error) {
	if v == "" {
		return nil, time.Time{}, nil
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		return &n, time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, time.Time{}, usageError("%s %q: neither a sequence number nor an RFC 3339 time (such as 2025-01-02T15:04:05.5Z)", flag, v)
	}
	return nil, t, nil
}

// typeMatcher matches event type names: a pattern matches the name it
// equals, and a pattern without a dot also the names ending in "." and
// itself, so that SendMessage matches mir.SendMessage. Empty matches all.
type typeMatcher []string

func (m typeMatcher) match(name string) bool {
	if len(m) == 0 {
		return true
	}
	for _, p := range m {
		if name == p {
			return true
		}
		if !strings.Contains(p, ".") && strings.HasSuffix(name, p) &&
			len(name) > len(p) && name[len(name)-len(p)-1] == '.' {
			return true
		}
	}
	return false
}

func runShow(e *env, paths []string, sel *selector, f showFlags) error {
	set, err := openLogs(paths)
	if err != nil {
		return failure(err)
	}
	defer set.Close()
	out := newOutput(e.stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false) // Events are read by people and jq, not embedded in HTML.
	// A bar on stderr would be drawn over lines written to the same
	// terminal: only filtered output elsewhere gets one.
	p := e.newProgress(set, !f.noProgress && sel.filtering() && !isTerminal(e.stdout))
	var line []byte
	var werr error
	err = scan(set, p, func(rec *eventlog.Record) bool {
		if sel.past(rec) {
			return false
		}
		if !sel.match(rec) {
			return true
		}
		d := decode(rec)
		// The line is rendered for --grep even with --json, and only then:
		// rendering walks the event by reflection.
		if !f.json || sel.grep != nil {
			line = appendLine(line[:0], d)
			if sel.grep != nil && !sel.grep.Match(line) {
				return true
			}
		}
		if f.json {
			werr = enc.Encode(toJSON(d))
		} else {
			line = append(line, '\n')
			_, werr = out.Write(line)
		}
		return werr == nil
	})
	if err != nil {
		return err
	}
	if werr == nil {
		werr = out.Flush()
	}
	if err := outputError(werr); err != nil {
		return err
	}
	return e.finish(set)
}
