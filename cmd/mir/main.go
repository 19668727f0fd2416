// Command mir is the Mir framework's command-line tool. It runs a local
// cluster to watch, runs a replica, and generates what a deployment needs:
// node keys and membership files.
//
//	mir cluster                                   # 4 replicas under load, in a live view
//	mir replica --membership m.json --id 0        # one replica of the key-value store
//	mir keygen -o node.key                        # a private key; prints the public key
//	mir pubkey node.key                           # the public key of a private key file
//	mir membership generate -n 4 --dir deploy     # keys and a membership for 4 local nodes
//	mir membership check deploy/membership.json   # validate and list a membership
//
// Keys are PEM PKCS #8 files written by package crypto; memberships are the
// JSON files of package membership, which package net/tcp reads.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	// SIGINT and SIGTERM end the context: replica and cluster stop
	// cleanly on them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		// Cobra has printed the error.
		os.Exit(1)
	}
}

// newRootCmd returns the command tree. Tests run it with their own
// arguments and output.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "mir",
		Short:         "Tools for the Mir framework: a local cluster, replicas, keys and memberships",
		SilenceUsage:  true, // Print usage for usage errors only, not for failures.
		SilenceErrors: false,
	}
	root.AddCommand(newKeygenCmd(), newPubkeyCmd(), newMembershipCmd(), newReplicaCmd(), newClusterCmd())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\n\n%s", err, c.UsageString())
	})
	return root
}
