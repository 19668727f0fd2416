package metrics

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/iss/issnode"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// waitTimeout bounds every wait: long enough for a loaded machine, short
// enough to fail rather than hang.
const waitTimeout = 30 * time.Second

// countApp is a Trantor application that counts the transactions it
// applied; its state is the count.
type countApp struct{ n uint64 }

func (a *countApp) Apply(txs []mempool.Tx) ([][]byte, error) {
	res := make([][]byte, len(txs))
	for i := range txs {
		a.n++
		res[i] = binary.BigEndian.AppendUint64(nil, a.n)
	}
	return res, nil
}

func (a *countApp) Snapshot() ([]byte, membership.Voters, error) {
	return binary.BigEndian.AppendUint64(nil, a.n), nil, nil
}

func (a *countApp) Restore(state []byte) error {
	if len(state) != 8 {
		return fmt.Errorf("countApp: state of %d bytes", len(state))
	}
	a.n = binary.BigEndian.Uint64(state)
	return nil
}

// replica is one node of the test cluster with its metrics endpoint.
type replica struct {
	node      *mir.Node
	transport *tcp.Transport
	wal       *wal.Module
	server    *client.Server
	metrics   string // the URL of its metrics
	ran       chan error
	served    chan error
}

// startCluster runs n Trantor nodes over TCP on 127.0.0.1, each with a WAL,
// a client server (timed by a ClientServer) and a metrics endpoint, until
// the test ends.
func startCluster(t *testing.T, n int) []*replica {
	t.Helper()
	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	var peerLs []net.Listener
	var addrs []string
	for range n {
		l := listen()
		peerLs = append(peerLs, l)
		addrs = append(addrs, l.Addr().String())
	}
	members, keys, err := membership.WithAddrs(addrs)
	if err != nil {
		t.Fatal(err)
	}
	pubs := make(map[stdtypes.NodeID]crypto.PublicKey)
	for _, m := range members.Nodes() {
		pubs[m.ID] = m.PublicKey
	}
	params := trantor.DefaultParams(members.Voters())
	ctx, cancel := context.WithCancel(context.Background())
	var reps []*replica
	t.Cleanup(func() {
		cancel()
		for _, r := range reps {
			r.stop(t)
		}
	})
	for i, id := range members.IDs() {
		r := &replica{ran: make(chan error, 1), served: make(chan error, 1)}
		mods, err := trantor.New(id, params, trantor.Deps{
			Transport: "net", Timer: "timer", WAL: "wal", Crypto: "crypto", App: &countApp{}, Incarnation: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		nc, err := crypto.New(keys[i], pubs)
		if err != nil {
			t.Fatal(err)
		}
		if mods["crypto"], err = crypto.NewModule(nc); err != nil {
			t.Fatal(err)
		}
		if r.wal, err = wal.NewModule(filepath.Join(t.TempDir(), string(id)), wal.Options{}); err != nil {
			t.Fatal(err)
		}
		mods["wal"] = r.wal
		mods["timer"] = stdmodules.NewTimer("timer", logging.NilLogger)
		if r.transport, err = tcp.New(id, members, keys[i], tcp.Options{Listener: peerLs[i]}); err != nil {
			t.Fatal(err)
		}
		mods["net"] = r.transport
		if r.server, err = client.NewServer("", client.ServerOptions{Listener: listen(), Mempool: trantor.MempoolID}); err != nil {
			t.Fatal(err)
		}
		mods[trantor.ClientsID] = NewClientServer(r.server)
		if r.node, err = mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(logging.NilLogger), mods, nil); err != nil {
			t.Fatal(err)
		}
		reps = append(reps, r)

		if err := r.transport.Start(); err != nil {
			t.Fatal(err)
		}
		if err := r.server.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.ran <- r.node.Run(ctx) }()
		ml := listen()
		r.metrics = "http://" + ml.Addr().String() + Path
		go func() { r.served <- ServeListener(ctx, ml, NewCollector(r.node.ID, r.node)) }()
	}
	return reps
}

// stop waits for the node and the metrics server (whose context the
// cluster cancelled) and stops the rest.
func (r *replica) stop(t *testing.T) {
	if err := <-r.ran; err != nil && !errors.Is(err, mir.ErrStopped) && !errors.Is(err, context.Canceled) {
		t.Errorf("node %s: %v", r.node.ID, err)
	}
	if err := <-r.served; err != nil {
		t.Errorf("metrics of node %s: %v", r.node.ID, err)
	}
	r.transport.Stop()
	r.server.Stop()
	if err := r.wal.Close(); err != nil {
		t.Errorf("WAL of node %s: %v", r.node.ID, err)
	}
}

// executed returns the number of transactions r executed.
func executed(r *replica) uint64 {
	return r.node.Stats().Reports[trantor.BatchFetcherID].(batchfetcher.Stats).Executed
}

// httpScrape fetches url and parses the text format.
func httpScrape(t *testing.T, hc *http.Client, url string) map[string]float64 {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return samples(slices.Collect(maps.Values(families)))
}

