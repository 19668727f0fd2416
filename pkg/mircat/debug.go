package mircat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/stdtypes"
)

const debugHelp = `commands:
  next [N]        go N events forward (default 1); an empty line repeats the last move
  jump SEQ [NODE] go to event SEQ of NODE (default: the current event's node)
  module NAME     go to the next event for module NAME or its submodules
  event TYPE      go to the next event of type TYPE (mir.SendMessage, or SendMessage)
  first           go back to the first event
  print           print the current event in full, as indented JSON
  help            print this
  quit            leave (so does the end of the input)
commands can be shortened to their first letter (n, j, m, e, f, p, h, q)`

func newDebugCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "debug LOG...",
		Short: "Step through logs, one event at a time",
		Long: `debug reads the logs (stream files, directories of them, SQLite logs), merged
by time, and lets you step through their events with commands read from
standard input, one per line. It prints the first event and then a prompt.
It reads plain lines, so it works on a terminal, under tmux or from a script.

` + debugHelp + `

` + exitCodesHelp,
		Example: `  mircat debug run/
  printf 'module pingpong\nprint\n' | mircat debug run/`,
		Args: needLogs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDebug(e, args)
		},
	}
}

// maxCommandLine bounds a command line.
const maxCommandLine = 64 << 10

// debugger is the state of a debug session.
type debugger struct {
	e     *env
	out   *bufio.Writer
	paths []string
	set   *logSet
	// cur is the current event (a clone: the set reuses its records), nil
	// before the first.
	cur *eventlog.Record
	// pos is cur's position among the events of the set, from 0; -1 before
	// the first.
	pos int64
	// shown are the warnings and errors printed already: reopening the
	// logs to go back finds them again.
	shown map[string]bool
	// damaged tells whether a log could not be read whole.
	damaged bool
	// lastMove is the last command that moved, repeated by an empty line.
	lastMove string
}

func runDebug(e *env, paths []string) error {
	set, err := openLogs(paths)
	if err != nil {
		return failure(err)
	}
	d := &debugger{e: e, out: newOutput(e.stdout), paths: paths, set: set, pos: -1, shown: make(map[string]bool)}
	defer func() { d.set.Close() }()
	err = d.loop()
	d.report()
	if err == nil {
		err = d.out.Flush()
	}
	if err := outputError(err); err != nil {
		return err
	}
	if d.damaged {
		return &exitError{code: exitPartial}
	}
	return nil
}

// loop runs the session until quit, the end of the input or an error.
func (d *debugger) loop() error {
	fmt.Fprintf(d.out, "%d %s; type help for the commands\n", len(d.set.Files()), plural(len(d.set.Files()), "log", "logs"))
	if err := d.next(1); err != nil {
		return err
	}
	d.report()
	in := bufio.NewScanner(d.e.stdin)
	in.Buffer(make([]byte, 0, 4096), maxCommandLine)
	for {
		d.out.WriteString("(mircat) ")
		// Flush before waiting for input: whoever types must see the
		// output of the previous command.
		if err := d.out.Flush(); err != nil {
			return err
		}
		if !in.Scan() {
			d.out.WriteString("\n")
			if err := in.Err(); err != nil {
				return fmt.Errorf("reading commands: %w", err)
			}
			return nil
		}
		quit, err := d.command(in.Text())
		if err != nil || quit {
			return err
		}
	}
}

