package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"

	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/pkg/trantor/replica"
	"github.com/mirframework/mir/stdtypes"
)

func main() { cli.Main("chat-demo", run) }

const usage = `Usage: chat-demo -membership FILE -id ID [flags]

A replicated chat on Trantor: each node is a process; every line typed on a
node's standard input is a transaction, and every node prints the chat in
the same order. Two commands reconfigure the group:

  /add-node ID ADDR   makes node ID (of the membership file, listening on
                      ADDR) a member; start it with the same -voters
  /remove-node ID     removes node ID from the members

A membership change takes effect a few epochs after the line. The membership
file ('mir membership generate') lists every node that may ever take part,
with its key file next to it; -voters names the first members. A node keeps
its state in -data: killed (even with kill -9) and started again with the
same flags, it catches up and prints the whole chat.

Flags:`

// options are the command-line flags.
type options struct {
	membership, id, key, data string
	voters                    string
	clientAddr                string
	record, metrics           string
	verbose                   bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := cli.NewFlags("chat-demo", usage, stderr)
	fs.StringVar(&o.membership, "membership", "", "the membership file (required)")
	fs.StringVar(&o.id, "id", "", "this node's ID (required)")
	fs.StringVar(&o.key, "key", "", "this node's private key file (default node-ID.key next to the membership file)")
	fs.StringVar(&o.data, "data", "", "this node's data directory (default chat-ID next to the membership file)")
	fs.StringVar(&o.voters, "voters", "", "the first members, comma-separated, the same on every node (default every node of the membership file)")
	fs.StringVar(&o.clientAddr, "client-addr", "127.0.0.1:0", "the address of the node's client server, which takes transactions from clients (pkg/trantor/client) and this node's lines")
	fs.StringVar(&o.record, "record", "", "record the node's events in this directory (cmd/mircat reads them)")
	fs.StringVar(&o.metrics, "metrics", "", "serve the node's statistics to Prometheus at this host:port (path /metrics; docs/metrics.md)")
	fs.BoolVar(&o.verbose, "v", false, "log debug messages to standard error")
	err := cli.Parse(fs, args, func() string {
		switch {
		case fs.NArg() > 0:
			return "no arguments are taken: the chat comes from standard input"
		case o.membership == "" || o.id == "":
			return "-membership and -id are required"
		}
		return ""
	})
	return o, err
}

// firstVoters returns the voters -voters names, or every member.
func firstVoters(members *membership.Membership, list string) (membership.Voters, error) {
	if list == "" {
		return members.Voters(), nil
	}
	var ids []stdtypes.NodeID
	for _, id := range strings.Split(list, ",") {
		id := stdtypes.NodeID(strings.TrimSpace(id))
		if _, ok := members.Node(id); !ok {
			return nil, fmt.Errorf("%w: -voters: node %q is not in the membership file", cli.ErrUsage, id)
		}
		ids = append(ids, id)
	}
	v := membership.EqualVoters(ids...)
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("%w: -voters: %w", cli.ErrUsage, err)
	}
	return v, nil
}

// segmentLength is the demo's ISS segment length, shorter than the
// default (16): a node's lines go to its own mempool only, and wait for an
// epoch in which it leads their bucket, so short epochs (about
// segmentLength times iss.Params.MaxProposeDelay when the chat is idle)
// make lines, joins and removals appear sooner.
const segmentLength = 4

// chatParams are the parameters of every node of the demo.
func chatParams(voters membership.Voters) trantor.Params {
	p := trantor.DefaultParams(voters)
	p.ISS.SegmentLength = segmentLength
	return p
}

// run runs one chat node until ctx ends; standard input ending does not
// stop it (it goes on printing the chat).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	id := stdtypes.NodeID(o.id)
	members, key, err := cli.LoadNode(o.membership, id, o.key)
	if err != nil {
		return err
	}
	voters, err := firstVoters(members, o.voters)
	if err != nil {
		return err
	}
	if o.data == "" {
		o.data = filepath.Join(filepath.Dir(o.membership), "chat-"+o.id)
	}
	// The client server's listener is made here, so that the node's own
	// client knows its address before the replica runs.
	l, err := net.Listen("tcp", o.clientAddr)
	if err != nil {
		return err
	}
	logger := cli.Logger(stderr, o.verbose)
	r, err := replica.New(replica.Config{
		ID: id, Members: members, Key: key, DataDir: o.data,
		ClientAddr: l.Addr().String(), ClientOptions: client.ServerOptions{Listener: l, MaxTxBytes: maxLineBytes},
		Params:    chatParams(voters),
		NewApp:    func() trantor.App { return newChat(members, voters, stdout) },
		RecordDir: o.record, MetricsAddr: o.metrics, Logger: logger,
	})
	if err != nil {
		l.Close()
		return err
	}
	fmt.Fprintf(stderr, "chat-demo: node %s (incarnation %d) running; type lines to chat\n", id, r.Incarnation())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	// The node submits its lines to itself through the client library,
	// as any client would (f = 0: its own reply is enough, it trusts
	// itself), under a client ID of its own for each start.
	c, err := client.Dial([]string{l.Addr().String()}, 0, client.Options{
		ClientID: clientID(id, r.Incarnation()), MaxTxBytes: maxLineBytes,
	})
	if err != nil {
		cancel()
		return errors.Join(err, <-done)
	}
	defer c.Close()
	go readLines(ctx, stdin, c, stderr)
	return <-done
}

// readLines submits each line of stdin, until it ends or ctx does.
func readLines(ctx context.Context, stdin io.Reader, c *client.Client, stderr io.Writer) {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case !isLine(line):
			fmt.Fprintf(stderr, "chat-demo: line not sent: at most %d bytes of printable text\n", maxLineBytes)
			continue
		}
		if _, err := c.SubmitAsync(ctx, []byte(line)); err != nil {
			return // The node stops.
		}
	}
}
