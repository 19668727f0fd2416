package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/metrics"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/stdtypes"
)

// QueueStats is what a user's module reports: a struct of numbers.
type QueueStats struct {
	// Enqueued counts events taken: unsigned, so a counter
	// (mir_metrics_test_enqueued_total).
	Enqueued uint64
	// Length is what waits now: signed, so a gauge.
	Length int
}

// queue is a user's passive module that keeps statistics.
type queue struct{ enqueued atomic.Uint64 }

func (q *queue) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	q.enqueued.Add(uint64(evs.Len()))
	return nil, nil
}

// ReportStats makes the module a modules.StatsReporter; it is called from
// the scrape's goroutine, hence the atomic.
func (q *queue) ReportStats() any { return QueueStats{Enqueued: q.enqueued.Load()} }

// A node's metrics, its modules' reports included, served over HTTP: here
// on a test server, in a program by Serve on an address of its own.
func ExampleNewCollector() {
	node, err := mir.NewNode("0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger),
		modules.Modules{"queue": &queue{}}, nil)
	if err != nil {
		panic(err)
	}
	reg, err := metrics.NewRegistry(metrics.NewCollector(node.ID, node))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(metrics.Handler(reg))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	// The node hands the module an Init event when it starts.
	for node.Stats().Modules["queue"].EventsIn == 0 {
		time.Sleep(time.Millisecond)
	}

	resp, err := http.Get(srv.URL + metrics.Path)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "mir_metrics_test_") || strings.HasPrefix(line, "mir_module_events_in_total") {
			fmt.Print(line)
		}
	}
	cancel()
	<-done
	// Output:
	// mir_metrics_test_enqueued_total{module="queue",node="0"} 1
	// mir_metrics_test_length{module="queue",node="0"} 0
	// mir_module_events_in_total{module="queue",node="0"} 1
}

// A Trantor client server, timed: its families, in the node's metrics.
// (A replica, pkg/trantor/replica, does this when it serves metrics.)
func ExampleNewClientServer() {
	server, err := client.NewServer("127.0.0.1:0", client.ServerOptions{Mempool: trantor.MempoolID})
	if err != nil {
		panic(err)
	}
	node, err := mir.NewNode("0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger),
		modules.Modules{trantor.ClientsID: metrics.NewClientServer(server)}, nil)
	if err != nil {
		panic(err)
	}
	reg, err := metrics.NewRegistry(metrics.NewCollector(node.ID, node))
	if err != nil {
		panic(err)
	}
	families, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "mir_client_server_") {
			fmt.Println(f.GetName(), f.GetType())
		}
	}
	// Output:
	// mir_client_server_bad_frames_total COUNTER
	// mir_client_server_cached_replies_total COUNTER
	// mir_client_server_connections_accepted_total COUNTER
	// mir_client_server_connections_refused_total COUNTER
	// mir_client_server_dropped_replies_total COUNTER
	// mir_client_server_latency_seconds HISTOGRAM
	// mir_client_server_replies_total COUNTER
	// mir_client_server_stray_messages_total COUNTER
	// mir_client_server_throttled_frames_total COUNTER
	// mir_client_server_timeouts_total COUNTER
	// mir_client_server_too_many_clients_total COUNTER
	// mir_client_server_transactions_total COUNTER
	// mir_client_server_untimed_transactions_total COUNTER
}