// command runs one command line and reports whether it was quit.
func (d *debugger) command(line string) (bool, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		if d.lastMove == "" {
			return false, nil
		}
		fields = strings.Fields(d.lastMove)
	}
	name, args := fields[0], fields[1:]
	var err error
	switch name {
	case "next", "n":
		err = d.cmdNext(args)
	case "jump", "j":
		err = d.cmdJump(args)
	case "module", "m":
		err = d.cmdModule(args)
	case "event", "e":
		err = d.cmdEvent(args)
	case "first", "f":
		err = d.cmdFirst(args)
	case "print", "p":
		d.print()
	case "help", "h", "?":
		fmt.Fprintln(d.out, debugHelp)
	case "quit", "q", "exit":
		return true, nil
	default:
		fmt.Fprintf(d.out, "unknown command %q; type help for the commands\n", name)
	}
	switch name {
	case "next", "n", "module", "m", "event", "e":
		d.lastMove = strings.Join(fields, " ")
	}
	var ue *usageErr
	if errors.As(err, &ue) {
		fmt.Fprintln(d.out, ue.msg)
		err = nil
	}
	d.report()
	return false, err
}

// usageErr is a mistake in a command: printed, and the session goes on.
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func badCommand(format string, args ...any) error {
	return &usageErr{msg: fmt.Sprintf(format, args...)}
}

func (d *debugger) cmdNext(args []string) error {
	n := uint64(1)
	if len(args) > 1 {
		return badCommand("next takes one number")
	}
	if len(args) == 1 {
		var err error
		if n, err = strconv.ParseUint(args[0], 10, 64); err != nil || n == 0 {
			return badCommand("next %s: not a positive number", args[0])
		}
	}
	return d.next(n)
}

// next goes n events forward, stopping at the last.
func (d *debugger) next(n uint64) error {
	for i := uint64(0); i < n; i++ {
		rec, err := d.set.Next()
		if err == io.EOF {
			d.atEnd(i > 0)
			return nil
		}
		if err != nil {
			return err
		}
		d.pos++
		if i == n-1 {
			d.cur = rec.Clone()
		}
	}
	d.printLine()
	return nil
}

// atEnd tells that the end of the logs is reached, and makes the last event
// the current one. If moved, events were passed on the way without being
// kept, and the last one is found again from the start.
func (d *debugger) atEnd(moved bool) {
	if d.pos < 0 {
		fmt.Fprintln(d.out, "the logs hold no events")
		return
	}
	if moved {
		if err := d.seek(d.pos); err != nil {
			fmt.Fprintf(d.out, "cannot go back: %v\n", err)
			return
		}
	}
	fmt.Fprintln(d.out, "end of the logs; the last event is:")
	d.printLine()
}

func (d *debugger) cmdJump(args []string) error {
	if len(args) == 0 || len(args) > 2 {
		return badCommand("usage: jump SEQ [NODE]")
	}
	seq, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return badCommand("jump %s: not a sequence number", args[0])
	}
	var node stdtypes.NodeID
	switch {
	case len(args) == 2:
		node = stdtypes.NodeID(args[1])
	case d.cur != nil:
		node = d.cur.Node
	}
	// Forward from here if the target lies ahead on the same node, else
	// from the start: logs are read in one direction only.
	fromStart := d.cur == nil || d.cur.Node != node || d.cur.Seq >= seq
	found, err := d.find(fromStart, func(r *eventlog.Record) bool {
		return (node == "" || r.Node == node) && r.Seq >= seq
	})
	if err != nil || found {
		return err
	}
	if node == "" {
		fmt.Fprintf(d.out, "no event %d (and none after it)\n", seq)
	} else {
		fmt.Fprintf(d.out, "no event %d of node %s (and none after it)\n", seq, node)
	}
	return nil
}

func (d *debugger) cmdModule(args []string) error {
	if len(args) != 1 {
		return badCommand("usage: module NAME")
	}
	m := stdtypes.ModuleID(args[0])
	found, err := d.find(false, func(r *eventlog.Record) bool { return r.Dest.IsSubOf(m) })
	if err != nil || found {
		return err
	}
	fmt.Fprintf(d.out, "no event for module %s after this one\n", m)
	return nil
}

