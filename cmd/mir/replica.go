package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/replica"
	"github.com/mirframework/mir/samples/kvstore"
	"github.com/mirframework/mir/stdtypes"
)

// replicaOptions are the flags of `mir replica`.
type replicaOptions struct {
	membership, id, key, data string
	listen                    string
	clientAddr, metricsAddr   string
	record                    string
	verbose                   bool
}

// flags returns the arguments that give a replica these options: what
// `mir cluster` passes to each replica it starts.
func (o replicaOptions) flags() []string {
	args := []string{"replica", "--membership", o.membership, "--id", o.id, "--data", o.data,
		"--client-addr", o.clientAddr}
	for _, f := range []struct{ name, value string }{
		{"--key", o.key}, {"--listen", o.listen}, {"--metrics", o.metricsAddr}, {"--record", o.record},
	} {
		if f.value != "" {
			args = append(args, f.name, f.value)
		}
	}
	if o.verbose {
		args = append(args, "-v")
	}
	return args
}

func newReplicaCmd() *cobra.Command {
	var o replicaOptions
	cmd := &cobra.Command{
		Use:   "replica --membership FILE --id ID",
		Short: "Run one replica of the key-value store (samples/kvstore) on Trantor",
		Long: `Run one replica of a replicated key-value store (samples/kvstore) on
Trantor, over TCP with the nodes of the membership file, until SIGINT or
SIGTERM. Every node of the file is a voter. The replica keeps its WAL in
--data: killed (even with kill -9) and started again with the same flags,
it recovers and catches up with the others. Clients (kvstore.Dial) connect
to --client-addr; --metrics serves Prometheus metrics (docs/metrics.md).
'mir cluster' runs four of these; the container image runs one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReplica(cmd, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.membership, "membership", "", "the membership file (required)")
	fs.StringVar(&o.id, "id", "", "this node's ID (required)")
	fs.StringVar(&o.key, "key", "", "this node's private key file (default node-ID.key next to the membership file)")
	fs.StringVar(&o.data, "data", "", "this node's data directory (default data-ID next to the membership file)")
	fs.StringVar(&o.listen, "listen", "", "host:port the node listens on for its peers (default its address in the membership file; \":7000\" in a container)")
	fs.StringVar(&o.clientAddr, "client-addr", "127.0.0.1:0", "host:port of the client server, where clients submit operations")
	fs.StringVar(&o.metricsAddr, "metrics", "", "serve Prometheus metrics at this host:port (path /metrics)")
	fs.StringVar(&o.record, "record", "", "record the node's events in this directory (mircat reads them)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "log debug messages to standard error")
	for _, name := range []string{"membership", "id"} {
		_ = cmd.MarkFlagRequired(name) // Never fails: the flags exist.
	}
	return cmd
}

// runReplica runs the replica until the command's context ends.
func runReplica(cmd *cobra.Command, o replicaOptions) error {
	id := stdtypes.NodeID(o.id)
	members, key, err := cli.LoadNode(o.membership, id, o.key)
	if err != nil {
		return err
	}
	if o.data == "" {
		o.data = filepath.Join(filepath.Dir(o.membership), "data-"+o.id)
	}
	stderr := cmd.ErrOrStderr()
	r, err := replica.New(replica.Config{
		ID: id, Members: members, Key: key, DataDir: o.data, ClientAddr: o.clientAddr,
		Params:    trantor.DefaultParams(members.Voters()),
		NewApp:    newStore,
		Transport: tcp.Options{ListenAddr: o.listen},
		RecordDir: o.record, MetricsAddr: o.metricsAddr,
		Logger: cli.Logger(stderr, o.verbose),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "mir replica: node %s (incarnation %d) running\n", id, r.Incarnation())
	return r.Run(cmd.Context())
}

// newStore returns an empty store of the default bound.
func newStore() trantor.App {
	s, err := kvstore.New(0)
	if err != nil {
		panic(err) // The default bound is valid: kvstore's tests say so.
	}
	return s
}
