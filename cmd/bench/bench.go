package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/loadgen"
	"github.com/mirframework/mir/pkg/membership"
)

// report is what the JSON file holds.
type report struct {
	// Time is when the command started; LoadAverage the machine's load
	// then (/proc/loadavg, empty elsewhere).
	Time        time.Time `json:"time"`
	LoadAverage string    `json:"load_average,omitempty"`
	CPUs        int       `json:"cpus"`
	// Cluster says what was loaded: "local" (in this process) or the
	// membership file.
	Cluster string `json:"cluster"`
	Nodes   int    `json:"nodes"`
	// Ed25519SignMicros is the baseline: one Ed25519 signature of 32
	// bytes, in µs, measured before the runs.
	Ed25519SignMicros float64 `json:"ed25519_sign_us"`
	// LoopbackRoundTripMicros is the other baseline: one round trip of a
	// 512-byte message over TCP on 127.0.0.1 (a write and a read on each
	// side), in µs, measured before the runs; 0 if it failed.
	LoopbackRoundTripMicros float64 `json:"loopback_round_trip_us"`
	Runs                    []run   `json:"runs"`
}

// run is one run's figures.
type run struct {
	loadgen.Result
	// CPUMicrosPerTx is the process's CPU time (user and system) in the
	// measured time, per transaction answered of those submitted in it:
	// with a local cluster, what the nodes and the clients together spend
	// on one.
	CPUMicrosPerTx float64 `json:"cpu_us_per_tx,omitempty"`
}

// bench runs cfg's runs and writes their results.
func bench(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	rep := report{Time: time.Now().UTC(), LoadAverage: loadAverage(), CPUs: runtime.NumCPU()}
	rep.Ed25519SignMicros = signBaseline()
	fmt.Fprintf(stderr, "baseline: an Ed25519 signature takes %.1f µs\n", rep.Ed25519SignMicros)
	rtt, err := loopbackBaseline()
	if err != nil {
		fmt.Fprintf(stderr, "baseline: loopback TCP: %v\n", err)
	}
	rep.LoopbackRoundTripMicros = rtt
	fmt.Fprintf(stderr, "baseline: a round trip of 512 bytes over loopback TCP takes %.1f µs\n", rtt)

	target := loadgen.Target{Clients: cfg.clients, MaxOutstanding: cfg.outstanding}
	if cfg.membership == "" {
		local, err := loadgen.StartLocal(loadgen.LocalOptions{Nodes: cfg.nodes, Dir: cfg.dir, Logger: cli.Logger(stderr, cfg.verbose)})
		if err != nil {
			return err
		}
		defer func() {
			if err := local.Stop(); err != nil {
				fmt.Fprintf(stderr, "stopping the cluster: %v\n", err)
			}
		}()
		target.Addrs, target.F = local.ClientAddrs(), local.F()
		rep.Cluster, rep.Nodes = "local", cfg.nodes
		fmt.Fprintf(stderr, "started %d nodes in this process over TCP; clients at %s\n", cfg.nodes, strings.Join(target.Addrs, " "))
	} else {
		m, err := membership.Load(cfg.membership)
		if err != nil {
			return err
		}
		if len(cfg.clientAddrs) != m.Len() {
			return usageError{fmt.Errorf("--client-addrs has %d addresses, the membership %d nodes", len(cfg.clientAddrs), m.Len())}
		}
		target.Addrs, target.F = cfg.clientAddrs, cfg.f
		if target.F < 0 {
			target.F = (m.Len() - 1) / 3
		}
		rep.Cluster, rep.Nodes = cfg.membership, m.Len()
	}
	g, err := loadgen.Dial(target)
	if err != nil {
		return err
	}
	defer g.Close()
	// The clients connect and the cluster starts before the first run.
	readyCtx, cancel := context.WithTimeout(ctx, cfg.load.Timeout+cfg.load.Warmup)
	err = g.Ready(readyCtx, cfg.load.Workload)
	cancel()
	if err != nil {
		return err
	}

	loads := []loadgen.Load{cfg.load}
	if len(cfg.rates) > 0 {
		loads = nil
		for _, rate := range cfg.rates {
			l := cfg.load
			l.Rate = rate
			loads = append(loads, l)
		}
	}
	if cfg.cpuProfile != "" {
		stop, err := startCPUProfile(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	for _, l := range loads {
		if !cfg.quiet {
			l.Progress = func(p loadgen.Progress) { printProgress(stderr, p) }
		}
		fmt.Fprintf(stderr, "run: %s\n", describe(l, cfg.clients))
		cpu := measureCPU(l.Warmup, l.Duration)
		res, err := g.Run(ctx, l)
		if err != nil {
			return err
		}
		r := run{Result: res}
		if res.Completed > 0 {
			r.CPUMicrosPerTx = float64(cpu().Microseconds()) / float64(res.Completed)
		}
		rep.Runs = append(rep.Runs, r)
		writeTable(stdout, rep.Runs[len(rep.Runs)-1:], len(rep.Runs) == 1)
	}
	if cfg.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	for _, p := range cfg.plotFiles {
		if err := plotCurve(p, rep); err != nil {
			return fmt.Errorf("plot %s: %w", p, err)
		}
	}
	return nil
}

// describe says what a run does.
func describe(l loadgen.Load, clients int) string {
	what := fmt.Sprintf("closed loop, %d clients × %d outstanding", clients, l.Outstanding)
	if l.Mode == loadgen.OpenLoop {
		what = fmt.Sprintf("open loop, %s tx/s (%v), %d clients", formatInt(l.Rate), l.Arrivals, clients)
	}
	return fmt.Sprintf("%s, %v warm-up, %v measured", what, l.Warmup, l.Duration)
}

func printProgress(w io.Writer, p loadgen.Progress) {
	phase := ""
	if p.Warmup {
		phase = " (warm-up)"
	}
	fmt.Fprintf(w, "%6.0fs %10s tx/s  p50 %8.1f ms  p99 %8.1f ms  failed %d%s\n",
		p.Elapsed.Seconds(), formatInt(p.TxPerSecond), p.P50Ms, p.P99Ms, p.Failed, phase)
}

// writeTable writes runs as rows of a table, with its header if header.
func writeTable(w io.Writer, runs []run, header bool) {
	if header {
		fmt.Fprintf(w, "%-6s %10s %7s %11s %12s %9s %9s %9s %9s %9s %7s %8s %6s %9s\n",
			"mode", "rate", "clients", "outstanding", "throughput", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "timeouts", "shed", "cpu µs/tx")
	}
	for _, r := range runs {
		rate := "-"
		if r.Mode == "open" {
			rate = formatInt(r.Rate)
		}
		out := "-"
		if r.Outstanding > 0 {
			out = fmt.Sprint(r.Outstanding)
		}
		l := r.Latency
		fmt.Fprintf(w, "%-6s %10s %7d %11s %12s %9.1f %9.1f %9.1f %9.1f %9.1f %7d %8d %6d %9.0f\n",
			r.Mode, rate, r.Clients, out, formatInt(r.Throughput), l.P50Ms, l.P90Ms, l.P99Ms, l.P999Ms, l.MaxMs,
			r.Errors, r.Timeouts, r.Shed, r.CPUMicrosPerTx)
	}
}

// formatInt formats v rounded, with thousands separated by commas.
func formatInt(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// signBaseline returns the time of one Ed25519 signature of 32 bytes, in
// µs.
func signBaseline() float64 {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail.
	}
	msg := make([]byte, 32)
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			ed25519.Sign(key, msg)
		}
	})
	return float64(res.NsPerOp()) / 1000
}