func (d *debugger) cmdEvent(args []string) error {
	if len(args) != 1 {
		return badCommand("usage: event TYPE")
	}
	m := typeMatcher(args)
	found, err := d.find(false, func(r *eventlog.Record) bool { return m.match(r.Type) })
	if err != nil || found {
		return err
	}
	fmt.Fprintf(d.out, "no event of type %s after this one\n", args[0])
	return nil
}

func (d *debugger) cmdFirst(args []string) error {
	if len(args) != 0 {
		return badCommand("first takes no arguments")
	}
	found, err := d.find(true, func(*eventlog.Record) bool { return true })
	if err == nil && !found {
		fmt.Fprintln(d.out, "the logs hold no events")
	}
	return err
}

// find goes to the first event after the current one (or the first of all,
// if fromStart) for which match holds, and prints it. If there is none, it
// stays where it was and returns false.
func (d *debugger) find(fromStart bool, match func(*eventlog.Record) bool) (bool, error) {
	saved := d.pos
	if fromStart {
		if err := d.reopen(); err != nil {
			return false, err
		}
	}
	for {
		rec, err := d.set.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
		d.pos++
		if match(rec) {
			d.cur = rec.Clone()
			d.printLine()
			return true, nil
		}
	}
	return false, d.seek(saved)
}

// seek goes to the event at pos (before the first if pos is -1) by
// reading the logs from the start.
func (d *debugger) seek(pos int64) error {
	if err := d.reopen(); err != nil {
		return err
	}
	for d.pos < pos {
		rec, err := d.set.Next()
		if err != nil {
			if err == io.EOF {
				err = errors.New("the logs changed while reading them")
			}
			return err
		}
		d.pos++
		if d.pos == pos {
			d.cur = rec.Clone()
		}
	}
	return nil
}

// reopen opens the logs again, before their first event.
func (d *debugger) reopen() error {
	d.report()
	_ = d.set.Close()
	set, err := openLogs(d.paths)
	if err != nil {
		return failure(err)
	}
	d.set, d.cur, d.pos = set, nil, -1
	return nil
}

// report prints the warnings and errors not printed yet, on stderr.
func (d *debugger) report() {
	var lines []string
	for _, w := range d.set.Warnings() {
		lines = append(lines, "mircat: warning: "+w)
	}
	for _, err := range d.set.Errors() {
		d.damaged = true
		lines = append(lines, "mircat: "+err.Error())
	}
	flushed := false
	for _, l := range lines {
		if d.shown[l] {
			continue
		}
		d.shown[l] = true
		if !flushed {
			// Keep the order of stdout and stderr on a terminal.
			_ = d.out.Flush()
			flushed = true
		}
		fmt.Fprintln(d.e.stderr, l)
	}
}

// printLine prints the current event's line, after its position.
func (d *debugger) printLine() {
	if d.cur == nil {
		return
	}
	fmt.Fprintf(d.out, "[%d] %s\n", d.pos+1, appendLine(nil, decode(d.cur)))
}

// print prints the current event in full.
func (d *debugger) print() {
	if d.cur == nil {
		fmt.Fprintln(d.out, "no current event")
		return
	}
	rec := d.cur
	dec := decode(rec)
	fmt.Fprintf(d.out, "node   %s\nseq    %d\nbatch  %d\ntime   %s\ndest   %s\ntype   %s\ninput  %t\nfile   %s\n",
		rec.Node, rec.Seq, rec.Batch, rec.Time.UTC().Format(timeLayout), rec.Dest, rec.Type, rec.Input, rec.File)
	js := dec.eventJSON()
	if js == nil {
		fmt.Fprintf(d.out, "event  (%s; %d bytes)\n", dec.note, len(rec.Data))
		return
	}
	if dec.note != "" {
		fmt.Fprintf(d.out, "note   %s\n", dec.note)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, js, "", "  "); err != nil {
		// The renderers always return valid JSON; show it as it is if not.
		b.Reset()
		b.Write(js)
	}
	fmt.Fprintf(d.out, "event  %s\n", b.Bytes())
}
