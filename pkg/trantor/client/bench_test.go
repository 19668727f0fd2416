package client_test

import (
	"context"
	"testing"

	"github.com/mirframework/mir/pkg/trantor/client"
)

// BenchmarkSubmit measures transactions of 512 bytes through four nodes
// (real TCP on 127.0.0.1, a mir.Node each with the server and the test
// application) and one client, sequential (one outstanding) and pipelined
// (MaxOutstanding outstanding).
func BenchmarkSubmit(b *testing.B) {
	for _, outstanding := range []int{1, 256} {
		b.Run(map[int]string{1: "sequential", 256: "pipelined"}[outstanding], func(b *testing.B) {
			var addrs []string
			for range 4 {
				addrs = append(addrs, startNode(b, "", false, client.ServerOptions{FramesPerSecond: 1 << 30}).addr())
			}
			c, err := client.Dial(addrs, 1, client.Options{ClientID: "bench", MaxOutstanding: outstanding})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			data := make([]byte, 512)
			calls := make(chan *client.Call, outstanding)
			done := make(chan error, 1)
			go func() {
				for call := range calls {
					if _, err := call.Wait(ctx); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for range b.N {
				call, err := c.SubmitAsync(ctx, data)
				if err != nil {
					b.Fatal(err)
				}
				calls <- call
			}
			close(calls)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
