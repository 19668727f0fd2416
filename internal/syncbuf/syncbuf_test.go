package syncbuf_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mirframework/mir/internal/syncbuf"
)

// TestConcurrentWrites: writes from several goroutines, read while they
// run, all end up whole in the buffer (run with -race).
func TestConcurrentWrites(t *testing.T) {
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				fmt.Fprintf(&b, "g%d-%d\n", g, i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if lines := strings.Count(b.String(), "\n"); lines != 400 {
		t.Fatalf("%d lines, want 400", lines)
	}
}
