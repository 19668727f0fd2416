package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// separator is the line between a scenario's script and its expected
// outcome.
const separator = "----"

// Limits on a scenario, which is read from a file: it is test input,
// written by hand, and these are far beyond what a scenario needs.
const (
	maxSeeds = 64
	maxLines = 10000
)

// Scenario is a parsed scenario file: the script of one simulated run
// (per seed) and the outcome it is expected to have.
type Scenario struct {
	// path names the file in messages.
	path string
	// script is the text up to and including the separator, kept as it
	// is when the expected outcome is rewritten.
	script string
	// expected is the text after the separator; expectedLine the number
	// of its first line; hasExpected tells whether there was a separator.
	expected     string
	expectedLine int
	hasExpected  bool

	nodes  []stdtypes.NodeID
	seeds  []uint64
	params *Args
	// link is the configuration every link starts with.
	link        sim.LinkConfig
	links       []linkChange
	partitions  []partition
	crashes     []crash
	restarts    []restart
	adversaries []adversary
	faulty      []stdtypes.NodeID
	submits     []submit
	run         runSpec
	// verdictOnly leaves the deliveries out of the outcome.
	verdictOnly bool
	// wal, if set, gives every node a WAL module on a simulated disk with
	// these options.
	wal *wal.SimOptions
}

// linkChange sets a link (from -> to) or every link (from empty), before
// the run or at a time.
type linkChange struct {
	from, to stdtypes.NodeID
	timed    bool
	at       time.Duration
	cfg      sim.LinkConfig
}

type partition struct {
	from, until time.Duration
	groups      [][]stdtypes.NodeID
}

// crash is a crash at a time or, if event is not 0, at the node's event.
type crash struct {
	node  stdtypes.NodeID
	at    time.Duration
	event uint64
}

type restart struct {
	node stdtypes.NodeID
	at   time.Duration
}

// adversary is one adversary line: the protocol's or the library's
// adversary name, restricted to the messages to nodes to, if set.
type adversary struct {
	line int
	node stdtypes.NodeID
	name string
	args *Args
	to   []stdtypes.NodeID
}

// submit hands the events of input name to nodes at a time.
type submit struct {
	line  int
	nodes []stdtypes.NodeID
	at    time.Duration
	name  string
	args  *Args
}

// runSpec is how long the run lasts: until a time, or until grace after
// the last fault heals.
type runSpec struct {
	line   int
	until  time.Duration
	healed bool
	grace  time.Duration
}

// parseError is an error at a line of a file.
func parseError(path string, line int, err error) error {
	return fmt.Errorf("%s:%d: %w", path, line, err)
}

