package scenario

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// rewrite is registered when a test binary links this package.
var rewrite = flag.Bool("sim.rewrite", false,
	"rewrite the expected outcome of every stored scenario (package scenario) with what the run does now")

// Protocol is what a protocol gives the runner to play its scenarios: how
// to build its nodes, and the names a scenario may use for inputs and
// adversaries.
type Protocol struct {
	// Config returns the deployment of the scenario's nodes, given the
	// scenario's params line (empty if it has none).
	Config func(nodes []stdtypes.NodeID, params *Args) (deploytest.Config, error)
	// Inputs make the events that submit lines hand to nodes, by name.
	Inputs map[string]Input
	// Adversaries make the adversaries that adversary lines give nodes,
	// by name, beside the library's (drop, delay, duplicate), which a
	// name here replaces.
	Adversaries map[string]AdversaryMaker
	// Properties returns the properties to check, given the faulty
	// nodes (those with an adversary, and those of faulty lines); nil
	// means testsim.BroadcastProperties.
	Properties func(faulty []stdtypes.NodeID) []testsim.Property
	// History describes an event of the history the expected outcome
	// lists, one line per event, and says whether the event is one; nil
	// means the deliveries (testsim.Delivery), as ID and value.
	History func(ev stdtypes.Event) (string, bool)
}

// Input makes the events a submit line hands to node.
type Input func(node stdtypes.NodeID, args *Args) ([]stdtypes.Event, error)

// AdversaryMaker makes the adversary an adversary line names.
type AdversaryMaker func(args *Args) (sim.Adversary, error)

// library holds the adversaries every scenario can name.
var library = map[string]AdversaryMaker{
	"drop": func(a *Args) (sim.Adversary, error) { return sim.Drop(a.Probability("p", 1)), nil },
	"delay": func(a *Args) (sim.Adversary, error) {
		d := a.Delay("by", nil)
		if d == nil {
			return nil, errors.New("delay needs by=DELAY")
		}
		return sim.Delay(d), nil
	},
	"duplicate": func(a *Args) (sim.Adversary, error) {
		n := a.Int("copies", 1)
		if n < 0 {
			return nil, errors.New("copies must not be negative")
		}
		return sim.Duplicate(n), nil
	},
}

// RunDir plays every scenario in dir (the files *.txt), each in a subtest
// named after its file, and checks that each has the outcome its file
// expects; with -sim.rewrite, it writes what each does into its file
// instead.
func RunDir(t *testing.T, dir string, p Protocol) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no scenarios (*.txt) in %s", dir)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) { RunFile(t, path, p) })
	}
}

// RunFile plays the scenario in the file at path, as RunDir does.
func RunFile(t *testing.T, path string, p Protocol) {
	t.Helper()
	if err := runFile(path, p, *rewrite); err != nil {
		t.Fatal(err)
	}
}

// runFile plays the scenario in the file at path and compares its outcome
// with the expected one, or writes it into the file if rewrite is set.
func runFile(path string, p Protocol, rewrite bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sc, err := Parse(path, data)
	if err != nil {
		return err
	}
	got, err := sc.Play(p)
	if err != nil {
		return err
	}
	if rewrite {
		return os.WriteFile(path, []byte(sc.rewritten(got)), 0o644)
	}
	return sc.compare(got)
}

// Play plays the scenario, once per seed, and returns its outcome, in the
// form of the expected section of its file: per seed, the verdict of the
// properties and the history.
//
// It builds the adversaries and the properties once and hands them to
// every seed's run, as a test that loops over seeds would; every seed
// after the first is also played with new ones, and the two runs must be
// the same. So a stored scenario with more than one seed also checks that
// no adversary or property carries state from one run to the next.
func (sc *Scenario) Play(p Protocol) (string, error) {
	if p.Config == nil {
		return "", errors.New("scenario: the protocol has no Config")
	}
	shared, err := sc.build(p)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	for i, seed := range sc.seeds {
		res, err := sc.play(p, seed, shared)
		if err != nil {
			return "", err
		}
		if i > 0 {
			fresh, err := sc.build(p)
			if err != nil {
				return "", err
			}
			again, err := sc.play(p, seed, fresh)
			if err != nil {
				return "", err
			}
			if again != res {
				return "", fmt.Errorf("%s: seed %d gives another run with the adversaries and properties of the seeds before it (hash %016x) than with new ones (hash %016x): one of them keeps state from one run to the next (see sim.Adversary and testsim.PerRun)\nwith those of the seeds before:\n%s\nwith new ones:\n%s",
					sc.path, seed, res.hash, again.hash, res.outcome, again.outcome)
			}
		}
		out.WriteString(res.outcome)
	}
	return out.String(), nil
}

// lineError is an error about line number line of the scenario.
func (sc *Scenario) lineError(line int, err error) error { return parseError(sc.path, line, err) }

// built are what a scenario builds from the protocol's tables: an
// adversary per Byzantine node and the properties.
type built struct {
	adversaries map[stdtypes.NodeID]sim.Adversary
	props       []testsim.Property
}

