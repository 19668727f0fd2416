package mircat

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
)

// positions returns, per command output of a debug session, the position
// and sequence number ("[3] #2") of the event it landed on, or the first
// line it printed if it landed on none.
func positions(out string) []string {
	var got []string
	eventLine := regexp.MustCompile(`^\[(\d+)\] \S+  (\S+)  #(\d+) `)
	// The prompt starts the output of each command.
	for _, chunk := range strings.Split(out, "(mircat) ")[1:] {
		first, _, _ := strings.Cut(chunk, "\n")
		if m := eventLine.FindStringSubmatch(first); m != nil {
			got = append(got, "["+m[1]+"] "+m[2]+"#"+m[3])
		} else {
			got = append(got, first)
		}
	}
	return got
}

func TestDebug(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, "0", pingBatches())
	raw := filepath.Join(dir, "raw.mirlog")
	writeRawLog(t, raw, false) // Node 7's events come after node 0's: recorded later.
	script := []struct{ cmd, want string }{
		{"next", "[2] 0#1"},
		{"", "[3] 0#2"}, // An empty line repeats next.
		{"n 2", "[5] 0#4"},
		{"module reporter", "[6] 0#5"},
		{"", "[8] 0#7"}, // ... and module.
		{"m reporter", "no event for module reporter after this one"},
		{"p", "node   0"}, // Still on [8].
		{"m iss", "[9] 0#8"},
		{"first", "[1] 0#0"},
		{"event SendMessage", "[5] 0#4"},
		{"e mir.Init", "[9] 0#8"},
		{"e Ping", "no event of type Ping after this one"},
		{"jump 3", "[4] 0#3"},
		{"j 1", "[2] 0#1"},
		{"j 0 7", "[10] 7#0"},
		{"e Unknown", "[11] 7#1"},
		{"print", "node   7"},
		{"j 2", "[12] 7#2"},
		{"j 99", "no event 99 of node 7 (and none after it)"},
		{"next 100", "end of the logs; the last event is:"},
		{"n", "end of the logs; the last event is:"},
		{"bogus", `unknown command "bogus"; type help for the commands`},
		{"n 0", "next 0: not a positive number"},
		{"j", "usage: jump SEQ [NODE]"},
		{"m", "usage: module NAME"},
		{"help", "commands:"},
		{"q", ""},
		{"next", "never run: after quit"},
	}
	var in strings.Builder
	for _, s := range script {
		in.WriteString(s.cmd + "\n")
	}
	r := mircat(t, in.String(), "debug", dir)
	r.wantCode(t, exitOK)
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "2 logs; type help for the commands\n[1] ") {
		t.Errorf("start:\n%s", r.stdout)
	}
	got := positions(r.stdout)
	if len(got) != len(script)-1 {
		t.Fatalf("%d command outputs for %d commands before quit:\n%s", len(got), len(script)-1, r.stdout)
	}
	for i, s := range script[:len(script)-1] {
		if got[i] != s.want {
			t.Errorf("command %d %q: got %q, want %q", i, s.cmd, got[i], s.want)
		}
	}
	// print shows the event in full, as indented JSON.
	for _, want := range []string{
		"seq    7\nbatch  4\n", "type   pingpong.PongReceived\ninput  false\n", "event  {\n  \"DestModule\": \"reporter\",",
		"type   mircattest.Unknown\ninput  true\nfile   " + raw + "\nnote   type not registered in this binary: decoded generically\n" +
			"event  {\n  \"DestModule\": \"b\",\n  \"Msg\": {\n    \"$tag\": " + strconv.FormatUint(codec.TagOf("mircattest.Msg"), 10) + ",\n    \"Seq\": 1\n  },\n  \"N\": 3,\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("print output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The end of the input ends the session as quit does.
	r = mircat(t, "n\n", "debug", dir)
	r.wantCode(t, exitOK)
	if got := positions(r.stdout); len(got) != 2 || got[0] != "[2] 0#1" || got[1] != "" {
		t.Errorf("session ended by EOF: %q", got)
	}
}

func TestDebugTruncatedLogWarnsOnce(t *testing.T) {
	full := bigLog(t, t.TempDir(), 3000)
	truncated := cut(t, full, 20000)
	// Reaching the end, going back (which reads the log again) and reaching
	// the end again warns once.
	r := mircat(t, "n 5000\nf\nn 5000\nj 10\n", "debug", truncated)
	r.wantCode(t, exitOK)
	if len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "warning: "+truncated) {
		t.Errorf("stderr: %q", r.stderr)
	}
	got := positions(r.stdout)
	if len(got) != 5 || got[0] != "end of the logs; the last event is:" || got[1] != "[1] 0#0" || got[3] != "[11] 0#10" {
		t.Errorf("positions: %q\n%s", got, r.stdout)
	}
}