// A scrape of a running node has the families of every part of it, and
// its counters move while it works.
func TestScrapeRunningCluster(t *testing.T) {
	reps := startCluster(t, 4)
	hc := &http.Client{Transport: &http.Transport{}, Timeout: waitTimeout}
	defer hc.CloseIdleConnections()

	var addrs []string
	for _, r := range reps {
		addrs = append(addrs, r.server.Addr().String())
	}
	cl, err := client.Dial(addrs, 1, client.Options{ClientID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var txNo uint64
	// submit has the client submit k more transactions, waits for their
	// results, and waits until node 0 has executed them.
	submit := func(k int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		var calls []*client.Call
		for range k {
			call, err := cl.SubmitAsync(ctx, fmt.Appendf(nil, "tx %d", txNo))
			if err != nil {
				t.Fatal(err)
			}
			calls = append(calls, call)
			txNo++
		}
		for _, call := range calls {
			select {
			case <-call.Done():
			case <-ctx.Done():
				t.Fatalf("no result within %v", waitTimeout)
			}
			if _, err := call.Result(); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(waitTimeout)
		for executed(reps[0]) < txNo {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d transactions executed after %v", executed(reps[0]), txNo, waitTimeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	submit(5)
	first := httpScrape(t, hc, reps[0].metrics)
	submit(5)
	second := httpScrape(t, hc, reps[0].metrics)

	node := `node="0"`
	mod := func(name string, module stdtypes.ModuleID) string {
		return fmt.Sprintf(`%s{module=%q,%s}`, name, module, node)
	}
	peer := func(name, p string) string { return fmt.Sprintf(`%s{module="net",%s,peer=%q}`, name, node, p) }
	// Families of every part, present in both scrapes.
	present := []string{
		`mir_node_buffered_events{` + node + `}`,
		`mir_node_input_pauses_total{` + node + `}`,
		mod("mir_iss_epoch", issnode.ISSID),
		mod("mir_iss_aborted_total", issnode.ISSID),
		mod("mir_pbft_view_changes_total", issnode.OrderingID),
		mod("mir_checkpoint_stable_total", issnode.CheckpointID),
		mod("mir_wal_log_groups_total", "wal"),
		`mir_wal_commit_seconds_count{module="wal",` + node + `}`,
		mod("mir_mempool_held_txs", trantor.MempoolID),
		mod("mir_availability_certificates_total", trantor.AvailabilityID),
		mod("mir_reliablenet_pending", issnode.RNetID),
		peer("mir_transport_sent_bytes_total", "1"),
		peer("mir_transport_reconnects_total", "3"),
		peer("mir_transport_queue_messages", "2"),
		mod("mir_client_server_connections_refused_total", trantor.ClientsID),
		mod("mir_client_server_bad_frames_total", trantor.ClientsID),
		`mir_client_server_untimed_transactions_total{module="clients",` + node + `,reason="full"}`,
		`mir_transport_messages_dropped_total{direction="out",module="net",` + node + `,peer="1"}`,
		`go_goroutines`,
	}
	for _, name := range present {
		if _, ok := first[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	// The epoch's leaders: at least one (the leader policy may leave out
	// nodes whose segments failed), each a member.
	leaders := 0
	for name, v := range first {
		if strings.HasPrefix(name, "mir_iss_leader{") {
			if v != 1 || !regexp.MustCompile(`leader="[0-3]"`).MatchString(name) {
				t.Errorf("%s = %v", name, v)
			}
			leaders++
		}
	}
	if leaders == 0 {
		t.Error("no mir_iss_leader")
	}
	// Counters that must have moved while the cluster executed five
	// more transactions.
	moved := []string{
		mod("mir_batchfetcher_executed_total", trantor.BatchFetcherID),
		mod("mir_module_events_in_total", issnode.ISSID),
		mod("mir_module_busy_seconds_total", trantor.MempoolID),
		mod("mir_iss_delivered_total", issnode.ISSID),
		mod("mir_pbft_delivered_total", issnode.OrderingID),
		mod("mir_wal_appended_total", "wal"),
		`mir_wal_commit_seconds_count{module="wal",` + node + `}`,
		peer("mir_transport_messages_sent_total", "1"),
		peer("mir_transport_received_bytes_total", "2"),
		mod("mir_client_server_transactions_total", trantor.ClientsID),
		mod("mir_client_server_replies_total", trantor.ClientsID),
		mod("mir_client_server_latency_seconds_count", trantor.ClientsID),
		mod("mir_client_server_latency_seconds_sum", trantor.ClientsID),
	}
	for _, name := range moved {
		if a, b := first[name], second[name]; !(b > a) {
			t.Errorf("%s did not move: %v then %v", name, a, b)
		}
	}
	if got := second[mod("mir_batchfetcher_executed_total", trantor.BatchFetcherID)]; got < 10 {
		t.Errorf("%v transactions executed, want at least 10", got)
	}
	for name, v := range second {
		if strings.HasSuffix(strings.SplitN(name, "{", 2)[0], "_total") && v < first[name] {
			t.Errorf("counter %s went down: %v then %v", name, first[name], v)
		}
	}
	for id := range reps[0].node.Stats().Modules {
		if _, ok := second[mod("mir_module_events_in_total", id)]; !ok {
			t.Errorf("no events of module %s", id)
		}
	}
}