// build makes the adversaries (chained, for a node with several lines)
// and the properties.
func (sc *Scenario) build(p Protocol) (built, error) {
	perNode := map[stdtypes.NodeID][]sim.Adversary{}
	for _, a := range sc.adversaries {
		adv, err := sc.makeAdversary(p, a)
		if err != nil {
			return built{}, sc.lineError(a.line, fmt.Errorf("adversary %s: %w", a.name, err))
		}
		perNode[a.node] = append(perNode[a.node], adv)
	}
	b := built{adversaries: make(map[stdtypes.NodeID]sim.Adversary, len(perNode))}
	for node, advs := range perNode {
		b.adversaries[node] = advs[0]
		if len(advs) > 1 {
			b.adversaries[node] = sim.Chain(advs...)
		}
	}
	faulty := slices.Concat(sc.faulty, slices.Collect(maps.Keys(perNode)))
	slices.Sort(faulty)
	faulty = slices.Compact(faulty)
	if p.Properties != nil {
		b.props = p.Properties(faulty)
	} else {
		b.props = testsim.BroadcastProperties(faulty...)
	}
	return b, nil
}

// makeAdversary makes the adversary of line a.
func (sc *Scenario) makeAdversary(p Protocol, a adversary) (sim.Adversary, error) {
	maker, ok := p.Adversaries[a.name]
	if !ok {
		maker, ok = library[a.name]
	}
	if !ok {
		known := slices.Sorted(maps.Keys(library))
		known = slices.Sorted(slices.Values(append(known, slices.Collect(maps.Keys(p.Adversaries))...)))
		return nil, fmt.Errorf("unknown adversary (the protocol's and the library's: %s)", strings.Join(slices.Compact(known), ", "))
	}
	adv, err := maker(a.args)
	if err == nil {
		err = a.args.check()
	}
	switch {
	case err != nil:
		return nil, err
	case adv == nil:
		return nil, errors.New("the protocol's table made no adversary")
	case a.to != nil:
		adv = sim.Only(sim.To(a.to...), adv)
	}
	return adv, nil
}

// result is what a run of a scenario did: its outcome, as the expected
// section shows it, and its event-sequence hash.
type result struct {
	outcome string
	hash    uint64
}

// play plays the scenario with one seed.
func (sc *Scenario) play(p Protocol, seed uint64, b built) (result, error) {
	cfg, err := p.Config(slices.Clone(sc.nodes), sc.params)
	if err == nil {
		err = sc.params.check()
	}
	if err != nil {
		return result{}, fmt.Errorf("%s: params: %w", sc.path, err)
	}
	if sc.wal != nil {
		cfg.WAL = true
	}
	d, err := deploytest.NewSimulated(cfg, deploytest.SimOptions{
		Seed: seed,
		// The content too: a run that only tells some peers other
		// values has the same shape.
		Sim:     testsim.Options{HashContent: true},
		Network: sim.Options{Link: sc.link},
		WAL:     sc.wal,
	})
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", sc.path, err)
	}
	hist := newHistory(sc.nodes, p.History)
	d.Observe(hist.observe)
	d.Check(b.props...)
	injectErr, err := sc.setUp(p, d, b)
	if err != nil {
		return result{}, err
	}
	s := d.Sim()
	if sc.run.healed {
		err = s.CheckLivenessAfter(sc.run.grace)
	} else if err = s.Run(sc.run.until); err == nil {
		err = s.CheckLiveness()
	}
	if stopErr := d.Stop(); err == nil {
		err = stopErr
	}
	if *injectErr != nil {
		return result{}, *injectErr
	}
	v, err := verdict(err)
	if err != nil {
		return result{}, fmt.Errorf("%s: seed %d: %w", sc.path, seed, err)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "seed %d: %s\n", seed, v)
	if !sc.verdictOnly {
		hist.write(&out)
	}
	return result{outcome: out.String(), hash: s.Hash()}, nil
}

// setUp gives the network its links and adversaries, starts the nodes and
// schedules the faults and the inputs. An input that cannot be injected
// when its time comes is reported through the returned pointer.
func (sc *Scenario) setUp(p Protocol, d *deploytest.Simulated, b built) (*error, error) {
	network := d.Network()
	for _, node := range slices.Sorted(maps.Keys(b.adversaries)) {
		if err := network.SetAdversary(node, b.adversaries[node]); err != nil {
			return nil, err
		}
	}
	for _, ch := range sc.links {
		set := func() {
			if ch.from == "" {
				_ = network.SetLinks(ch.cfg) // checked when parsed
			} else {
				_ = network.SetLink(ch.from, ch.to, ch.cfg)
			}
		}
		if ch.timed {
			d.Sim().At(ch.at, set)
		} else {
			set() // before the nodes start, and send
		}
	}
	if err := d.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", sc.path, err)
	}
	for _, pt := range sc.partitions {
		if err := network.PartitionDuring(pt.from, pt.until, pt.groups...); err != nil {
			return nil, err
		}
	}
	for _, c := range sc.crashes {
		if c.event != 0 {
			d.Node(c.node).CrashAtEvent(c.event)
		} else {
			d.Node(c.node).CrashAt(c.at)
		}
	}
	for _, r := range sc.restarts {
		d.Node(r.node).RestartAt(r.at)
	}
	var injectErr error
	for _, sub := range sc.submits {
		if err := sc.schedule(p, d, sub, &injectErr); err != nil {
			return nil, err
		}
	}
	return &injectErr, nil
}

