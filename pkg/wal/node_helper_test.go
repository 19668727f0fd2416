package wal

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// countModule is the passive module of helperNode: it persists each count
// and has it printed once durable, in rounds of countBurst, each round
// when the printer asks ("go"); the count the WAL hands back at the start
// it reports first.
type countModule struct {
	count   int
	started bool
}

// countBurst is how many counts a round persists: a group of records.
const countBurst = 4

func (c *countModule) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		n, ok := ev.(*note)
		switch {
		case !ok:
		case n.Tag == "go" && !c.started:
			c.started = true
			out.PushBack(newNote("print", fmt.Sprint("recovered ", c.count)))
			fallthrough
		case n.Tag == "go":
			for range countBurst {
				c.count++
				ri := stdtypes.RetentionIndex(c.count)
				out.PushBack(stdtypes.WithFollowUps(NewAppend("wal", newNote("count", strconv.Itoa(c.count)), ri),
					newNote("print", fmt.Sprint("durable ", c.count))))
				out.PushBack(NewTruncate("wal", "count", ri))
			}
			out.PushBack(newNote("print", "next"))
		default: // A count handed back by the WAL module.
			v, err := strconv.Atoi(n.Tag)
			if err != nil {
				return nil, err
			}
			c.count = max(c.count, v)
		}
	}
	return out, nil
}

// printer is the active module of helperNode: it prints what the counter
// sends it, and asks for the next round.
type printer struct{ out chan *stdtypes.EventList }

func (p *printer) ApplyEvents(ctx context.Context, evs *stdtypes.EventList) error {
	for _, ev := range evs.Slice() {
		var tag string
		switch ev := ev.(type) {
		case *stdevents.Init:
			tag = "next"
		case *note:
			tag = ev.Tag
		}
		if tag != "next" {
			fmt.Println(tag)
			continue
		}
		select {
		case p.out <- stdtypes.ListOf(newNote("count", "go")):
		case <-ctx.Done():
		}
	}
	return nil
}

func (p *printer) EventsOut() <-chan *stdtypes.EventList { return p.out }

// helperNode runs, until killed, a node with a WAL module on dir and a
// counter that prints "recovered N" (the count the WAL handed back), then
// "durable N" for every count once its record is durable.
func helperNode(dir string) int {
	m, err := NewModule(dir, helperOptions)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	node, err := mir.NewNode("0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger), modules.Modules{
		"wal": m, "count": &countModule{}, "print": &printer{out: make(chan *stdtypes.EventList, 1)},
	}, nil)
	if err == nil {
		err = node.Run(context.Background())
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// TestKill9Node kills a node (SIGKILL) at random moments, several times
// over one WAL directory, and checks after each restart that the count
// its WAL hands back is at least the highest the node reported durable,
// and that it counts on from there: the whole node, on a real disk.
func TestKill9Node(t *testing.T) {
	rng := killTest(t)
	dir := t.TempDir()
	durable := 0 // the highest count reported durable
	for round := range 5 {
		cmd, out, stdin := startHelper(t, "node", dir)
		if !out.Scan() {
			t.Fatalf("round %d: the node said nothing: %v", round, out.Err())
		}
		recovered, ok := strings.CutPrefix(out.Text(), "recovered ")
		n, err := strconv.Atoi(recovered)
		if !ok || err != nil || n < durable {
			t.Fatalf("round %d: the node said %q; %d counts were durable", round, out.Text(), durable)
		}
		next := n + 1
		for range 20 + rng.IntN(300) {
			if !out.Scan() {
				t.Fatalf("round %d: the node stopped: %v", round, out.Err())
			}
			if out.Text() != fmt.Sprint("durable ", next) {
				t.Fatalf("round %d: the node said %q, want durable %d", round, out.Text(), next)
			}
			durable, next = next, next+1
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for out.Scan() { // Said before the kill: durable too.
			if v, ok := strings.CutPrefix(out.Text(), "durable "); ok {
				durable, _ = strconv.Atoi(v)
			}
		}
		_ = stdin.Close()
		_ = cmd.Wait()
		t.Logf("round %d: recovered %d, %d durable", round, n, durable)
	}
}
