package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/pkg/trantor/replica"
	"github.com/mirframework/mir/samples/kvstore"
)

// LocalOptions configure StartLocal.
type LocalOptions struct {
	// Nodes is the number of replicas, 1 to maxLocalNodes (default 4).
	Nodes int
	// Dir holds the replicas' data directories (their WALs); a temporary
	// directory, removed by Stop, if empty.
	Dir string
	// Logger may be nil.
	Logger *logging.Logger
}

// maxLocalNodes bounds LocalOptions.Nodes: each replica is a node, a
// signing pool, a WAL and connections to every other in this process.
const maxLocalNodes = 64

// Local is a cluster of kvstore replicas (samples/kvstore) running in
// this process, over authenticated TCP on 127.0.0.1, each with its WAL,
// its signing pool and its client server: what a deployment of one
// process per node runs, in one process.
type Local struct {
	members     *membership.Membership
	clientAddrs []string
	f           int
	tmpDir      string
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	mu          sync.Mutex
	errs        []error
}

// StartLocal starts a local cluster; Stop stops it.
func StartLocal(opts LocalOptions) (*Local, error) {
	if opts.Nodes == 0 {
		opts.Nodes = 4
	}
	if opts.Nodes < 1 || opts.Nodes > maxLocalNodes {
		return nil, fmt.Errorf("loadgen: %d nodes, want 1 to %d", opts.Nodes, maxLocalNodes)
	}
	c := &Local{f: (opts.Nodes - 1) / 3}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "mir-loadgen-")
		if err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		opts.Dir, c.tmpDir = dir, dir
	}
	replicas, err := c.build(opts)
	if err != nil {
		c.removeTmp()
		return nil, fmt.Errorf("loadgen: local cluster: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	for _, r := range replicas {
		c.wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				c.mu.Lock()
				c.errs = append(c.errs, err)
				c.mu.Unlock()
			}
		})
	}
	return c, nil
}

// build makes the replicas, listening on ports the system chose: the
// listeners are open before the membership names their addresses, so no
// other program can take them.
func (c *Local) build(opts LocalOptions) ([]*replica.Replica, error) {
	var listeners []net.Listener
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	listen := func() (net.Listener, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			listeners = append(listeners, l)
		}
		return l, err
	}
	peerLs, clientLs := make([]net.Listener, opts.Nodes), make([]net.Listener, opts.Nodes)
	addrs := make([]string, opts.Nodes)
	for i := range opts.Nodes {
		var err error
		if peerLs[i], err = listen(); err != nil {
			closeAll()
			return nil, err
		}
		if clientLs[i], err = listen(); err != nil {
			closeAll()
			return nil, err
		}
		addrs[i] = peerLs[i].Addr().String()
		c.clientAddrs = append(c.clientAddrs, clientLs[i].Addr().String())
	}
	members, keys, err := membership.WithAddrs(addrs)
	if err != nil {
		closeAll()
		return nil, err
	}
	c.members = members
	params := trantor.DefaultParams(members.Voters())
	var replicas []*replica.Replica
	for i, id := range members.IDs() {
		cfg := replica.Config{
			ID: id, Members: members, Key: keys[i], DataDir: filepath.Join(opts.Dir, string(id)),
			ClientAddr: c.clientAddrs[i], Params: params, Logger: opts.Logger,
			NewApp: func() trantor.App {
				s, err := kvstore.New(0)
				if err != nil {
					panic(err) // The default bound is valid: a bug.
				}
				return s
			},
		}
		cfg.Transport.Listener = peerLs[i]
		cfg.ClientOptions = client.ServerOptions{Listener: clientLs[i]}
		r, err := replica.New(cfg)
		if err != nil {
			for _, r := range replicas {
				r.Close() // Closes its listeners.
			}
			for _, l := range listeners[2*len(replicas):] {
				l.Close()
			}
			return nil, err
		}
		replicas = append(replicas, r)
	}
	return replicas, nil
}

// Membership returns the cluster's membership: what a membership file of
// it holds (membership.Membership.Save).
func (c *Local) Membership() *membership.Membership { return c.members }

// ClientAddrs returns the host:port of the replicas' client servers.
func (c *Local) ClientAddrs() []string { return c.clientAddrs }

// F returns the faulty replicas the cluster tolerates.
func (c *Local) F() int { return c.f }

// Stop stops the replicas, removes the temporary directory if StartLocal
// made one, and returns what failed.
func (c *Local) Stop() error {
	c.cancel()
	c.wg.Wait()
	err := errors.Join(c.errs...)
	if rerr := c.removeTmp(); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}

func (c *Local) removeTmp() error {
	if c.tmpDir == "" {
		return nil
	}
	return os.RemoveAll(c.tmpDir)
}