// Parse parses the scenario in data, read from path (which names it in
// errors). An error names the line it is about.
func Parse(path string, data []byte) (*Scenario, error) {
	sc := &Scenario{path: path}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > maxLines {
		return nil, fmt.Errorf("%s: %d lines; a scenario has at most %d", path, len(lines), maxLines)
	}
	var script strings.Builder
	for i, raw := range lines {
		num := i + 1
		script.WriteString(raw)
		line := strings.TrimRight(raw, "\r\n")
		if line == separator {
			sc.hasExpected = true
			sc.expectedLine = num + 1
			sc.expected = strings.Join(lines[i+1:], "")
			break
		}
		tokens, err := fields(line)
		if err != nil {
			return nil, parseError(path, num, err)
		}
		if len(tokens) == 0 {
			continue
		}
		if err := sc.directive(num, tokens); err != nil {
			return nil, parseError(path, num, fmt.Errorf("%s: %w", tokens[0], err))
		}
	}
	sc.script = script.String()
	if err := sc.complete(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}

// complete checks what the whole script must have.
func (sc *Scenario) complete() error {
	switch {
	case sc.nodes == nil:
		return errors.New("no nodes line")
	case sc.seeds == nil:
		return errors.New("no seed line")
	case sc.run.line == 0:
		return errors.New("no run line")
	}
	if sc.params == nil {
		sc.params, _ = newArgs(nil, sc.nodes)
	}
	return nil
}

// directive parses line number line of the script.
func (sc *Scenario) directive(line int, tokens []string) error {
	name, args := tokens[0], tokens[1:]
	if name != "nodes" && sc.nodes == nil {
		return errors.New("the first line must be nodes")
	}
	switch name {
	case "nodes":
		return sc.parseNodesLine(args)
	case "seed":
		return sc.parseSeeds(args)
	case "params":
		if sc.params != nil {
			return errors.New("given twice")
		}
		var err error
		sc.params, err = newArgs(args, sc.nodes)
		return err
	case "link":
		return sc.parseLink(args)
	case "partition":
		return sc.parsePartition(args)
	case "crash":
		return sc.parseCrash(args)
	case "restart":
		return sc.parseRestart(args)
	case "adversary":
		return sc.parseAdversary(line, args)
	case "faulty":
		return sc.parseFaulty(args)
	case "submit":
		return sc.parseSubmit(line, args)
	case "run":
		return sc.parseRun(line, args)
	case "expect":
		return sc.parseExpect(args)
	case "wal":
		return sc.parseWAL(args)
	}
	return fmt.Errorf("unknown directive (nodes, seed, params, link, partition, crash, restart, adversary, faulty, submit, run, expect, wal)")
}

// wal [keep=random|none|all|prefix] [flip=P] [sync=DELAY]
func (sc *Scenario) parseWAL(args []string) error {
	if sc.wal != nil {
		return errors.New("given twice")
	}
	a, err := newArgs(args, sc.nodes)
	if err != nil {
		return err
	}
	defaults := wal.SimFaults()
	keepName := a.String("keep", wal.KeepRandom.String())
	keep := wal.KeepRandom
	for keep.String() != keepName {
		if keep++; keep > wal.KeepPrefix {
			return fmt.Errorf("keep=%s: want random, none, all or prefix", keepName)
		}
	}
	opts := &wal.SimOptions{
		Faults:      wal.CrashFaults{Keep: keep, FlipProbability: a.Probability("flip", defaults.FlipProbability)},
		SyncLatency: a.Delay("sync", nil),
	}
	if err := a.check(); err != nil {
		return err
	}
	sc.wal = opts
	return nil
}

// nodes 0 1 2 3
func (sc *Scenario) parseNodesLine(args []string) error {
	if sc.nodes != nil {
		return errors.New("given twice")
	}
	if len(args) == 0 {
		return errors.New("no nodes")
	}
	for _, id := range args {
		if strings.ContainsAny(id, ",*") {
			return fmt.Errorf("node ID %q has a comma or a star, which lists of nodes use", id)
		}
		if slices.Contains(sc.nodes, stdtypes.NodeID(id)) {
			return fmt.Errorf("node %s listed twice", id)
		}
		sc.nodes = append(sc.nodes, stdtypes.NodeID(id))
	}
	return nil
}

// seed 1 2 3
func (sc *Scenario) parseSeeds(args []string) error {
	if sc.seeds != nil {
		return errors.New("given twice")
	}
	if len(args) == 0 || len(args) > maxSeeds {
		return fmt.Errorf("give 1 to %d seeds", maxSeeds)
	}
	for _, a := range args {
		seed, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return fmt.Errorf("seed %q: %w", a, err)
		}
		sc.seeds = append(sc.seeds, seed)
	}
	return nil
}

