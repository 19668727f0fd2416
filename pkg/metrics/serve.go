package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where Serve answers scrapes, Prometheus's default.
const Path = "/metrics"

// Limits of the HTTP server Serve runs, so that a slow or stuck client
// holds no goroutine or connection for long: a scrape is one small
// request whose answer is built in milliseconds.
const (
	readHeaderTimeout = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	// shutdownTimeout bounds how long Serve waits, once its context
	// ends, for scrapes in progress before it closes their connections.
	shutdownTimeout = 5 * time.Second
	// maxConcurrentScrapes bounds the scrapes answered at once; more get
	// 503, so that a flood of scrapers cannot load the node.
	maxConcurrentScrapes = 4
)

// NewRegistry returns a registry with cs (typically a node's Collector)
// and the Go runtime and process collectors (go_*, process_*) that
// operators expect next to a program's own metrics. It fails if one of cs
// describes families another has (a second Go collector). Collectors are
// unchecked (they describe nothing), so the registry cannot tell two of
// one node apart: give each node's its own node ID.
func NewRegistry(cs ...prometheus.Collector) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	all := append([]prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}, cs...)
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return reg, nil
}

// Handler returns the HTTP handler that answers scrapes of g in the
// Prometheus text or protobuf format, for a program that mounts it on a
// server of its own (at Path, by convention).
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		// A collector that fails (a report whose families clash) costs
		// its families, not the whole scrape.
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxConcurrentScrapes,
	})
}

// Serve answers scrapes of cs (and of the Go runtime and the process) at
// Path on addr ("127.0.0.1:9100", ":9100") until ctx ends, then shuts the
// server down, waiting up to a few seconds for scrapes in progress. It
// returns nil after a clean shutdown, and an error if it cannot listen on
// addr or the server fails. A runner calls it once per node, on a
// goroutine of its own:
//
//	go func() { errc <- metrics.Serve(ctx, addr, metrics.NewCollector(node.ID, node)) }()
func Serve(ctx context.Context, addr string, cs ...prometheus.Collector) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return ServeListener(ctx, l, cs...)
}

// ServeListener is Serve on a listener of the caller's, which it closes:
// the caller learns the address before the first scrape (a port chosen by
// the system, ":0"), and a listen error before it starts a goroutine.
func ServeListener(ctx context.Context, l net.Listener, cs ...prometheus.Collector) error {
	reg, err := NewRegistry(cs...)
	if err != nil {
		l.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(Path, Handler(reg))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		return fmt.Errorf("metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
