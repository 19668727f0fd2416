package mircat

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// tableRow matches a row of list's tables: name, count, share.
func tableRow(name string, count int) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +` + strconv.Itoa(count) + `  +[0-9.]+%`)
}

func TestList(t *testing.T) {
	r := mircat(t, "", "list", pingLog(t))
	r.wantCode(t, exitOK)
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "9 events, 1 nodes, 5 modules, 6 event types in 1 file\nfrom ") {
		t.Errorf("totals:\n%s", r.stdout)
	}
	for _, row := range []struct {
		name  string
		count int
	}{
		{"0", 9},
		{"pingpong", 3}, {"net", 2}, {"timer", 1}, {"reporter", 2}, {"iss", 1},
		{"mir.Init", 4}, {"pingpong.Tick", 1}, {"mir.SendMessage", 1}, {"pingpong.PingSent", 1},
		{"mir.MessageReceived", 1}, {"pingpong.PongReceived", 1},
	} {
		if !tableRow(row.name, row.count).MatchString(r.stdout) {
			t.Errorf("no row %s %d:\n%s", row.name, row.count, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "iss/pbft/3") || strings.Contains(r.stdout, "not registered") {
		t.Errorf("unexpected:\n%s", r.stdout)
	}

	r = mircat(t, "", "list", "--full-path", pingLog(t))
	r.wantCode(t, exitOK)
	if !tableRow("iss/pbft/3", 1).MatchString(r.stdout) {
		t.Errorf("--full-path: no iss/pbft/3:\n%s", r.stdout)
	}
}

func TestListMergesNodesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, "0", pingBatches())
	writeLog(t, dir, "1", pingBatches())
	// Another run of node 1 in the same directory: a second file.
	writeLog(t, dir, "1", pingBatches()[:1])
	r := mircat(t, "", "list", dir)
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "19 events, 2 nodes, 5 modules, 6 event types in 3 files\n") {
		t.Errorf("totals:\n%s", r.stdout)
	}
	if !tableRow("0", 9).MatchString(r.stdout) || !tableRow("1", 10).MatchString(r.stdout) {
		t.Errorf("node rows:\n%s", r.stdout)
	}
	// A directory and a file of another directory together.
	other := writeLog(t, t.TempDir(), "2", pingBatches())
	r = mircat(t, "", "list", dir, other)
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "28 events, 3 nodes,") {
		t.Errorf("totals:\n%s", r.stdout)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 3 {
		t.Errorf("files: %v", files)
	}
}

func TestListUnknownAndUnencodableTypes(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw.mirlog")
	writeRawLog(t, raw, false)
	writeLog(t, dir, "0", unencodableBatches())
	r := mircat(t, "", "list", dir)
	r.wantCode(t, exitOK)
	if !regexp.MustCompile(`(?m)^mircattest.Unknown +1 .*not registered in this binary`).MatchString(r.stdout) {
		t.Errorf("unknown type not marked:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`(?m)^mircat.unregistered +1 .*not encodable when recorded`).MatchString(r.stdout) {
		t.Errorf("unencodable type not marked:\n%s", r.stdout)
	}
}
