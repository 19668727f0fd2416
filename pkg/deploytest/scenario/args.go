package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// Args are the key=value parameters of a line of a scenario, as the
// tables of a Protocol get them. Each getter returns the value of a key,
// or the default if the line does not give it. A value that does not parse
// is an error, and so is a key that no getter asked for (a typo): the
// runner reports either with the line's number, so the tables need not
// check anything themselves.
type Args struct {
	// nodes are the scenario's nodes, for Nodes.
	nodes  []stdtypes.NodeID
	keys   []string // in the order of the line
	values map[string]string
	used   map[string]bool
	err    error
}

// newArgs parses key=value tokens of a scenario with the given nodes.
func newArgs(tokens []string, nodes []stdtypes.NodeID) (*Args, error) {
	a := &Args{nodes: nodes, values: make(map[string]string, len(tokens)), used: make(map[string]bool, len(tokens))}
	for _, tok := range tokens {
		key, value, ok := strings.Cut(tok, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("%q is not key=value", tok)
		}
		if _, dup := a.values[key]; dup {
			return nil, fmt.Errorf("%s given twice", key)
		}
		if strings.HasPrefix(value, `"`) {
			v, err := strconv.Unquote(value)
			if err != nil {
				return nil, fmt.Errorf("%s: bad quoted string %s", key, value)
			}
			value = v
		}
		a.keys = append(a.keys, key)
		a.values[key] = value
	}
	return a, nil
}

// lookup returns the value of key, if given, and marks it used.
func (a *Args) lookup(key string) (string, bool) {
	a.used[key] = true
	v, ok := a.values[key]
	return v, ok
}

// fail records the first error.
func (a *Args) fail(key, value string, err error) {
	if a.err == nil {
		a.err = fmt.Errorf("%s=%s: %w", key, value, err)
	}
}

// String returns the value of key, or def.
func (a *Args) String(key, def string) string {
	if v, ok := a.lookup(key); ok {
		return v
	}
	return def
}

// parsed returns parse(value of key), or def.
func parsed[T any](a *Args, key string, def T, parse func(string) (T, error)) T {
	v, ok := a.lookup(key)
	if !ok {
		return def
	}
	x, err := parse(v)
	if err != nil {
		a.fail(key, v, err)
		return def
	}
	return x
}

// Int returns the value of key as an int, or def.
func (a *Args) Int(key string, def int) int { return parsed(a, key, def, strconv.Atoi) }

// Uint returns the value of key as a uint64, or def.
func (a *Args) Uint(key string, def uint64) uint64 {
	return parsed(a, key, def, func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) })
}

// Float returns the value of key as a float64, or def.
func (a *Args) Float(key string, def float64) float64 {
	return parsed(a, key, def, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

// Probability returns the value of key as a probability, between 0 and
// 1, or def.
func (a *Args) Probability(key string, def float64) float64 {
	return parsed(a, key, def, parseProbability)
}

// Bool returns the value of key as a bool, or def.
func (a *Args) Bool(key string, def bool) bool { return parsed(a, key, def, strconv.ParseBool) }

// Duration returns the value of key as a duration (time.ParseDuration),
// or def.
func (a *Args) Duration(key string, def time.Duration) time.Duration {
	return parsed(a, key, def, parseDuration)
}

// Delay returns the value of key as a distribution of durations, or def:
// fixed(1ms) or just 1ms, uniform(1ms,5ms), pareto(1ms,1.5,200ms), as
// testsim.Fixed, Uniform and Pareto take them.
func (a *Args) Delay(key string, def testsim.Delay) testsim.Delay {
	return parsed(a, key, def, parseDelay)
}

// Nodes returns the value of key as a list of the scenario's nodes
// ("0,2", or "*" for all), or def.
func (a *Args) Nodes(key string, def []stdtypes.NodeID) []stdtypes.NodeID {
	return parsed(a, key, def, func(s string) ([]stdtypes.NodeID, error) { return parseNodes(s, a.nodes) })
}

// check returns the error of a getter or the first key no getter asked
// for.
func (a *Args) check() error {
	if a.err != nil {
		return a.err
	}
	for _, key := range a.keys {
		if !a.used[key] {
			return fmt.Errorf("unknown parameter %s", key)
		}
	}
	return nil
}

// parseProbability parses a number between 0 and 1.
func parseProbability(s string) (float64, error) {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if !(p >= 0 && p <= 1) {
		return 0, errors.New("not a probability, between 0 and 1")
	}
	return p, nil
}

// parseDuration parses a duration that is not negative.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errors.New("negative duration")
	}
	return d, nil
}

// parseDelay parses fixed(D) or D, uniform(LO,HI) or pareto(LO,ALPHA,HI).
func parseDelay(s string) (testsim.Delay, error) {
	name, rest, ok := strings.Cut(s, "(")
	if !ok {
		d, err := parseDuration(s)
		if err != nil {
			return nil, err
		}
		return testsim.Fixed(d), nil
	}
	inner, ok := strings.CutSuffix(rest, ")")
	if !ok {
		return nil, errors.New("no closing parenthesis")
	}
	args := strings.Split(inner, ",")
	for i := range args {
		args[i] = strings.TrimSpace(args[i])
	}
	want := map[string]int{"fixed": 1, "uniform": 2, "pareto": 3}[name]
	if want == 0 {
		return nil, fmt.Errorf("unknown distribution %q: fixed, uniform or pareto", name)
	}
	if len(args) != want {
		return nil, fmt.Errorf("%s takes %d arguments", name, want)
	}
	lo, err := parseDuration(args[0])
	if err != nil {
		return nil, err
	}
	hi, err := parseDuration(args[len(args)-1])
	if err != nil {
		return nil, err
	}
	switch name {
	case "fixed":
		return testsim.Fixed(lo), nil
	case "uniform":
		if hi < lo {
			return nil, errors.New("uniform needs lo <= hi")
		}
		return testsim.Uniform(lo, hi), nil
	}
	alpha, err := strconv.ParseFloat(args[1], 64)
	if err != nil {
		return nil, err
	}
	if lo <= 0 || hi < lo || !(alpha > 0) {
		return nil, errors.New("pareto needs 0 < lo <= hi and alpha > 0")
	}
	return testsim.Pareto(lo, alpha, hi), nil
}

// parseNodes parses a list of nodes, "0,1,2", or "*" for all, checking
// that each is one of all.
func parseNodes(s string, all []stdtypes.NodeID) ([]stdtypes.NodeID, error) {
	if s == "*" {
		return slices.Clone(all), nil
	}
	var out []stdtypes.NodeID
	for _, id := range strings.Split(s, ",") {
		node := stdtypes.NodeID(id)
		if !slices.Contains(all, node) {
			return nil, fmt.Errorf("node %q is not one of the scenario's nodes", id)
		}
		if slices.Contains(out, node) {
			return nil, fmt.Errorf("node %q listed twice", id)
		}
		out = append(out, node)
	}
	return out, nil
}
