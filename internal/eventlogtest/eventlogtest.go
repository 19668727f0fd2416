// Package eventlogtest helps tests read what a recorder wrote.
package eventlogtest

import (
	"io"
	"testing"

	"github.com/mirframework/mir/pkg/eventlog"
)

// ReadDir reads every record of the logs in dir, merged by time (as
// eventlog.Open reads them), copied, and fails t on an error or a warning
// (a log cut short: its recorder was not closed).
func ReadDir(t testing.TB, dir string) []*eventlog.Record {
	t.Helper()
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var recs []*eventlog.Record
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: after %d records: %v", dir, len(recs), err)
		}
		recs = append(recs, rec.Clone())
	}
	if w := src.Warnings(); len(w) != 0 {
		t.Fatalf("%s: %v", dir, w)
	}
	return recs
}
