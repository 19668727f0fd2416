package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
)

func newMembershipCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "membership",
		Short: "Generate and check membership files",
	}
	cmd.AddCommand(newGenerateCmd(), newCheckCmd())
	return cmd
}

// membershipFile is the name of the membership in a generated directory.
const membershipFile = "membership.json"

func newGenerateCmd() *cobra.Command {
	var (
		n        int
		host     string
		basePort int
		dir      string
		addrs    []string
	)
	cmd := &cobra.Command{
		Use:   "generate -n N --dir DIR",
		Short: "Generate keys and a membership for N nodes on local ports",
		Long: `Generate a membership of N nodes with IDs 0 to N-1, node i listening on
HOST:BASE-PORT+i, and a new Ed25519 key for each. DIR receives
membership.json and node-<id>.key for each node; it is created if needed,
and nothing in it is overwritten. --addrs gives the nodes' addresses
instead (host:port each, comma-separated): names of containers or pods,
such as mir-0:7000,mir-1:7000,mir-2:7000,mir-3:7000.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m *membership.Membership
			var keys []crypto.PrivateKey
			var err error
			if fs := cmd.Flags(); fs.Changed("addrs") {
				if fs.Changed("nodes") || fs.Changed("host") || fs.Changed("base-port") {
					return errors.New("--addrs gives every address: no --nodes, --host or --base-port with it")
				}
				m, keys, err = membership.WithAddrs(addrs)
			} else {
				m, keys, err = membership.Local(n, host, basePort)
			}
			if err != nil {
				return err
			}
			return generate(cmd, dir, m, keys)
		},
	}
	cmd.Flags().IntVarP(&n, "nodes", "n", 4, "number of nodes")
	cmd.Flags().StringVar(&host, "host", "127.0.0.1", "host of every node's address")
	cmd.Flags().IntVar(&basePort, "base-port", 7000, "port of node 0; node i gets base-port+i")
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write the files to")
	cmd.Flags().StringSliceVar(&addrs, "addrs", nil, "the nodes' addresses, host:port each, comma-separated (instead of --nodes, --host and --base-port)")
	return cmd
}

// generate writes m and keys to dir, and lists them.
func generate(cmd *cobra.Command, dir string, m *membership.Membership, keys []crypto.PrivateKey) error {
	n := m.Len()
	keyFiles, err := writeDeployment(dir, m, keys)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "wrote %s and %d key files to %s\n", membershipFile, n, dir)
	for i, node := range m.Nodes() {
		fmt.Fprintf(w, "node %s  %s  %s\n", node.ID, node.Addr, filepath.Base(keyFiles[i]))
	}
	return nil
}

// writeDeployment writes m to dir/membership.json and each node's key
// (keys, in the order of m.Nodes) to its key file (membership.KeyFile)
// in dir, creating dir if needed; it overwrites nothing. It returns the
// key files' paths.
func writeDeployment(dir string, m *membership.Membership, keys []crypto.PrivateKey) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Check every file first, so that a failure leaves no half-written set.
	paths := []string{filepath.Join(dir, membershipFile)}
	for _, id := range m.IDs() {
		path, err := membership.KeyFile(dir, id) // Never fails: the IDs are numbers.
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return nil, fmt.Errorf("%s exists; not overwriting it", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	for i := range m.IDs() {
		if err := crypto.SavePrivateKey(paths[1+i], keys[i]); err != nil {
			return nil, err
		}
	}
	if err := m.Save(paths[0]); err != nil {
		return nil, err
	}
	return paths[1:], nil
}

func newCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a membership file and list its nodes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := membership.Load(args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d nodes\n", m.Len())
			for _, node := range m.Nodes() {
				fmt.Fprintf(w, "node %s  %s  %s\n", node.ID, node.Addr, node.PublicKey.Text())
			}
			return nil
		},
	}
}
