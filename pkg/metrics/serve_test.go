package metrics

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/stdtypes"
)

// Serve answers scrapes until its context ends, then returns nil and
// frees its address.
func TestServeShutsDownCleanly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	src := &fixedSource{s: mir.NodeStats{BufferedEvents: 3}}
	go func() { served <- ServeListener(ctx, l, NewCollector("7", src)) }()

	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	got := httpScrape(t, hc, "http://"+addr+Path)
	if v, ok := got[`mir_node_buffered_events{node="7"}`]; !ok || v != 3 {
		t.Errorf("mir_node_buffered_events = %v, %v; want 3", v, ok)
	}
	if _, ok := got["process_open_fds"]; !ok {
		t.Error("no process metrics")
	}
	resp, err := hc.Get("http://" + addr + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /other: %s, want 404", resp.Status)
	}

	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve after its context ended: %v", err)
	}
	// The address is free again: a second Serve on it works.
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { served <- Serve(ctx2, addr, NewCollector("7", src)) }()
	cancel2()
	if err := <-served; err != nil {
		t.Fatalf("Serve on the freed address: %v", err)
	}
}

// Serve reports an address it cannot listen on, and a collector that
// clashes with the runtime's, at once.
func TestServeErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := Serve(context.Background(), l.Addr().String()); err == nil {
		t.Error("Serve on an address in use: no error")
	}
	if _, err := NewRegistry(collectors.NewGoCollector()); err == nil {
		t.Error("NewRegistry with a second Go collector: no error")
	}
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ServeListener(context.Background(), l2, collectors.NewGoCollector()); err == nil {
		t.Error("ServeListener with a second Go collector: no error")
	}
	if _, err := net.Dial("tcp", l2.Addr().String()); err == nil {
		t.Error("ServeListener left its listener open after an error")
	}
}

// Handler serves a registry of several nodes' collectors on a server of
// the caller's.
func TestHandlerOfSeveralNodes(t *testing.T) {
	var cs []prometheus.Collector
	for _, id := range stdtypes.NumberedNodeIDs(3) {
		cs = append(cs, NewCollector(id, &fixedSource{s: mir.NodeStats{InputPauses: 2}}))
	}
	reg, err := NewRegistry(cs...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(reg))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	got := httpScrape(t, hc, srv.URL)
	for _, id := range stdtypes.NumberedNodeIDs(3) {
		if v := got[`mir_node_input_pauses_total{node="`+string(id)+`"}`]; v != 2 {
			t.Errorf("node %s: %v input pauses, want 2", id, v)
		}
	}
}
