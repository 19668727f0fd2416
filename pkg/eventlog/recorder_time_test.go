package eventlog_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/internal/eventlogtest"
	"github.com/mirframework/mir/pkg/eventlog"
)

// TestRecorderTakesTheDriversTime: batches handed over with their time
// (a simulation's) are recorded with that time, not the wall clock's; the
// others with the wall clock's.
func TestRecorderTakesTheDriversTime(t *testing.T) {
	dir := t.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "n1", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var icp eventlog.Interceptor = rec
	timed, ok := icp.(eventlog.TimedInterceptor)
	if !ok {
		t.Fatal("a Recorder is not a TimedInterceptor")
	}
	at := []time.Time{time.Unix(0, 0), time.Unix(0, 4_749_572), time.Unix(0, 4_749_572), time.Unix(2, 1)}
	for i, t0 := range at {
		if err := timed.InterceptInputsAt(t0, list(newHop("a", i)), []bool{true}); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now()
	if err := rec.Intercept(list(newHop("a", 9))); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	recs := eventlogtest.ReadDir(t, dir)
	if len(recs) != len(at)+1 {
		t.Fatalf("%d records, want %d", len(recs), len(at)+1)
	}
	for i, want := range at {
		if !recs[i].Time.Equal(want) || !recs[i].Input {
			t.Errorf("record %d at %v (input %v), want %v", i, recs[i].Time, recs[i].Input, want)
		}
	}
	// The wall clock's reading is taken within the call.
	if last := recs[len(at)].Time; last.Before(before.Add(-time.Millisecond)) || last.After(after.Add(time.Millisecond)) {
		t.Errorf("untimed batch recorded at %v, called between %v and %v", last, before, after)
	}
}