// loopbackRoundTrips is how many round trips loopbackBaseline times: a
// fraction of a second.
const loopbackRoundTrips = 5000

// loopbackBaseline returns the time of one round trip of 512 bytes over
// TCP on 127.0.0.1, in µs: what the kernel and Go's network poller cost
// for one message each way, the unit of the clients' and nodes' traffic.
func loopbackBaseline() (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	echoed := make(chan error, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			echoed <- err
			return
		}
		defer nc.Close()
		buf := make([]byte, 512)
		for {
			if _, err := io.ReadFull(nc, buf); err != nil {
				echoed <- nil // The timing side closed.
				return
			}
			if _, err := nc.Write(buf); err != nil {
				echoed <- err
				return
			}
		}
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 512)
	start := time.Now()
	for range loopbackRoundTrips {
		if _, err := nc.Write(buf); err != nil {
			nc.Close()
			return 0, err
		}
		if _, err := io.ReadFull(nc, buf); err != nil {
			nc.Close()
			return 0, err
		}
	}
	took := time.Since(start)
	nc.Close()
	if err := <-echoed; err != nil {
		return 0, err
	}
	return float64(took.Microseconds()) / loopbackRoundTrips, nil
}

// startCPUProfile starts profiling the process's CPU to path; stop ends
// it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// measureCPU measures the CPU time the process uses from after warmup to
// after warmup+measured, from now: a run's measured time, when the run
// starts now. The returned function returns it once that time passed.
func measureCPU(warmup, measured time.Duration) func() time.Duration {
	var from, to atomic.Int64
	t0 := time.AfterFunc(warmup, func() { from.Store(int64(cpuTime())) })
	t1 := time.AfterFunc(warmup+measured, func() { to.Store(int64(cpuTime())) })
	return func() time.Duration {
		t0.Stop()
		t1.Stop()
		return time.Duration(to.Load() - from.Load())
	}
}

// cpuTime returns the CPU time the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage returns the first three fields of /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
