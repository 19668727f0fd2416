package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/mirframework/mir/internal/loopback"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/loadgen"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// clusterConfig is what startCluster starts.
type clusterConfig struct {
	// nodes is the number of replicas.
	nodes int
	// dir, if not empty, receives the membership, the keys, the
	// replicas' data and logs, and is kept; otherwise a temporary
	// directory does, removed by stop.
	dir string
	// record, if not empty, is where every replica records its events.
	record string
	// exe and env are the program that runs a replica (with the
	// arguments of replicaOptions.flags) and what its environment adds
	// to ours: os.Executable, or a test binary that becomes mir.
	exe string
	env []string
}

// cluster is a local cluster: replicas run as processes of their own,
// on 127.0.0.1, with a load generator's clients of them. Its methods are
// safe for concurrent use.
type cluster struct {
	cfg     clusterConfig
	dir     string
	temp    bool // dir is ours to remove.
	members *membership.Membership
	nodes   []*process
	// load has loadClients clients of the replicas.
	load *loadgen.Generator

	// mu makes toggle and stop one at a time: two restarts of one node
	// would start two processes, and a restart after stop one that
	// nothing stops.
	mu      sync.Mutex
	stopped bool
}

// process is one replica's process, started again after it is killed.
type process struct {
	id      stdtypes.NodeID
	opts    replicaOptions
	logFile string

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // Closed when cmd has exited.
	restarts int
}

// stopTimeout bounds the wait for a replica to exit after SIGTERM, before
// it is killed: a replica closes its WAL and files in well under a
// second.
const stopTimeout = 5 * time.Second

// startCluster writes the deployment's files, starts every replica and
// dials them with a load generator of loadClients clients. On error, nothing it started is
// left running, and the temporary directory is removed.
func startCluster(cfg clusterConfig) (c *cluster, err error) {
	if cfg.nodes < 1 || cfg.nodes > maxNodes {
		return nil, fmt.Errorf("--nodes %d: from 1 to %d", cfg.nodes, maxNodes)
	}
	c = &cluster{cfg: cfg, dir: cfg.dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "mir-cluster-"); err != nil {
			return nil, err
		}
		c.temp = true
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.stop())
		}
	}()
	// Three addresses per node: the peers', the clients' and the
	// metrics' ports.
	addrs, err := loopback.FreeAddrs(3 * cfg.nodes)
	if err != nil {
		return c, err
	}
	var keys []crypto.PrivateKey
	if c.members, keys, err = membership.WithAddrs(addrs[:cfg.nodes]); err != nil {
		return c, err
	}
	if _, err := writeDeployment(c.dir, c.members, keys); err != nil {
		return c, err
	}
	clientAddrs := addrs[cfg.nodes : 2*cfg.nodes]
	for i, id := range c.members.IDs() {
		p := &process{
			id:      id,
			logFile: filepath.Join(c.dir, "node-"+string(id)+".log"),
			opts: replicaOptions{
				membership: filepath.Join(c.dir, membershipFile), id: string(id),
				data: filepath.Join(c.dir, "data-"+string(id)), clientAddr: clientAddrs[i],
				metricsAddr: addrs[2*cfg.nodes+i], record: cfg.record,
			},
		}
		c.nodes = append(c.nodes, p)
		if err := c.start(p); err != nil {
			return c, err
		}
	}
	// f faulty of n > 3f: a result is accepted from f+1 replicas, so the
	// load goes on with f of them killed.
	f := (cfg.nodes - 1) / 3
	// Client IDs of their own for each run: the replicas of a kept
	// directory remember the numbers of the last run's clients.
	c.load, err = loadgen.Dial(loadgen.Target{
		Addrs: clientAddrs, F: f, Clients: loadClients,
		ClientIDPrefix: "mir-cluster-" + strconv.FormatInt(time.Now().UnixNano(), 36),
	})
	return c, err
}

// loadClients is how many clients share the load. A client numbers its
// transactions, and numbers a new one at most client.Options.Window
// (128) above its oldest one not answered: one transaction that waits
// (its slot's leader is slow or was killed) holds up the client's next
// ones, which at 1000 tx/s is after 128 ms. Four clients at a quarter of
// the rate each have four times as long, and keep one another going: on
// 4 local replicas at 1000 tx/s, one client stalled for seconds at a
// time, four held the rate.
const loadClients = 4

// maxNodes bounds --nodes: each node is a process, and the view's keys
// name nodes with one digit.
const maxNodes = 10

// start starts p's process, its standard output and error appended to
// its log file.
func (c *cluster) start(p *process) error {
	log, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // The child has its own descriptor.
	cmd := exec.Command(c.cfg.exe, p.opts.flags()...)
	cmd.Env = append(os.Environ(), c.cfg.env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = replicaProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("node %s: %w", p.id, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	return nil
}

// running reports whether p's process runs.
func (p *process) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to p's process, if it runs, and waits at most timeout
// for it to exit; then it kills it.
func (p *process) signal(sig syscall.Signal, timeout time.Duration) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig) // Fails only if it has exited.
	select {
	case <-exited:
		return
	case <-time.After(timeout):
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Errors of toggle.
var (
	// ErrNoNode: the cluster lacks the node.
	ErrNoNode = errors.New("no such node")
	// ErrStopped: the cluster was stopped.
	ErrStopped = errors.New("cluster stopped")
)

// toggle kills node i with SIGKILL if it runs, and starts it again
// otherwise; it returns what it did.
func (c *cluster) toggle(i int) (string, error) {
	if i < 0 || i >= len(c.nodes) {
		return "", fmt.Errorf("%w: %d", ErrNoNode, i)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return "", ErrStopped
	}
	p := c.nodes[i]
	if p.running() {
		p.signal(syscall.SIGKILL, stopTimeout)
		return fmt.Sprintf("node %s killed (kill -9)", p.id), nil
	}
	if err := c.start(p); err != nil {
		return "", err
	}
	p.mu.Lock()
	p.restarts++
	p.mu.Unlock()
	return fmt.Sprintf("node %s restarted", p.id), nil
}

// stop closes the load's clients, stops every replica (SIGTERM, then SIGKILL
// after stopTimeout) and removes the directory if it is temporary.
func (c *cluster) stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.load != nil {
		c.load.Close()
	}
	var wg sync.WaitGroup
	for _, p := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.signal(syscall.SIGTERM, stopTimeout)
		}()
	}
	wg.Wait()
	if c.temp {
		return os.RemoveAll(c.dir)
	}
	return nil
}