// link [FROM->TO] [at TIME] key=value...
func (sc *Scenario) parseLink(args []string) error {
	var ch linkChange
	if len(args) > 0 && strings.Contains(args[0], "->") {
		from, to, _ := strings.Cut(args[0], "->")
		nodes, err := parseNodes(from+","+to, sc.nodes)
		if err != nil {
			return err
		}
		ch.from, ch.to = nodes[0], nodes[1]
		args = args[1:]
	}
	if len(args) >= 2 && args[0] == "at" {
		at, err := parseDuration(args[1])
		if err != nil {
			return err
		}
		ch.timed, ch.at = true, at
		args = args[2:]
	}
	a, err := newArgs(args, sc.nodes)
	if err != nil {
		return err
	}
	ch.cfg = sim.LinkConfig{
		Latency:        a.Delay("latency", nil),
		Loss:           a.Probability("loss", 0),
		Duplicate:      a.Probability("duplicate", 0),
		Reorder:        a.Probability("reorder", 0),
		BytesPerSecond: int64(a.Uint("bandwidth", 0)),
	}
	if err := a.check(); err != nil {
		return err
	}
	if ch.from == "" && !ch.timed {
		sc.link = ch.cfg
		return nil
	}
	sc.links = append(sc.links, ch)
	return nil
}

// partition FROM..UNTIL GROUP GROUP...
func (sc *Scenario) parsePartition(args []string) error {
	if len(args) < 2 {
		return errors.New("want partition FROM..UNTIL GROUP [GROUP...], a group as 0,1")
	}
	from, until, err := parseRange(args[0])
	if err != nil {
		return err
	}
	p := partition{from: from, until: until}
	var seen []stdtypes.NodeID
	for _, g := range args[1:] {
		nodes, err := parseNodes(g, sc.nodes)
		if err != nil {
			return err
		}
		for _, id := range nodes {
			if slices.Contains(seen, id) {
				return fmt.Errorf("node %s is in two groups", id)
			}
			seen = append(seen, id)
		}
		p.groups = append(p.groups, nodes)
	}
	sc.partitions = append(sc.partitions, p)
	return nil
}

// parseRange parses FROM..UNTIL.
func parseRange(s string) (from, until time.Duration, err error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a time range FROM..UNTIL", s)
	}
	if from, err = parseDuration(a); err != nil {
		return 0, 0, err
	}
	if until, err = parseDuration(b); err != nil {
		return 0, 0, err
	}
	if until < from {
		return 0, 0, fmt.Errorf("%q ends before it starts", s)
	}
	return from, until, nil
}

// crash NODE at TIME | crash NODE event K
func (sc *Scenario) parseCrash(args []string) error {
	if len(args) != 3 || (args[1] != "at" && args[1] != "event") {
		return errors.New("want crash NODE at TIME, or crash NODE event K")
	}
	node, err := sc.oneNode(args[0])
	if err != nil {
		return err
	}
	c := crash{node: node}
	if args[1] == "at" {
		c.at, err = parseDuration(args[2])
	} else if c.event, err = strconv.ParseUint(args[2], 10, 64); err == nil && c.event == 0 {
		err = errors.New("events count from 1")
	}
	if err != nil {
		return err
	}
	sc.crashes = append(sc.crashes, c)
	return nil
}

// restart NODE at TIME
func (sc *Scenario) parseRestart(args []string) error {
	if len(args) != 3 || args[1] != "at" {
		return errors.New("want restart NODE at TIME")
	}
	node, err := sc.oneNode(args[0])
	if err != nil {
		return err
	}
	at, err := parseDuration(args[2])
	if err != nil {
		return err
	}
	sc.restarts = append(sc.restarts, restart{node: node, at: at})
	return nil
}

// adversary NODE NAME [to=NODES] [key=value...]
func (sc *Scenario) parseAdversary(line int, args []string) error {
	if len(args) < 2 {
		return errors.New("want adversary NODE NAME [to=NODES] [key=value...]")
	}
	node, err := sc.oneNode(args[0])
	if err != nil {
		return err
	}
	adv := adversary{line: line, node: node, name: args[1]}
	var rest []string
	for _, tok := range args[2:] {
		if to, ok := strings.CutPrefix(tok, "to="); ok {
			if adv.to != nil {
				return errors.New("to given twice")
			}
			if adv.to, err = parseNodes(to, sc.nodes); err != nil {
				return err
			}
			continue
		}
		rest = append(rest, tok)
	}
	if adv.args, err = newArgs(rest, sc.nodes); err != nil {
		return err
	}
	sc.adversaries = append(sc.adversaries, adv)
	return nil
}

