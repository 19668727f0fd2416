package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/metrics"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// The IDs of the modules a replica adds to trantor.New's.
const (
	TransportID stdtypes.ModuleID = "net"
	TimerID     stdtypes.ModuleID = "timer"
	WALID       stdtypes.ModuleID = "wal"
	CryptoID    stdtypes.ModuleID = "crypto"
)

// walDir is the WAL's directory inside the data directory.
const walDir = "wal"

// Config is what a replica is made of.
type Config struct {
	// ID is the replica's node ID, a node of Members.
	ID stdtypes.NodeID
	// Members are the nodes the replica may talk to: their addresses and
	// public keys (a membership file, membership.Load). It holds every
	// node that may ever be a voter, also those a reconfiguration adds
	// later (Params.ISS.Voters names the voters of the first epochs).
	Members *membership.Membership
	// Key is the replica's private key, whose public key Members gives
	// ID.
	Key crypto.PrivateKey
	// DataDir holds what the replica keeps across restarts: the WAL (in
	// DataDir/wal, synced at every write) and the incarnation of its last
	// start. It is created if it does not exist; one replica at a time
	// may use it (the WAL locks it).
	DataDir string
	// ClientAddr is the host:port the client server listens on (see
	// pkg/trantor/client), unless ClientOptions.Listener is set.
	ClientAddr string
	// Params are Trantor's parameters, the same on every replica.
	Params trantor.Params
	// NewApp returns the application, a new value at each start: it is
	// restored from a checkpoint, or starts empty.
	NewApp func() trantor.App
	// RecordDir, if not empty, is where the replica records every event
	// its node processes with the stream recorder (pkg/eventlog), in files
	// that a restart never overwrites; cmd/mircat reads them.
	RecordDir string
	// Logger may be nil.
	Logger *logging.Logger
	// MetricsAddr, if not empty, is the host:port where Run serves the
	// node's statistics to Prometheus (pkg/metrics, path /metrics), unless
	// MetricsListener is set, on which Run serves them instead (a port the
	// system chose, known before Run). Run closes the listener. With
	// either, the client server runs inside a metrics.ClientServer, which
	// adds its counters and the node's transaction latency.
	MetricsAddr     string
	MetricsListener net.Listener

	// Transport, ClientOptions and WAL configure the TCP transport, the
	// client server and the WAL; their zero values are the defaults. The
	// client server's Mempool is set to Trantor's, and its MaxTxBytes, if
	// zero, to the mempool's.
	Transport     tcp.Options
	ClientOptions client.ServerOptions
	WAL           wal.Options
	// NodeConfig configures the mir.Node; the zero value stands for
	// mir.DefaultNodeConfig. The Logger is set to Logger.
	NodeConfig *mir.NodeConfig
	// PeerWait bounds how long Run, once the transport is started, waits
	// for its connections to the other voters of the first epochs
	// (Params.ISS.Voters) before it starts the node; it starts the node as
	// soon as they are all up. Replicas started a second apart would
	// otherwise run their first segments without the late ones: those
	// segments end empty in view changes, and the leader selection leaves
	// the late nodes out for a few epochs. The bound is what a replica
	// whose peer is down for good loses at each start. Zero stands for
	// DefaultPeerWait; negative starts the node at once.
	PeerWait time.Duration
}

// DefaultPeerWait is Config.PeerWait's default: longer than processes
// started together by hand or by a script take to come up, short enough
// for a replica restarted while a peer is down.
const DefaultPeerWait = 5 * time.Second

// peerPollInterval is how often Run looks at the transport's connections
// while it waits for its peers.
const peerPollInterval = 10 * time.Millisecond

// validate checks what New cannot leave to the parts it builds.
func (c *Config) validate() error {
	var errs []error
	if c.Members == nil {
		errs = append(errs, errors.New("no Members"))
	} else if _, ok := c.Members.Node(c.ID); !ok {
		errs = append(errs, fmt.Errorf("node %q is not in Members", c.ID))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("no DataDir"))
	}
	if c.ClientAddr == "" && c.ClientOptions.Listener == nil {
		errs = append(errs, errors.New("no ClientAddr"))
	}
	if c.NewApp == nil {
		errs = append(errs, errors.New("no NewApp"))
	}
	return errors.Join(errs...)
}

// Replica is one Trantor node running as a process's replica: its node,
// its TCP transport, its WAL and its client server. Make it with New, run
// it with Run.
type Replica struct {
	cfg         Config
	incarnation uint64
	node        *mir.Node
	transport   *tcp.Transport
	server      *client.Server
	wal         *wal.Module
	recorder    *eventlog.Recorder

	runOnce sync.Once
	// nodeStarted is closed when Run starts the node (Started).
	nodeStarted chan struct{}
	closeOnce   sync.Once
	closeErr    error
	// metricsServed tells that Run handed Config.MetricsListener to the
	// metrics server, which closes it; otherwise Close does.
	metricsServed bool
}

