package tcp_test

import (
	"context"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// blob is the message of the benchmarks: Data bytes of payload.
type blob struct {
	stdtypes.MessageBase
	Data []byte
}

var _ = codec.Register[blob]("tcp_test.blob")

// BenchmarkTCPTransport64B sends messages of 64 bytes of payload one way
// between two transports over TLS on loopback, in batches of 64
// SendMessage events per ApplyEvents, as a busy node hands its transport.
// The sender keeps at most window messages unreceived, below the send
// queue's bound, so that nothing is dropped. One op is one message
// received.
func BenchmarkTCPTransport64B(b *testing.B) {
	benchOneWay(b, 64, 64, 2048)
}

// BenchmarkTCPTransport1MiB sends messages of 1 MiB of payload one way, one
// per ApplyEvents, with at most 8 unreceived. One op is one message.
func BenchmarkTCPTransport1MiB(b *testing.B) {
	benchOneWay(b, 1<<20, 1, 8)
}

func benchOneWay(b *testing.B, size, batch, window int) {
	_, ts := started(b, 2, tcp.Options{})
	connected(b, ts...)
	msg := &blob{Data: make([]byte, size)}
	list := stdtypes.EmptyList()
	for range batch {
		list.PushBack(stdevents.NewSendMessage("net", msg, stdevents.To("app", "1")))
	}
	var received atomic.Int64
	done := make(chan struct{})
	total := int64(b.N)
	go func() {
		defer close(done)
		for received.Load() < total {
			l := <-ts[1].EventsOut()
			received.Add(int64(l.Len()))
		}
	}()

	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	start := time.Now()
	ctx := context.Background()
	for sent := int64(0); sent < total; {
		for sent-received.Load() > int64(window) {
			time.Sleep(20 * time.Microsecond)
		}
		n := min(int64(batch), total-sent)
		l := list
		if n < int64(batch) {
			l = stdtypes.ListOf(list.Slice()[:n]...)
		}
		if err := ts[0].ApplyEvents(ctx, l); err != nil {
			b.Fatal(err)
		}
		sent += n
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("received %d of %d messages; metrics %+v", received.Load(), total, ts[0].Metrics())
	}
	elapsed := time.Since(start)
	cpu = cpuTime() - cpu
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	// CPU time of the process (both transports, the benchmark's loops, the
	// garbage collector) per message: what a message costs, whatever
	// else the machine runs.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if d := ts[0].Metrics().Peers["1"].DroppedOut; d > 0 {
		b.Fatalf("%d messages dropped", d)
	}
}

// BenchmarkTCPTransportRoundTrip bounces one small message at a time
// between two transports: node 0 sends, node 1 answers, node 0 waits for
// the answer before sending the next. One op is one round trip; p50 and
// p99 are percentiles of the round-trip times.
func BenchmarkTCPTransportRoundTrip(b *testing.B) {
	_, ts := started(b, 2, tcp.Options{})
	connected(b, ts...)
	ctx, cancel := context.WithCancel(context.Background())
	echoDone := make(chan struct{})
	go func() { // Node 1 echoes.
		defer close(echoDone)
		for {
			select {
			case l := <-ts[1].EventsOut():
				out := stdtypes.EmptyList()
				for _, ev := range l.Slice() {
					rcv := ev.(*stdevents.MessageReceived)
					out.PushBack(stdevents.NewSendMessage("net", rcv.Msg, stdevents.To("app", rcv.From)))
				}
				if err := ts[1].ApplyEvents(ctx, out); err != nil {
					panic(err)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() { cancel(); <-echoDone }()

	msg := &blob{Data: make([]byte, 64)}
	ping := stdtypes.ListOf(stdevents.NewSendMessage("net", msg, stdevents.To("app", "1")))
	rtts := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := ts[0].ApplyEvents(ctx, ping); err != nil {
			b.Fatal(err)
		}
		select {
		case <-ts[0].EventsOut():
		case <-time.After(waitTimeout):
			b.Fatal("no answer")
		}
		rtts = append(rtts, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
