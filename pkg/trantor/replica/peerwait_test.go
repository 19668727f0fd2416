package replica_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/syncbuf"
	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/replica"
)

// deployment is a deployment of four replicas, none started: their
// membership, keys and data directories.
type deployment struct {
	t       *testing.T
	dir     string
	members *membership.Membership
}

func newDeployment(t *testing.T) *deployment {
	dir := t.TempDir()
	members, err := membership.Load(testnet.Deployment(t, dir, 4))
	if err != nil {
		t.Fatal(err)
	}
	return &deployment{t: t, dir: dir, members: members}
}

// start runs replica i with the PeerWait and logger given, until the test
// ends.
func (g *deployment) start(i int, peerWait time.Duration, logger *logging.Logger) *replica.Replica {
	t := g.t
	r := g.replica(i, peerWait, logger)
	id := g.members.IDs()[i]
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("replica %s: %v", id, err)
		}
	})
	return r
}

// replica makes replica i with the PeerWait and logger given.
func (g *deployment) replica(i int, peerWait time.Duration, logger *logging.Logger) *replica.Replica {
	cfg := g.config(i)
	cfg.PeerWait, cfg.Logger = peerWait, logger
	r, err := replica.New(cfg)
	if err != nil {
		g.t.Fatal(err)
	}
	return r
}

// config returns a complete configuration of replica i, with its own data
// directory and a client port the system picks.
func (g *deployment) config(i int) replica.Config {
	key, err := crypto.LoadPrivateKey(testnet.KeyFile(g.dir, i))
	if err != nil {
		g.t.Fatal(err)
	}
	id := g.members.IDs()[i]
	return replica.Config{
		ID: id, Members: g.members, Key: key, DataDir: filepath.Join(g.dir, "data", string(id)),
		ClientAddr: "127.0.0.1:0", Params: trantor.DefaultParams(g.members.Voters()),
		NewApp: func() trantor.App { return &countApp{} },
	}
}

// awaitStarted fails the test unless r starts its node within a bound far
// above what starting takes.
func awaitStarted(t *testing.T, r *replica.Replica, what string) {
	t.Helper()
	select {
	case <-r.Started():
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: the node did not start", what)
	}
}

// TestStartWaitsForPeers: a replica whose peers are not up does not start
// its node; it starts once they are (their own replicas, with the default
// PeerWait, start too).
func TestStartWaitsForPeers(t *testing.T) {
	g := newDeployment(t)
	first := g.start(0, time.Hour, nil)
	// Long enough for a replica that did not wait to have started: the
	// check cannot fail on a slow machine, only miss a bug on one.
	time.Sleep(200 * time.Millisecond)
	select {
	case <-first.Started():
		t.Fatal("replica 0 started its node with no peer up")
	default:
	}
	var rest []*replica.Replica
	for i := 1; i < 4; i++ {
		rest = append(rest, g.start(i, 0, nil))
	}
	awaitStarted(t, first, "replica 0, once its peers are up")
	for i, r := range rest {
		awaitStarted(t, r, "replica "+g.members.IDs()[i+1].String())
	}
}

// TestStartWithoutPeersAfterPeerWait: a replica whose peers stay down
// starts its node once PeerWait has passed, and says which peers it did
// not wait for; with a negative PeerWait it starts at once.
func TestStartWithoutPeersAfterPeerWait(t *testing.T) {
	g := newDeployment(t)
	var log syncbuf.Buffer
	r := g.start(0, 50*time.Millisecond, logging.NewStreamLogger(logging.LevelWarn, &log))
	awaitStarted(t, r, "replica 0 after its PeerWait")
	if s := log.String(); !strings.Contains(s, "starting without every voter connected") ||
		!strings.Contains(s, "1 2 3") {
		t.Errorf("log %q does not name the missing peers 1, 2 and 3", s)
	}
	awaitStarted(t, g.start(1, -1, nil), "replica 1 with a negative PeerWait")
}
