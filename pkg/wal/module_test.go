package wal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// peerMsg is a message a peer sends the WAL module.
type peerMsg struct{ stdtypes.MessageBase }

// note is the event the tests persist and send.
type note struct {
	stdtypes.Header
	Tag string
}

var _ = codec.Register[note]("wal.testNote")

func newNote(dest stdtypes.ModuleID, tag string) *note {
	return &note{Header: stdtypes.NewHeader(dest), Tag: tag}
}

// noteTags returns the tags of the notes in evs.
func noteTags(evs []stdtypes.Event) []string {
	var tags []string
	for _, ev := range evs {
		if n, ok := ev.(*note); ok {
			tags = append(tags, n.Tag)
		}
	}
	return tags
}

// moduleOptions are the options of the module in tests: small segments on
// a MemFS.
func moduleOptions(m *MemFS) Options {
	return Options{SegmentBytes: 4 << 10, MaxRecordBytes: 1 << 10, FS: m}
}

// newModule makes a module on the test directory, failing the test on an
// error; the caller closes it.
func newModule(t testing.TB, opts Options) *Module {
	t.Helper()
	m, err := NewModule(testDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// apply hands the module a batch, as its node's worker would.
func apply(m *Module, evs ...stdtypes.Event) error {
	return m.ApplyEvents(context.Background(), stdtypes.ListOf(evs...))
}

// mustApply applies a batch and fails the test on an error.
func mustApply(t testing.TB, m *Module, evs ...stdtypes.Event) {
	t.Helper()
	if err := apply(m, evs...); err != nil {
		t.Fatal(err)
	}
}

// TestModuleRecovers: what was appended is handed back at the next start,
// in order, each event to its owner's destination, with its own
// follow-ups; the Appends' follow-ups are not persisted.
func TestModuleRecovers(t *testing.T) {
	opts := moduleOptions(NewMemFS())
	m := newModule(t, opts)
	if evs := m.Recovered(); len(evs) != 0 {
		t.Fatalf("a new log recovered %v", evs)
	}
	withNext := stdtypes.WithFollowUps(newNote("a", "a2"), newNote("b", "next of a2"))
	mustApply(t, m, stdevents.NewInit("wal"),
		stdtypes.WithFollowUps(NewAppend("wal", newNote("a", "a1"), 1), newNote("net", "send")),
		NewAppend("wal", newNote("b/sub", "b1"), 1))
	mustApply(t, m, NewAppend("wal", withNext, 2))
	mustClose(t, m)

	m = newModule(t, opts)
	defer mustClose(t, m)
	evs := m.Recovered()
	var got []string
	for _, ev := range evs {
		n := ev.(*note)
		got = append(got, fmt.Sprintf("%s:%s%v", n.Dest(), n.Tag, noteTags(n.FollowUps())))
	}
	want := []string{"a:a1[]", "b/sub:b1[]", "a:a2[next of a2]"}
	if !slices.Equal(got, want) {
		t.Errorf("recovered %v, want %v", got, want)
	}
	if m.Recovered() != nil {
		t.Error("Recovered gave the events twice")
	}
	if st := m.Stats(); st.Recovered != 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestModuleTruncate: a Truncate drops its owner's records below its
// retention index, from recovery at once and from the disk a whole
// segment at a time, never another owner's records, and never a segment
// that holds a record still needed.
func TestModuleTruncate(t *testing.T) {
	fs := NewMemFS()
	opts := moduleOptions(fs)
	m := newModule(t, opts)
	mustApply(t, m, stdevents.NewInit("wal"), NewAppend("wal", newNote("b", "b0"), 0))
	for ri := range stdtypes.RetentionIndex(10) {
		for k := range 30 {
			mustApply(t, m, NewAppend("wal", newNote("a", fmt.Sprintf("a%d.%d", ri, k)), ri))
		}
	}
	segments := m.Log().Stats().Segments
	if segments < 4 {
		t.Fatalf("%d segments; the test needs more", segments)
	}
	// b's record holds the first segment: nothing goes.
	mustApply(t, m, NewTruncate("wal", "a", 8))
	if n := m.Log().Stats().Segments; n != segments {
		t.Errorf("%d segments after a truncation that frees none, want %d", n, segments)
	}
	mustApply(t, m, NewTruncate("wal", "b", 1), NewTruncate("wal", "a", 7)) // a's 7 is below its 8
	left := m.Log().Stats().Segments
	if left >= segments {
		t.Errorf("%d segments of %d left after both truncations", left, segments)
	}
	if st := m.Stats(); st.Truncations != 2 || st.Appended != 301 || st.Log.Groups == 0 || st.Log.Segments != left {
		t.Errorf("stats %+v", st)
	}
	mustClose(t, m)

	m = newModule(t, opts)
	defer mustClose(t, m)
	got := noteTags(m.Recovered())
	var want []string
	for ri := 8; ri < 10; ri++ {
		for k := range 30 {
			want = append(want, fmt.Sprintf("a%d.%d", ri, k))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("recovered %v\nwant %v", got, want)
	}
	// The truncation survives: an Append below it is ignored.
	mustApply(t, m, stdevents.NewInit("wal"), NewAppend("wal", newNote("a", "late"), 7))
	if st := m.Stats(); st.Ignored != 1 || st.Appended != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestModuleRejects: what a local module must not send the WAL module is
// an error, and nothing of the batch is persisted after it.
func TestModuleRejects(t *testing.T) {
	tests := []struct {
		name string
		ev   stdtypes.Event
		want string
	}{
		{"no event", NewAppend("wal", nil, 0), "no event"},
		{"no destination", NewAppend("wal", newNote("", "x"), 0), "Append of wal.note"},
		{"to itself", NewAppend("wal", newNote("wal/x", "x"), 0), "WAL module itself"},
		{"owner a submodule", NewTruncate("wal", "a/b", 1), `owner "a/b" is not a module of the node`},
		{"owner empty", NewTruncate("wal", "", 1), "owner"},
		{"other event", newNote("wal", "x"), "unexpected event wal.note"},
		{"too large", NewAppend("wal", newNote("a", strings.Repeat("x", 2<<10)), 0), "record too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newModule(t, moduleOptions(NewMemFS()))
			defer mustClose(t, m)
			err := apply(m, stdevents.NewInit("wal"), tc.ev, NewAppend("wal", newNote("a", "after"), 0))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if n := m.Log().LastIndex(); n != 0 {
				t.Errorf("%d records appended", n)
			}
		})
	}
}

// TestModuleDropsMessages: a message from another node is dropped and
// counted, not an error.
func TestModuleDropsMessages(t *testing.T) {
	m := newModule(t, moduleOptions(NewMemFS()))
	defer mustClose(t, m)
	mustApply(t, m, stdevents.NewMessageReceived("wal", "peer", &peerMsg{}))
	if st := m.Stats(); st.DroppedMessages != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestModuleBadDirectories: a directory that is not a log, a file, or a
// log that does not decode as the module's records: a clear error, and
// nothing deleted.
func TestModuleBadDirectories(t *testing.T) {
	t.Run("a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(path, []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := NewModule(path, Options{}); err == nil {
			t.Fatal("a file opened as a log")
		}
		if data, err := os.ReadFile(path); err != nil || string(data) != "mine" {
			t.Fatalf("the file now holds %q, %v", data, err)
		}
	})
	t.Run("not a log", func(t *testing.T) {
		fs := NewMemFS()
		fs.setFile(testDir+"/notes.txt", []byte("mine"))
		_, err := NewModule(testDir, moduleOptions(fs))
		wantErr(t, err, ErrNotLog)
		if string(fs.file(testDir+"/notes.txt")) != "mine" {
			t.Fatal("the file changed")
		}
	})
	t.Run("records of another program", func(t *testing.T) {
		fs := NewMemFS()
		opts := moduleOptions(fs)
		writeRecords(t, opts, 1, 3)
		before := fs.clone()
		_, err := NewModule(testDir, opts)
		if err == nil || !strings.Contains(err.Error(), "record 1") {
			t.Fatalf("got %v, want an error naming record 1", err)
		}
		if !sameFiles(before, fs) {
			t.Error("the failed start changed the files")
		}
	})
}

// TestModuleFullDisk: a disk that fills stops the node with ENOSPC; what
// was durable stays, and the log opens again once there is room.
func TestModuleFullDisk(t *testing.T) {
	fs := NewMemFS()
	opts := moduleOptions(fs)
	m := newModule(t, opts)
	mustApply(t, m, stdevents.NewInit("wal"))
	fs.SetMaxBytes(3 * opts.SegmentBytes)
	var err error
	appended := 0
	for ; err == nil && appended < 1000; appended++ {
		err = apply(m, NewAppend("wal", newNote("a", fmt.Sprint(appended)), 0))
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("got %v after %d appends, want ENOSPC", err, appended)
	}
	if err := apply(m, NewAppend("wal", newNote("a", "more"), 0)); err == nil {
		t.Fatal("the failed log took another record")
	}
	_ = m.Close()
	fs.SetMaxBytes(0)
	m = newModule(t, opts)
	defer mustClose(t, m)
	if got := len(m.Recovered()); got != appended-1 {
		t.Errorf("recovered %d records, %d were durable", got, appended-1)
	}
}

// TestModuleFollowUpsAfterDurable: on a real node, the follow-ups of an
// Append reach their module only once the record is durable.
func TestModuleFollowUpsAfterDurable(t *testing.T) {
	fs := NewMemFS()
	got := make(chan struct{})
	var once sync.Once
	fs.setSyncHook(func(name string) error {
		if name != testDir {
			select {
			case <-got:
			case <-time.After(20 * time.Millisecond):
			}
		}
		return nil
	})
	wal := newModule(t, moduleOptions(fs))
	defer mustClose(t, wal)
	var mu sync.Mutex
	var seen []string
	sink := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if n, ok := ev.(*note); ok {
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s@%d", n.Tag, wal.Log().DurableIndex()))
			mu.Unlock()
			once.Do(func() { close(got) })
		}
		return nil, nil
	})
	node, err := mir.NewNode("0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger),
		modules.Modules{"wal": wal, "a": modules.NullPassive{}, "net": sink}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	var evs []stdtypes.Event
	for i := 1; i <= 3; i++ {
		evs = append(evs, stdtypes.WithFollowUps(NewAppend("wal", newNote("a", fmt.Sprint(i)), 0), newNote("net", fmt.Sprint("send ", i))))
	}
	if err := node.InjectEvents(ctx, stdtypes.ListOf(evs...)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"send 1@3", "send 2@3", "send 3@3"}; !slices.Equal(seen, want) {
		t.Errorf("the sink saw %v (tag@durable index), want %v", seen, want)
	}
}
