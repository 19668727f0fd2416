package client_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/trantor/client"
)

// stalledNode is a node that accepts one connection and reads nothing
// from it until released; then it reads the submissions and answers each
// honestly, as app does, and counts those whose payload is not all
// payloadByte.
type stalledNode struct {
	l        net.Listener
	accepted chan struct{}
	release  chan struct{}
	// changed counts the payloads received with a byte other than
	// payloadByte.
	changed atomic.Int64
}

const payloadByte = 'a'

func startStalledNode(t *testing.T) *stalledNode {
	t.Helper()
	// A small receive buffer, set before listening so that the window
	// starts small, makes the pool's writes block sooner.
	lc := net.ListenConfig{Control: smallReceiveBuffer}
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &stalledNode{l: l, accepted: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		close(n.accepted)
		select {
		case <-n.release:
		case <-t.Context().Done():
			return
		}
		n.serve(nc)
	}()
	return n
}

// smallReceiveBuffer sets a socket's receive buffer to 4 KiB; set before
// listening or connecting, the TCP window starts small, so that the
// peer's writes block soon.
func smallReceiveBuffer(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
	})
	return errors.Join(err, serr)
}

func (n *stalledNode) addr() string { return n.l.Addr().String() }

// serve answers nc's submissions until it fails.
func (n *stalledNode) serve(nc net.Conn) {
	br := bufio.NewReader(nc)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		// version | kind | uvarint(len(id)) | id | uvarint(txNo) | payload
		idLen, k := binary.Uvarint(body[2:])
		id := body[2+k : 2+k+int(idLen)]
		txNo, k2 := binary.Uvarint(body[2+k+int(idLen):])
		payload := body[2+k+int(idLen)+k2:]
		if len(bytes.Trim(payload, string(rune(payloadByte)))) > 0 {
			n.changed.Add(1)
		}
		if _, err := nc.Write(client.AppendReplyFrame(nil, string(id), txNo, result(payload, false))); err != nil {
			return
		}
	}
}

// stallLink submits payloads of c until the pool's writer to the stalled
// node must be blocked (more than the sockets buffer), each answered by
// the other nodes, and calls after(payload) once each Submit returned.
func stallLink(t *testing.T, c *client.Client, after func([]byte)) {
	t.Helper()
	const (
		payloadBytes = 60 << 10
		txs          = 140 // 8.4 MB, more than the send (4 MB) and receive buffers.
	)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for range txs {
		data := bytes.Repeat([]byte{payloadByte}, payloadBytes)
		if _, err := c.Submit(ctx, data); err != nil {
			t.Fatal(err)
		}
		after(data)
	}
}

// stalledPool starts two nodes and a stalled one, and a pool of the three
// with a client id, once connected to the stalled node. Its WriteTimeout
// keeps the stalled connection up.
func stalledPool(t *testing.T, id string) ([]*testNode, *stalledNode, *client.Pool, *client.Client) {
	t.Helper()
	nodes, addrs := startNodes(t, 2, 0)
	slow := startStalledNode(t)
	p, err := client.NewPool(append(addrs, slow.addr()), 1, client.PoolOptions{WriteTimeout: 1 << 62})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c := poolClient(t, p, id)
	<-slow.accepted
	return nodes, slow, p, c
}

// TestPoolPayloadChangedAfterSubmit: once Submit returned, the caller may
// change its payload; the pool never sends the changed bytes to a node
// that was slow to take the transaction.
func TestPoolPayloadChangedAfterSubmit(t *testing.T) {
	nodes, slow, _, c := stalledPool(t, "mutator")
	stallLink(t, c, func(data []byte) {
		for i := range data {
			data[i] = 'X'
		}
	})
	// The slow node is the second vote of the last transaction: once it
	// completes, the node has read everything the pool sent before.
	nodes[1].stop()
	close(slow.release)
	submit(t, c, string(bytes.Repeat([]byte{payloadByte}, 8)))
	if n := slow.changed.Load(); n > 0 {
		t.Fatalf("the slow node received %d payloads changed after Submit returned", n)
	}
}

// TestPoolCloseWithStalledNode: Close returns while a node takes nothing
// from the pool's connection, without waiting for WriteTimeout.
func TestPoolCloseWithStalledNode(t *testing.T) {
	_, _, p, c := stalledPool(t, "stuck")
	stallLink(t, c, func([]byte) {})
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-contextTimeout(t).Done():
		t.Fatal("Close blocked on a node that reads nothing")
	}
	if _, err := c.Submit(context.Background(), []byte("after")); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Submit after Close: %v, want ErrClosed", err)
	}
}

// contextTimeout returns a context that ends after waitTimeout.
func contextTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// TestPoolNodeRestartsMidRun: two pools made with the same options, whose
// clients submit one payload slice many times, keep going while a node
// stops and comes back on its address: every call completes once with its
// result; a client closed with calls in flight completes them with
// ErrClosed, closes again without error, and refuses new ones.
func TestPoolNodeRestartsMidRun(t *testing.T) {
	nodes, addrs := startNodes(t, 3, 0)
	opts := client.PoolOptions{ReconnectMin: time.Millisecond, ReconnectMax: 20 * time.Millisecond}
	var pools []*client.Pool
	for range 2 {
		p, err := client.NewPool(addrs, 1, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		pools = append(pools, p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	shared := []byte("same slice")
	copts := client.Options{ClientID: "reused"}
	var clients []*client.Client
	var calls [][]*client.Call
	submitAll := func() {
		for i, c := range clients {
			for range 10 {
				call, err := c.SubmitAsync(ctx, shared)
				if err != nil {
					t.Fatal(err)
				}
				calls[i] = append(calls[i], call)
			}
		}
	}
	for i, p := range pools {
		for j := range 3 {
			copts.ClientID = fmt.Sprint("reused-", i, "-", j)
			c, err := p.NewClient(copts)
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
			calls = append(calls, nil)
		}
	}
	submitAll()
	nodes[0].stop()
	submitAll()
	closed := clients[0]
	closed.Close()
	startNode(t, addrs[0], false, client.ServerOptions{})
	nodes[1].stop() // The restarted node's votes are needed now.
	open := clients[1:]
	for i, c := range open {
		for range 10 {
			call, err := c.SubmitAsync(ctx, shared)
			if err != nil {
				t.Fatal(err)
			}
			calls[i+1] = append(calls[i+1], call)
		}
	}
	for i, cs := range calls {
		for _, call := range cs {
			res, err := call.Wait(ctx)
			switch {
			case i == 0 && errors.Is(err, client.ErrClosed):
			case err != nil:
				t.Fatalf("client %d tx %d: %v", i, call.TxNo, err)
			case string(res) != "ok:same slice":
				t.Fatalf("client %d tx %d: result %q", i, call.TxNo, res)
			}
		}
	}
	if err := closed.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := closed.Submit(ctx, shared); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("Submit after Close: %v, want ErrClosed", err)
	}
}