// New builds the replica: it opens the WAL (reading what it holds), takes
// the next incarnation, and makes the modules and the node. Nothing
// listens yet: Run starts the transport and the client server. A replica
// that New returns must be run, or closed with Close.
func New(cfg Config) (*Replica, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	r := &Replica{cfg: cfg, nodeStarted: make(chan struct{})}
	if err := r.build(); err != nil {
		r.Close()
		return nil, fmt.Errorf("replica %s: %w", cfg.ID, err)
	}
	return r, nil
}

// build makes the parts in the order they depend on each other; Close
// releases whatever it made.
func (r *Replica) build() error {
	cfg := &r.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	// The WAL first: its lock keeps a second process off the directory,
	// and the incarnation file with it.
	walOpts := cfg.WAL
	if walOpts.Logger == nil {
		walOpts.Logger = cfg.Logger
	}
	var err error
	if r.wal, err = wal.NewModule(filepath.Join(cfg.DataDir, walDir), walOpts); err != nil {
		return err
	}
	if r.incarnation, err = nextIncarnation(cfg.DataDir); err != nil {
		return err
	}
	mods, err := r.modules()
	if err != nil {
		return err
	}
	var interceptor eventlog.Interceptor
	if cfg.RecordDir != "" {
		meta := map[string]string{"incarnation": fmt.Sprint(r.incarnation)}
		if r.recorder, err = eventlog.NewStreamRecorder(cfg.RecordDir, cfg.ID, eventlog.StreamOptions{Meta: meta}, eventlog.RecorderOptions{}); err != nil {
			return err
		}
		interceptor = r.recorder
	}
	nc := cfg.NodeConfig
	if nc == nil {
		nc = mir.DefaultNodeConfig()
	}
	r.node, err = mir.NewNode(cfg.ID, nc.WithLogger(cfg.Logger), mods, interceptor)
	return err
}