// schedule makes the events of a submit line and hands them to its nodes
// when its time comes, to those that are up then: a client of a node that
// is down gets nowhere.
func (sc *Scenario) schedule(p Protocol, d *deploytest.Simulated, sub submit, injectErr *error) error {
	input, ok := p.Inputs[sub.name]
	if !ok {
		return sc.lineError(sub.line, fmt.Errorf("submit: unknown input %s (the protocol's: %s)",
			sub.name, strings.Join(slices.Sorted(maps.Keys(p.Inputs)), ", ")))
	}
	for _, id := range sub.nodes {
		evs, err := input(id, sub.args)
		if err == nil {
			err = sub.args.check()
		}
		if err != nil {
			return sc.lineError(sub.line, fmt.Errorf("submit %s: %w", sub.name, err))
		}
		node := d.Node(id)
		d.Sim().At(sub.at, func() {
			if !node.Up() {
				return
			}
			if err := node.Inject(evs...); err != nil && *injectErr == nil {
				*injectErr = sc.lineError(sub.line, fmt.Errorf("submit %s: %w", sub.name, err))
			}
		})
	}
	return nil
}

// verdict describes how a run ended: ok, or the failure, without its
// history, on one line. An error that is not a run's failure is returned.
func verdict(err error) (string, error) {
	if err == nil {
		return "ok", nil
	}
	var f *testsim.Failure
	if !errors.As(err, &f) {
		return "", err
	}
	what := "failed"
	if f.Property != "" {
		what = f.Property + " violated"
	}
	where := ""
	if f.Node != "" {
		where = " on node " + string(f.Node)
	}
	return fmt.Sprintf("%s at %v%s: %s", what, f.Time, where, strings.ReplaceAll(f.Err.Error(), "\n", " / ")), nil
}

// history collects the lines of the history, per node, in order.
type history struct {
	nodes    []stdtypes.NodeID
	describe func(ev stdtypes.Event) (string, bool)
	lines    map[stdtypes.NodeID][]string
}

func newHistory(nodes []stdtypes.NodeID, describe func(stdtypes.Event) (string, bool)) *history {
	if describe == nil {
		describe = describeDelivery
	}
	return &history{nodes: nodes, describe: describe, lines: make(map[stdtypes.NodeID][]string)}
}

// describeDelivery describes a testsim.Delivery: its item's ID and value.
func describeDelivery(ev stdtypes.Event) (string, bool) {
	d, ok := ev.(testsim.Delivery)
	if !ok {
		return "", false
	}
	item := d.DeliveredItem()
	return fmt.Sprintf("%s %q", item.ID, item.Value), true
}

func (h *history) observe(o *testsim.Observation) {
	if o.Event == nil {
		return
	}
	line, ok := h.describe(o.Event)
	if !ok {
		return
	}
	who := string(o.Node)
	if o.Incarnation > 1 {
		who = fmt.Sprintf("%s#%d", o.Node, o.Incarnation)
	}
	h.lines[o.Node] = append(h.lines[o.Node], fmt.Sprintf("  %s: %s\n", who, line))
}

// write writes the history, node by node in the order of the nodes line.
func (h *history) write(b *strings.Builder) {
	for _, id := range h.nodes {
		for _, line := range h.lines[id] {
			b.WriteString(line)
		}
	}
}

// rewritten returns the file's text with got as its expected outcome.
func (sc *Scenario) rewritten(got string) string {
	text := sc.script
	if !sc.hasExpected {
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += separator + "\n"
	}
	return text + got
}

// compare reports how got differs from the expected outcome, from the
// first line that differs, with its line number in the file.
func (sc *Scenario) compare(got string) error {
	if !sc.hasExpected {
		return fmt.Errorf("%s: no expected outcome (no %s line); run with -sim.rewrite to write it:\n%s", sc.path, separator, got)
	}
	if got == sc.expected {
		return nil
	}
	want, have := strings.SplitAfter(sc.expected, "\n"), strings.SplitAfter(got, "\n")
	i := 0
	for i < len(want) && i < len(have) && want[i] == have[i] {
		i++
	}
	line := func(lines []string) string {
		if i < len(lines) && lines[i] != "" {
			return strings.TrimSuffix(lines[i], "\n")
		}
		return "(end)"
	}
	return fmt.Errorf("%s:%d: the run does not have the expected outcome\nwant: %s\n got: %s\nwhat it does now (-sim.rewrite writes it into the file):\n%s",
		sc.path, sc.expectedLine+i, line(want), line(have), got)
}
