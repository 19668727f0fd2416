package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mirframework/mir/pkg/crypto"
)

func newKeygenCmd() *cobra.Command {
	var out, scheme string
	cmd := &cobra.Command{
		Use:   "keygen -o FILE",
		Short: "Generate a node's private key",
		Long: `Generate a new private key and write it to FILE (PEM PKCS #8, readable by
its owner only; an existing file is never overwritten). The public key, in
the form membership files use, goes to standard output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := crypto.ParseScheme(scheme)
			if err != nil {
				return err
			}
			key, err := crypto.GenerateKey(s)
			if err != nil {
				return err
			}
			if err := crypto.SavePrivateKey(out, key); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), key.Public().Text())
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write the private key to (required)")
	cmd.Flags().StringVar(&scheme, "scheme", crypto.DefaultScheme.String(), "signature scheme: ed25519 or ecdsa-p256")
	cmd.MarkFlagRequired("out")
	return cmd
}

func newPubkeyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pubkey FILE",
		Short: "Print the public key of a private key file",
		Long:  "Print the public key of the private key in FILE, in the form membership files use.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := crypto.LoadPrivateKey(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), key.Public().Text())
			return nil
		},
	}
}