// modules returns the node's modules: trantor.New's, the transport, the
// timer, the WAL, the signing pool and the client server.
func (r *Replica) modules() (modules.Modules, error) {
	cfg := &r.cfg
	mods, err := trantor.New(cfg.ID, cfg.Params, trantor.Deps{
		Transport: TransportID, Timer: TimerID, WAL: WALID, Crypto: CryptoID, Clients: trantor.ClientsID,
		App: cfg.NewApp(), Incarnation: r.incarnation, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	topts := cfg.Transport
	if topts.Logger == nil {
		topts.Logger = cfg.Logger
	}
	if r.transport, err = tcp.New(cfg.ID, cfg.Members, cfg.Key, topts); err != nil {
		return nil, err
	}
	pubs := make(map[stdtypes.NodeID]crypto.PublicKey, cfg.Members.Len())
	for _, n := range cfg.Members.Nodes() {
		pubs[n.ID] = n.PublicKey
	}
	nc, err := crypto.New(cfg.Key, pubs)
	if err != nil {
		return nil, err
	}
	signer, err := crypto.NewPool(nc, runner.DefaultPoolParams())
	if err != nil {
		return nil, err
	}
	copts := cfg.ClientOptions
	copts.Mempool = trantor.MempoolID
	if copts.MaxTxBytes == 0 {
		copts.MaxTxBytes = cfg.Params.Mempool.MaxTxBytes // What the mempool takes.
	}
	if copts.Logger == nil {
		copts.Logger = cfg.Logger
	}
	if r.server, err = client.NewServer(cfg.ClientAddr, copts); err != nil {
		return nil, err
	}
	var clients modules.Module = r.server
	if cfg.MetricsAddr != "" || cfg.MetricsListener != nil {
		// The server's counters and the transactions' latency on this
		// node, for the metrics; without metrics, the server alone.
		clients = metrics.NewClientServer(r.server)
	}
	mods[TransportID], mods[TimerID], mods[WALID], mods[CryptoID], mods[trantor.ClientsID] =
		r.transport, stdmodules.NewTimer(TimerID, cfg.Logger), r.wal, signer, clients
	return mods, nil
}

// Incarnation returns the incarnation of this start of the replica: one
// more than the last start's from the same data directory.
func (r *Replica) Incarnation() uint64 { return r.incarnation }

// Node returns the replica's node, to read its statistics.
func (r *Replica) Node() *mir.Node { return r.node }

// ClientAddr returns the address the client server listens on, once Run
// has started it (nil before).
func (r *Replica) ClientAddr() net.Addr { return r.server.Addr() }

// Run starts the transport and the client server, runs the node until ctx
// ends or the node fails, and then stops and closes everything (Close).
// It returns nil when ctx ended and everything closed cleanly, and what
// failed otherwise (the node, or the recorder's or the WAL's last
// writes). Run may be called once.
func (r *Replica) Run(ctx context.Context) error {
	err := errors.New("replica: Run called twice")
	r.runOnce.Do(func() { err = r.run(ctx) })
	return err
}

func (r *Replica) run(ctx context.Context) error {
	err := r.runNode(ctx)
	if cerr := r.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("replica %s: %w", r.cfg.ID, err)
	}
	return nil
}

// runNode starts the transport and the client server and runs the node;
// it returns nil once ctx ends.
func (r *Replica) runNode(ctx context.Context) error {
	if err := r.transport.Start(); err != nil {
		return err
	}
	if err := r.server.Start(); err != nil {
		return err
	}
	stopMetrics, err := r.serveMetrics()
	if err != nil {
		return err
	}
	r.awaitPeers(ctx)
	close(r.nodeStarted)
	err = r.node.Run(ctx)
	if ctx.Err() != nil && (errors.Is(err, ctx.Err()) || errors.Is(err, mir.ErrStopped)) {
		err = nil
	}
	return errors.Join(err, stopMetrics())
}

// serveMetrics starts serving the node's statistics if the configuration
// asks for it, and returns what stops the server and tells how it ended.
// The server runs until then, whatever the node does; an error of its own
// is reported when the replica stops, not fatal: the replica serves its
// clients without it.
func (r *Replica) serveMetrics() (stop func() error, err error) {
	l := r.cfg.MetricsListener
	r.metricsServed = true // From here on the listener is ServeListener's to close.
	if l == nil {
		if r.cfg.MetricsAddr == "" {
			return func() error { return nil }, nil
		}
		if l, err = net.Listen("tcp", r.cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- metrics.ServeListener(ctx, l, metrics.NewCollector(r.cfg.ID, r.node)) }()
	return func() error {
		cancel()
		return <-done
	}, nil
}

// Close stops the node (if it runs) and releases what the replica holds:
// the transport, the client server's listener and connections, the
// recorder's files and the WAL, in that order. Run calls it before it
// returns; call it for a replica that is never run. Calls after the first
// return the first's result.
func (r *Replica) Close() error {
	r.closeOnce.Do(func() { r.closeErr = r.close() })
	return r.closeErr
}

func (r *Replica) close() error {
	if l := r.cfg.MetricsListener; l != nil && !r.metricsServed {
		l.Close() // Run never served on it: a transport that failed to start, or no Run.
	}
	if r.node != nil {
		r.node.Stop()
	}
	if r.transport != nil {
		r.transport.Stop()
	}
	if r.server != nil {
		r.server.Stop()
	}
	var errs []error
	if r.recorder != nil {
		errs = append(errs, r.recorder.Close())
	}
	if r.wal != nil {
		errs = append(errs, r.wal.Close())
	}
	return errors.Join(errs...)
}

// Started returns a channel that is closed when Run starts the node: once
// the replica is connected to its peers, has waited Config.PeerWait for
// them, or its context ended while it waited (the node then stops at
// once). It stays open if Run fails before (the transport or the client
// server did not start): wait on it together with Run's return.
func (r *Replica) Started() <-chan struct{} { return r.nodeStarted }

// awaitPeers returns once the transport is connected to every other voter
// of the first epochs, once Config.PeerWait has passed, or once ctx ends
// (the node then stops at once). It logs which peers it did not wait for.
func (r *Replica) awaitPeers(ctx context.Context) {
	wait := r.cfg.PeerWait
	if wait == 0 {
		wait = DefaultPeerWait
	}
	if wait < 0 {
		return
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	poll := time.NewTicker(peerPollInterval)
	defer poll.Stop()
	for {
		missing := r.unconnectedVoters()
		if len(missing) == 0 {
			return
		}
		select {
		case <-poll.C:
		case <-ctx.Done():
			return
		case <-deadline.C:
			r.cfg.Logger.LogAttrs(logging.LevelWarn, "starting without every voter connected",
				slog.Duration("waited", wait), slog.Any("missing", missing))
			return
		}
	}
}

// unconnectedVoters returns the voters of the first epochs, other than this
// replica, that its transport has no connection to.
func (r *Replica) unconnectedVoters() []stdtypes.NodeID {
	peers := r.transport.Metrics().Peers
	var missing []stdtypes.NodeID
	for _, v := range r.cfg.Params.ISS.Voters {
		if v.ID != r.cfg.ID && !peers[v.ID].Connected {
			missing = append(missing, v.ID)
		}
	}
	return missing
}
