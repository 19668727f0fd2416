package mircat

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// commands are the commands that read logs, with the arguments before the
// log paths. Debug is given toEnd as its input.
var commands = [][]string{{"list"}, {"show"}, {"show", "--json"}, {"debug"}}

// toEnd makes debug read its logs to their end.
const toEnd = "next 1000000\n"

// bigLog writes a log of n events for node "0", one batch each.
func bigLog(t *testing.T, dir string, n int) string {
	t.Helper()
	var batches []batch
	for i := range n {
		batches = append(batches, batch{events: []stdtypes.Event{
			stdevents.NewTimerDelay("timer", 0, stdevents.NewInit(stdtypes.ModuleID("m"+string(rune('a'+i%26))))),
		}})
	}
	return writeLog(t, dir, "0", batches)
}

// cut writes the first n bytes of the file at src to a new file and
// returns its path.
func cut(t *testing.T, src string, n int) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if n < 0 {
		n += len(data)
	}
	dst := filepath.Join(t.TempDir(), "cut.mirlog")
	if err := os.WriteFile(dst, data[:n], 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestNothingReadable(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := pingLog(t)
	emptyDir := t.TempDir()
	write2 := func(d, name, content string) {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write2(emptyDir, "notes.txt", "not a log")
	for _, tc := range []struct {
		name, path, want string
	}{
		{"empty file", write("empty.mirlog", ""), "empty.mirlog: empty file: not a Mir event log"},
		{"text file", write("notes.txt", "hello, world\n"), "notes.txt: not a Mir event log"},
		{"short file", write("short", "MI"), "short: not a Mir event log"},
		{"missing file", filepath.Join(dir, "missing.mirlog"), "missing.mirlog: no such file or directory"},
		{"cut in its magic", cut(t, good, 5), "cut.mirlog: not a Mir event log"},
		{"cut in its header", cut(t, good, 12), "cut.mirlog: cannot read the log header"},
		{"directory without logs", emptyDir, "no event logs in this directory"},
		{"newer format", write("v4.mirlog", "MIRLOG\x00\x04rest"), "v4.mirlog: stream format version 4, this build reads 2 to 3"},
		{"SQLite without SQLite support", write("s.db", sqliteMagic+"rest"), "s.db:"},
	} {
		for _, cmd := range commands {
			r := mircat(t, toEnd, append(cmd, tc.path)...)
			if r.code != exitFailure {
				t.Errorf("%s, %q: exit %d, want %d\n%s", tc.name, cmd, r.code, exitFailure, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("%s, %q: output %q", tc.name, cmd, r.stdout)
			}
			if len(lines(r.stderr)) != 1 || !strings.HasPrefix(r.stderr, "mircat: ") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s, %q: stderr %q, want one line with %q", tc.name, cmd, r.stderr, tc.want)
			}
		}
	}
}

func TestSeveralUnreadable(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.mirlog"), filepath.Join(dir, "b.mirlog")
	if err := os.WriteFile(a, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mircat(t, "", "list", a, b)
	r.wantCode(t, exitFailure)
	want := "mircat: " + a + ": empty file: not a Mir event log\nmircat: " + b + ": no such file or directory\n"
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}

func TestTruncatedLog(t *testing.T) {
	dir := t.TempDir()
	full := bigLog(t, dir, 3000)
	info, err := os.Stat(full)
	if err != nil {
		t.Fatal(err)
	}
	truncated := cut(t, full, int(info.Size()/2))
	r := mircat(t, "", "list", truncated)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stderr, "mircat: warning: "+truncated+": ") {
		t.Errorf("no warning naming the file:\n%s", r.stderr)
	}
	var n int
	if _, err := fmt.Sscan(r.stdout, &n); err != nil || n == 0 || n >= 3000 {
		t.Errorf("read %d events of a log cut in half (%v):\n%s", n, err, r.stdout)
	}
	for _, cmd := range commands {
		r := mircat(t, toEnd, append(cmd, truncated)...)
		r.wantCode(t, exitOK)
		if len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "warning: "+truncated) {
			t.Errorf("%q: stderr %q", cmd, r.stderr)
		}
	}
	// Cut just before its end mark: every event is there, but the log says
	// its recorder was not closed.
	r = mircat(t, "", "list", cut(t, full, -3))
	r.wantCode(t, exitOK)
	if r.stderr == "" {
		t.Error("no warning for a log without its end")
	}
}

func TestPartlyReadable(t *testing.T) {
	good := pingLog(t)
	missing := filepath.Join(t.TempDir(), "gone.mirlog")
	for _, cmd := range commands {
		r := mircat(t, toEnd, append(cmd, good, missing)...)
		r.wantCode(t, exitPartial)
		if !strings.Contains(r.stderr, "gone.mirlog: no such file or directory") {
			t.Errorf("%q: stderr %q", cmd, r.stderr)
		}
		if cmd[0] != "debug" && cmd[0] != "list" && len(lines(r.stdout)) != 9 {
			t.Errorf("%q: the readable log was not shown:\n%s", cmd, r.stdout)
		}
	}
	// A directory with a damaged log among good ones.
	dir := t.TempDir()
	writeLog(t, dir, "0", pingBatches())
	if err := os.WriteFile(filepath.Join(dir, "1.000000.mirlog"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := mircat(t, "", "list", dir)
	r.wantCode(t, exitPartial)
	if !strings.HasPrefix(r.stdout, "9 events") || !strings.Contains(r.stderr, "1.000000.mirlog: empty file") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

func TestDamagedInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	damaged := filepath.Join(dir, "damaged.mirlog")
	writeRawLog(t, damaged, true)
	good := writeLog(t, dir, "0", pingBatches())
	for _, cmd := range commands {
		r := mircat(t, toEnd, append(cmd, damaged, good)...)
		r.wantCode(t, exitPartial)
		if !strings.Contains(r.stderr, "mircat: "+damaged+": unknown frame kind 'Z': corrupt event log (the events before the damage were read)\n") {
			t.Errorf("%q: stderr %q", cmd, r.stderr)
		}
		// The damaged log's first event and all of the good one.
		switch cmd[0] {
		case "list":
			if !strings.HasPrefix(r.stdout, "10 events, 2 nodes,") {
				t.Errorf("list:\n%s", r.stdout)
			}
		case "show":
			if n := len(lines(r.stdout)); n != 10 {
				t.Errorf("%q: %d lines:\n%s", cmd, n, r.stdout)
			}
		}
	}
}

func TestEmptyLog(t *testing.T) {
	// A log with no events (a node that recorded nothing) reads fine.
	log := writeLog(t, t.TempDir(), "0", nil)
	r := mircat(t, "", "list", log)
	r.wantCode(t, exitOK)
	if r.stdout != "0 events, 0 nodes, 0 modules, 0 event types in 1 file\n" {
		t.Errorf("list: %q", r.stdout)
	}
	r = mircat(t, "", "show", log)
	r.wantCode(t, exitOK)
	if r.stdout != "" || r.stderr != "" {
		t.Errorf("show: %q %q", r.stdout, r.stderr)
	}
	r = mircat(t, "n\nm x\nj 3\nf\np\n", "debug", log)
	r.wantCode(t, exitOK)
	if strings.Count(r.stdout, "the logs hold no events") != 3 || !strings.Contains(r.stdout, "no current event") {
		t.Errorf("debug:\n%s", r.stdout)
	}
}

func TestNoProgressOutsideTerminals(t *testing.T) {
	set, err := openLogs([]string{pingLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	// A buffer, as in tests, and a pipe, as in mircat list 2>&1 | less.
	for _, w := range []io.Writer{&strings.Builder{}, pw} {
		e := &env{stderr: w}
		if p := e.newProgress(set, true); p.bar != nil {
			t.Errorf("progress bar on %T", w)
		}
	}
}
