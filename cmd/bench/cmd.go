package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/loadgen"
)

// options are the command line's: what config takes as it is, and the
// rest, which it parses.
type options struct {
	plain
	mode        string
	rate        string
	rates       []string
	arrivals    string
	outstanding int
	size        int
	duration    time.Duration
	warmup      time.Duration
	timeout     time.Duration
}

// plain are the flags config takes as they are.
type plain struct {
	clients     int
	nodes       int
	dir         string
	membership  string
	clientAddrs []string
	f           int
	jsonFile    string
	plotFiles   []string
	quiet       bool
	cpuProfile  string
	verbose     bool
}

// Limits on the command line, so that a typo does not run for a day.
const (
	maxRate     = 10_000_000
	maxSweep    = 64
	maxDuration = 24 * time.Hour
)

// newRootCmd returns the command. Tests run it with their own arguments
// and output.
func newRootCmd() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "bench [flags]",
		Short: "Load a Trantor cluster with kvstore puts and measure throughput and latency",
		Long: `Load a Trantor cluster with kvstore puts of --size bytes and report the
throughput and latency percentiles (HDR histogram) of the transactions
submitted after --warmup, for --duration.

Open loop (--mode open): transactions arrive at --rate per second (Poisson
or evenly spaced), shared by --clients clients; latency counts from each
arrival. --rates 1k,5k,... sweeps the rates one after the other and draws
p50 and p99 against the achieved throughput (--plot FILE.png or .svg).
Closed loop (--mode closed): each of --clients clients keeps --outstanding
transactions in flight.

The cluster is --nodes replicas in this process over TCP on 127.0.0.1,
unless --membership names a running one's membership file, whose nodes'
client servers --client-addrs gives, in the membership's order.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: false,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config()
			if err != nil {
				return usageError{err}
			}
			return bench(cmd.Context(), cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.mode, "mode", "open", "open (a fixed rate) or closed (--outstanding per client)")
	fl.StringVar(&o.rate, "rate", "1k", "open loop: transactions per second (k and m multiply by 1,000 and 1,000,000)")
	fl.StringSliceVar(&o.rates, "rates", nil, "open loop: sweep these rates, one run each (as --rate, comma-separated)")
	fl.StringVar(&o.arrivals, "arrivals", "poisson", "open loop: poisson (exponential gaps) or uniform (evenly spaced)")
	fl.IntVar(&o.clients, "clients", 64, "clients, each connected to every node")
	fl.IntVar(&o.outstanding, "outstanding", 0, "transactions in flight per client: closed loop's (default 8), open loop's bound (default 128, the client window)")
	fl.IntVar(&o.size, "size", 512, fmt.Sprintf("bytes of a transaction (a kvstore put), %d to %d", loadgen.MinKVPutBytes, loadgen.MaxKVPutBytes))
	fl.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of a run, after the warm-up")
	fl.DurationVar(&o.warmup, "warmup", 2*time.Second, "time of a run before it is measured")
	fl.DurationVar(&o.timeout, "timeout", 10*time.Second, "a transaction not answered within it counts as a timeout")
	fl.IntVar(&o.nodes, "nodes", 4, "replicas of the cluster started in this process")
	fl.StringVar(&o.dir, "dir", "", "data directory of the cluster started in this process (default: a temporary one, removed after)")
	fl.StringVar(&o.membership, "membership", "", "membership file of a running cluster to load instead (see mir membership generate)")
	fl.StringSliceVar(&o.clientAddrs, "client-addrs", nil, "with --membership: host:port of each node's client server, in the membership's order")
	fl.IntVar(&o.f, "f", -1, "with --membership: faulty nodes tolerated, a result counting once f+1 return it (default (n-1)/3)")
	fl.StringVar(&o.jsonFile, "json", "", "write the results to this file as JSON")
	fl.StringSliceVar(&o.plotFiles, "plot", nil, "with --rates: draw p50 and p99 against throughput to these files (.png or .svg)")
	fl.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the runs (and of the cluster, when it runs in this process) to this file")
	fl.BoolVarP(&o.verbose, "verbose", "v", false, "log the cluster's debug messages too (it logs warnings and errors to standard error anyway)")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the figures of every second to standard error")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err}
	})
	return cmd
}

// usageError is a bad command line: the error says what is wrong; run
// adds the usage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() + "\n(see bench --help)" }
func (e usageError) Unwrap() error { return e.err }

// config is what the command line asks for, checked.
type config struct {
	plain
	load        loadgen.Load
	rates       []float64 // One run per rate; one run of load if empty.
	outstanding int
}

func (o *options) config() (config, error) {
	c := config{
		plain: o.plain,
		load:  loadgen.Load{Warmup: o.warmup, Duration: o.duration, Timeout: o.timeout},
	}
	var err error
	if c.load.Mode, err = parseName("--mode", o.mode, loadgen.OpenLoop, loadgen.ClosedLoop); err != nil {
		return c, err
	}
	if c.load.Arrivals, err = parseName("--arrivals", o.arrivals, loadgen.Poisson, loadgen.Uniform); err != nil {
		return c, err
	}
	if c.load.Rate, err = parseRate(o.rate); err != nil {
		return c, fmt.Errorf("--rate: %w", err)
	}
	if len(o.rates) > maxSweep {
		return c, fmt.Errorf("--rates: %d rates, at most %d", len(o.rates), maxSweep)
	}
	for _, s := range o.rates {
		r, err := parseRate(s)
		if err != nil {
			return c, fmt.Errorf("--rates: %w", err)
		}
		c.rates = append(c.rates, r)
	}
	if len(c.rates) > 0 && c.load.Mode != loadgen.OpenLoop {
		return c, errors.New("--rates sweeps an open loop's rate: not with --mode closed")
	}
	if len(o.plotFiles) > 0 && len(c.rates) == 0 {
		return c, errors.New("--plot draws a sweep: give --rates")
	}
	for _, p := range o.plotFiles {
		if ext := strings.ToLower(filepath.Ext(p)); ext != ".png" && ext != ".svg" {
			return c, fmt.Errorf("--plot %q: want a .png or .svg file", p)
		}
	}
	c.outstanding = o.outstanding
	if c.load.Mode == loadgen.ClosedLoop {
		if c.outstanding == 0 {
			c.outstanding = 8
		}
		c.load.Outstanding = c.outstanding
	}
	if o.duration <= 0 || o.duration > maxDuration || o.warmup < 0 || o.warmup > maxDuration || o.timeout <= 0 {
		return c, fmt.Errorf("--duration %v, --warmup %v, --timeout %v: want a positive duration and timeout, a warm-up not negative, each at most %v",
			o.duration, o.warmup, o.timeout, maxDuration)
	}
	if c.load.Workload, err = loadgen.NewKVPuts(o.size); err != nil {
		return c, fmt.Errorf("--size: %w", err)
	}
	if o.membership == "" {
		if len(o.clientAddrs) > 0 || o.f >= 0 {
			return c, errors.New("--client-addrs and --f are for a cluster given by --membership")
		}
	} else if len(o.clientAddrs) == 0 {
		return c, errors.New("--membership needs --client-addrs: a membership file has the nodes' peer addresses, not their client servers'")
	} else if o.dir != "" {
		return c, errors.New("--dir is for the cluster started in this process, not with --membership")
	}
	return c, nil
}

// parseName returns the value of values whose name (String) is s.
func parseName[T fmt.Stringer](flag, s string, values ...T) (T, error) {
	var names []string
	for _, v := range values {
		if v.String() == s {
			return v, nil
		}
		names = append(names, v.String())
	}
	var zero T
	return zero, fmt.Errorf("%s %q: want %s", flag, s, strings.Join(names, " or "))
}

// parseRate parses a rate: a positive number, with k or m for thousands
// or millions.
func parseRate(s string) (float64, error) {
	mult := 1.0
	num := strings.TrimSpace(s)
	switch {
	case strings.HasSuffix(strings.ToLower(num), "k"):
		mult, num = 1e3, num[:len(num)-1]
	case strings.HasSuffix(strings.ToLower(num), "m"):
		mult, num = 1e6, num[:len(num)-1]
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || !(v*mult > 0 && v*mult <= maxRate) {
		return 0, fmt.Errorf("rate %q: want a number of transactions per second above 0 and at most %d (k, m: thousands, millions)", s, maxRate)
	}
	return v * mult, nil
}