// faulty NODES
func (sc *Scenario) parseFaulty(args []string) error {
	if len(args) != 1 {
		return errors.New("want faulty NODES, as 0,1")
	}
	nodes, err := parseNodes(args[0], sc.nodes)
	if err != nil {
		return err
	}
	sc.faulty = append(sc.faulty, nodes...)
	return nil
}

// submit NODES at TIME NAME [key=value...]
func (sc *Scenario) parseSubmit(line int, args []string) error {
	if len(args) < 4 || args[1] != "at" {
		return errors.New("want submit NODES at TIME NAME [key=value...]")
	}
	nodes, err := parseNodes(args[0], sc.nodes)
	if err != nil {
		return err
	}
	at, err := parseDuration(args[2])
	if err != nil {
		return err
	}
	a, err := newArgs(args[4:], sc.nodes)
	if err != nil {
		return err
	}
	sc.submits = append(sc.submits, submit{line: line, nodes: nodes, at: at, name: args[3], args: a})
	return nil
}

// run TIME | run healed+GRACE
func (sc *Scenario) parseRun(line int, args []string) error {
	if sc.run.line != 0 {
		return errors.New("given twice")
	}
	if len(args) != 1 {
		return errors.New("want run TIME, or run healed+GRACE")
	}
	var err error
	if grace, ok := strings.CutPrefix(args[0], "healed+"); ok {
		sc.run.healed = true
		sc.run.grace, err = parseDuration(grace)
	} else {
		sc.run.until, err = parseDuration(args[0])
	}
	if err != nil {
		return err
	}
	sc.run.line = line
	return nil
}

// expect verdict | expect history
func (sc *Scenario) parseExpect(args []string) error {
	if len(args) != 1 || (args[0] != "verdict" && args[0] != "history") {
		return errors.New("want expect verdict, or expect history (the default)")
	}
	sc.verdictOnly = args[0] == "verdict"
	return nil
}

// oneNode parses the ID of one of the scenario's nodes.
func (sc *Scenario) oneNode(s string) (stdtypes.NodeID, error) {
	nodes, err := parseNodes(s, sc.nodes)
	if err != nil {
		return "", err
	}
	if len(nodes) != 1 {
		return "", fmt.Errorf("%q: want one node", s)
	}
	return nodes[0], nil
}

// fields splits a line into tokens at spaces, keeping a double-quoted
// string (with Go escapes) and a parenthesized list whole, and drops the
// comment, from a # outside quotes to the end of the line.
func fields(line string) ([]string, error) {
	var tokens []string
	var cur strings.Builder
	inQuote, escaped, depth := false, false, 0
	flush := func() {
		if cur.Len() > 0 {
			tokens = append(tokens, cur.String())
			cur.Reset()
		}
	}
	for _, c := range line {
		switch {
		case inQuote:
			cur.WriteRune(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inQuote = false
			}
			continue
		case c == '#':
			if depth > 0 {
				return nil, errors.New("unclosed parenthesis")
			}
			flush()
			return tokens, nil
		case c == '"':
			inQuote = true
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return nil, errors.New("unopened parenthesis")
			}
			depth--
		case (c == ' ' || c == '\t') && depth == 0:
			flush()
			continue
		case c == ' ' || c == '\t':
			continue // spaces in a list: uniform(1ms, 5ms)
		}
		cur.WriteRune(c)
	}
	switch {
	case inQuote:
		return nil, errors.New("unclosed quote")
	case depth > 0:
		return nil, errors.New("unclosed parenthesis")
	}
	flush()
	return tokens, nil
}
