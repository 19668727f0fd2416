package clientwindow

import "testing"

// TestExecute: executions out of order raise the watermark once the gap
// below them fills; Executed and InWindow follow.
func TestExecute(t *testing.T) {
	cs := Clients{}
	if cs.Executed("c", 0) || !cs.InWindow("c", 3, 4) || cs.InWindow("c", 4, 4) {
		t.Fatal("a new client")
	}
	cs.Execute("c", 2)
	cs.Execute("c", 1)
	if c := cs["c"]; c.Low != 0 || len(c.Above) != 2 || !cs.Executed("c", 2) || cs.Executed("c", 0) {
		t.Fatalf("after 2 and 1: %+v", c)
	}
	cs.Execute("c", 0)
	if c := cs["c"]; c.Low != 3 || len(c.Above) != 0 || !cs.Executed("c", 0) || cs.Executed("c", 3) {
		t.Fatalf("after 0: %+v", c)
	}
	if !cs.InWindow("c", 6, 4) || cs.InWindow("c", 7, 4) || !cs.InWindow("c", 1, 4) {
		t.Error("window above watermark 3")
	}
}
