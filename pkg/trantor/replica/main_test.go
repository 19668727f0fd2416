package replica_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/replica"
	"github.com/mirframework/mir/stdtypes"
	"go.uber.org/goleak"
)

// childEnv names the environment variable that makes the test binary a
// replica of TestRealKill9 instead of running tests: its value is the
// replica's arguments, see childMain.
const childEnv = "MIR_REPLICA_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := childMain(); err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// A replica that Run or Close stopped leaves no goroutine behind.
	goleak.VerifyTestMain(m)
}

// childMain runs one replica of a real deployment until SIGTERM: the
// node's ID, membership file, data directory and client address come in
// the environment. It prints "state N HEAD" after the application applied
// or restored a state of N transactions with hash chain HEAD (then with
// "restored" after it), so that the test sees every replica's state.
func childMain() error {
	env := func(k string) string { return os.Getenv(childEnv + "_" + k) }
	id := stdtypes.NodeID(env("ID"))
	members, key, err := cli.LoadNode(env("MEMBERSHIP"), id, "")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	r, err := replica.New(replica.Config{
		ID: id, Members: members, Key: key, DataDir: env("DATA"), ClientAddr: env("CLIENT"),
		Params: trantor.DefaultParams(members.Voters()), Logger: logging.NewStreamLogger(logging.LevelWarn, os.Stderr),
		NewApp: func() trantor.App {
			return &countApp{report: func(n uint64, head [32]byte, restored bool) {
				if restored {
					fmt.Printf("state %d %x restored\n", n, head)
				} else {
					fmt.Printf("state %d %x\n", n, head)
				}
			}}
		},
	})
	if err != nil {
		return err
	}
	fmt.Printf("incarnation %d\n", r.Incarnation())
	return r.Run(ctx)
}
