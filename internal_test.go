package mir

import (
	"testing"
	"time"
)

func TestStopwatch(t *testing.T) {
	var sw Stopwatch
	if sw.Read() != 0 || sw.Stop() != 0 {
		t.Fatal("zero stopwatch is not at zero")
	}
	sw.Start()
	time.Sleep(2 * time.Millisecond)
	first := sw.Stop()
	if first < 2*time.Millisecond || sw.Read() != first {
		t.Fatalf("first lap %v, read %v", first, sw.Read())
	}
	sw.Start()
	sw.Start() // no effect while running
	time.Sleep(time.Millisecond)
	if sw.Read() <= first {
		t.Error("Read of a running stopwatch does not include the current lap")
	}
	second := sw.Stop()
	if got := sw.Read(); got != first+second {
		t.Errorf("total %v, want %v", got, first+second)
	}
	sw.Reset()
	if sw.Read() != 0 {
		t.Error("Reset does not zero")
	}
}
