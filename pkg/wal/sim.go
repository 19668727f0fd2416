package wal

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// SimOptions configure a simulated disk and the WAL module's twin on it.
// The zero value gives the defaults.
type SimOptions struct {
	// Log configures the log; its FS is the disk's, and it syncs every
	// batch whatever its Sync. Zero SegmentBytes means
	// DefaultSimSegmentBytes.
	Log Options
	// SyncLatency is the simulated time a sync takes, drawn for each
	// batch; nil means DefaultSyncLatency.
	SyncLatency testsim.Delay
	// Faults is what a crash does to the writes not yet synced. The zero
	// value draws, for each crash, whether they are all lost, all kept or
	// cut at a random byte, and flips no bit; SimFaults adds bit flips.
	Faults CrashFaults
}

const (
	// DefaultSimSegmentBytes is the segment size of a simulated log: a
	// simulation rolls and truncates segments within a short run, which
	// is what it should test. A MemFS takes memory only for what is
	// written.
	DefaultSimSegmentBytes = 1 << 20

	// simDir is the log's directory on a simulated disk.
	simDir = "/wal"
)

// DefaultSyncLatency is the default time a simulated sync takes: what
// an fsync of a small write takes on a solid-state disk.
var DefaultSyncLatency = testsim.Uniform(100*time.Microsecond, time.Millisecond)

// SimFaults are the storage faults of the simulated deployments
// (pkg/deploytest): the unsynced writes all lost, all kept or cut at a
// random byte, and, one crash in four, a bit flipped where a torn write
// stopped.
func SimFaults() CrashFaults { return CrashFaults{FlipProbability: 0.25} }

// SimDisk is the disk of one node of a simulation: a MemFS that outlives
// the node's incarnations, with its own source of randomness from the
// simulation's seed. At each start of the node, its constructor calls
// Start for the WAL module's twin: the disk first goes through the crash
// that ended the incarnation before, if there was one, then the twin
// recovers the log with the code a real node runs. Same seed, same faults.
type SimDisk struct {
	fs      *MemFS
	rand    *rand.Rand
	opts    SimOptions
	started bool
	crashes []CrashReport
}

// NewSimDisk returns an empty disk whose faults and sync latencies are
// drawn from r: give it a source of its own, from the simulation's seed
// (testsim.Sim.NewRand), so that it does not shift what others draw.
func NewSimDisk(r *rand.Rand, opts SimOptions) *SimDisk {
	if opts.Log.SegmentBytes == 0 {
		opts.Log.SegmentBytes = DefaultSimSegmentBytes
	}
	if opts.SyncLatency == nil {
		opts.SyncLatency = DefaultSyncLatency
	}
	fs := NewMemFS()
	opts.Log.FS = fs
	opts.Log.Sync = SyncEveryGroup
	return &SimDisk{fs: fs, rand: r, opts: opts}
}

// FS returns the disk's file system.
func (d *SimDisk) FS() *MemFS { return d.fs }

// Crashes returns what the crashes so far did to the unsynced writes,
// oldest first.
func (d *SimDisk) Crashes() []CrashReport { return append([]CrashReport(nil), d.crashes...) }

// Start returns the WAL module's twin of a new incarnation of the node.
// Every start but the first follows a crash, which the disk goes through
// first: the writes of the incarnation before that were not synced are
// kept or lost as SimOptions.Faults says, and its files and lock are
// released. The twin then opens the log, recovers it and reads its
// records, as NewModule does. An error is the node's failure to start
// (a log it cannot read).
func (d *SimDisk) Start() (*SimModule, error) {
	if d.started {
		d.crashes = append(d.crashes, d.fs.Crash(d.rand, d.opts.Faults)...)
	}
	d.started = true
	raw, err := OpenRaw(simDir, d.opts.Log)
	if err != nil {
		return nil, err
	}
	m := &SimModule{disk: d, raw: raw, j: newJournal()}
	if err := m.j.open(raw.Records(0), raw.LastIndex(), raw.opts.MaxRecordBytes); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("wal: simulated disk: %w", err)
	}
	return m, nil
}

// SimModule is the simulated twin of Module, on a SimDisk: the same
// events, records and recovery, on a RawLog over the disk's MemFS. It
// writes each batch's records at once, holds the batch (testsim.Env.Hold)
// for a sync latency drawn from the disk's source, then syncs and
// releases it: the follow-ups of its Appends come when their records are
// durable, later in simulated time, as on a real disk. A crash of the node
// meanwhile leaves the records written but not synced to the disk's crash
// model.
type SimModule struct {
	disk *SimDisk
	raw  *RawLog
	j    journal
}

// Both WAL modules hand back what they recovered, and report their
// counters to the node's statistics.
var (
	_ testsim.Module        = (*SimModule)(nil)
	_ modules.Recoverer     = (*SimModule)(nil)
	_ modules.Recoverer     = (*Module)(nil)
	_ modules.StatsReporter = (*SimModule)(nil)
	_ modules.StatsReporter = (*Module)(nil)
)

// Recovered returns the events of the records the log held at the start,
// as Module.Recovered does.
func (m *SimModule) Recovered() []stdtypes.Event { return m.j.takeRecovered() }

// ApplyEvents writes the batch's records and holds the batch until they
// are synced.
func (m *SimModule) ApplyEvents(env *testsim.Env, events *stdtypes.EventList) error {
	before := m.raw.LastIndex()
	truncated, err := m.j.apply(events.Slice(), m.raw.Append)
	if err != nil {
		return err
	}
	if m.raw.LastIndex() == before {
		return nil // Init, ignored Appends: nothing to wait for.
	}
	if err := m.raw.Flush(); err != nil {
		return err
	}
	release := env.Hold()
	env.After(testsim.Draw(m.disk.opts.SyncLatency, m.disk.rand), func() {
		err := m.raw.Sync()
		if err == nil && truncated {
			err = m.raw.TruncateBefore(m.j.firstLive())
		}
		release(err)
	})
	return nil
}

// Stats returns the twin's counters.
func (m *SimModule) Stats() ModuleStats { return m.j.stats() }

// ReportStats returns the twin's counters (modules.StatsReporter).
func (m *SimModule) ReportStats() any { return m.Stats() }

// Log returns the twin's log, for tests.
func (m *SimModule) Log() *RawLog { return m.raw }
