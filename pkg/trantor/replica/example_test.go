package replica_test

import (
	"context"
	"log"
	"os/signal"
	"syscall"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/replica"
)

// A replica's main: node 0 of the membership in membership.json (its key
// in node-0.key next to it), its state in data/0, clients on port 7000,
// until SIGTERM or SIGINT.
func Example() {
	members, err := membership.Load("membership.json")
	if err != nil {
		log.Fatal(err)
	}
	keyFile, err := membership.KeyFile(".", "0")
	if err != nil {
		log.Fatal(err)
	}
	key, err := crypto.LoadPrivateKey(keyFile)
	if err != nil {
		log.Fatal(err)
	}
	r, err := replica.New(replica.Config{
		ID: "0", Members: members, Key: key, DataDir: "data/0", ClientAddr: "127.0.0.1:7000",
		Params: trantor.DefaultParams(members.Voters()),
		NewApp: func() trantor.App { return &countApp{} },
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := r.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
