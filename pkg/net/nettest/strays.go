package nettest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// Strays are the standard modules that take no messages from other nodes,
// in a node's set of modules, for the check that nothing a peer sends
// stops a node: a peer sends a message to each of them (Dests), and each
// must be dropped and counted (Check). Besides the modules added by
// AddStrays, the set holds whatever the caller put in it, typically the
// transport and a timer, which take no messages either.
type Strays struct {
	mods    modules.Modules
	router  *modules.Router
	factory *stdmodules.Factory
}

// Module IDs of the modules AddStrays adds, and of the submodules of the
// router and the factory, which take no messages.
const (
	strayRouter  = stdtypes.ModuleID("router")
	strayFactory = stdtypes.ModuleID("factory")
	straySub     = stdtypes.ModuleID("null")
)

// AddStrays adds to mods the passive standard modules that take no
// messages: a crypto module ("crypto"), a threshold crypto module
// ("threshcrypto"), a null module ("null"), and a router ("router") and a
// factory ("factory"), which take messages for their submodules, each
// with a self module and a submodule ("null") that take none. With active
// set it also adds the active ones a real node runs: a crypto pool
// ("cryptopool") and a null active module ("nullactive").
func AddStrays(t testing.TB, mods modules.Modules, active bool) *Strays {
	t.Helper()
	c, err := crypto.New(crypto.PrivateKey{}, nil) // Verifies only; never asked to.
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := threshcrypto.DealFromSeed(1, 1, []byte("nettest"))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := threshcrypto.New(pub, nil, []stdtypes.NodeID{"0"})
	if err != nil {
		t.Fatal(err)
	}
	s := &Strays{mods: mods, router: modules.NewRouter(strayRouter, modules.NullPassive{})}
	if err := s.router.Add(straySub, modules.NullPassive{}); err != nil {
		t.Fatal(err)
	}
	s.factory = stdmodules.NewFactory(strayFactory, func(stdtypes.ModuleID, any) (modules.PassiveModule, error) {
		return modules.NullPassive{}, nil
	}, nil)
	if _, err := s.factory.ApplyEvents(stdtypes.ListOf(
		stdevents.NewNewSubmodule(strayFactory.Then(straySub), 0, nil))); err != nil {
		t.Fatal(err)
	}
	mods["crypto"] = must(t)(crypto.NewModule(c))
	mods["threshcrypto"] = must(t)(threshcrypto.NewModule(tc))
	mods["null"] = modules.NullPassive{}
	mods[strayRouter] = s.router
	mods[strayFactory] = s.factory
	if active {
		pool, err := crypto.NewPool(c, runner.PoolParams{Workers: 1, MaxPendingItems: 1})
		if err != nil {
			t.Fatal(err)
		}
		mods["cryptopool"] = pool
		mods["nullactive"] = modules.NullActive{}
	}
	return s
}

// must returns a function that returns its module, failing t on an error.
func must(t testing.TB) func(m *runner.Sync, err error) *runner.Sync {
	return func(m *runner.Sync, err error) *runner.Sync {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}

// topStrays returns the IDs of the node's modules that take no messages,
// sorted.
func (s *Strays) topStrays() []stdtypes.ModuleID {
	var ids []stdtypes.ModuleID
	for id, m := range s.mods {
		if !modules.ReceivesMessages(m) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Dests returns the destinations a peer's messages go to, one message
// each: every module of the node that takes no messages, and the router
// and the factory themselves and their submodule that takes none.
func (s *Strays) Dests() []stdtypes.ModuleID {
	return append(s.topStrays(),
		strayRouter, strayRouter.Then(straySub), strayFactory, strayFactory.Then(straySub))
}

// Dropped returns what is still missing for every message sent to Dests to
// have been dropped and counted, "" once none is: dropped(id) is the
// node's count for module id (mir.ModuleStats.DroppedMessages, or
// testsim.Node.DroppedMessages). The router and the factory count theirs
// when they process them, which may be after the node handed a later
// message to another module: poll.
func (s *Strays) Dropped(dropped func(stdtypes.ModuleID) uint64) string {
	for _, id := range s.topStrays() {
		if n := dropped(id); n != 1 {
			return fmt.Sprintf("module %s dropped %d messages, want 1", id, n)
		}
	}
	if n := s.router.DroppedMessages(); n != 2 {
		return fmt.Sprintf("the router dropped %d messages, want 2 (its own and its submodule's)", n)
	}
	if n := s.factory.Dropped(); n != 2 {
		return fmt.Sprintf("the factory dropped %d messages, want 2 (its own and its submodule's)", n)
	}
	return ""
}

// MarkerSeq is the sequence number of the Request that follows the
// strays, to a Marker.
const MarkerSeq = 1 << 20

// Marker is a protocol module that reports on Got, without waiting, each
// Request with sequence number MarkerSeq it receives, if Got has room.
type Marker struct {
	Got chan<- struct{}
}

// ReceivesMessages implements modules.MessageReceiver.
func (Marker) ReceivesMessages() {}

// ApplyEvents implements modules.PassiveModule.
func (m Marker) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	for _, ev := range evs.Slice() {
		rcv, ok := ev.(*stdevents.MessageReceived)
		if !ok {
			continue
		}
		if req, ok := rcv.Msg.(*Request); ok && req.Seq == MarkerSeq {
			select {
			case m.Got <- struct{}{}:
			default:
			}
		}
	}
	return nil, nil
}

// StraySends returns the SendMessage events, through transport module net,
// of one Request to node to for each of strays' Dests, and then one to
// module marker with sequence number MarkerSeq, whose arrival tells that
// the others were routed (when the transport keeps the order of messages
// on a link).
func StraySends(strays *Strays, net stdtypes.ModuleID, marker stdtypes.ModuleID, to stdtypes.NodeID) *stdtypes.EventList {
	out := stdtypes.EmptyList()
	for i, dest := range strays.Dests() {
		out.PushBack(stdevents.NewSendMessage(net, &Request{Seq: uint64(i)}, stdevents.To(dest, to)))
	}
	out.PushBack(stdevents.NewSendMessage(net, &Request{Seq: MarkerSeq}, stdevents.To(marker, to)))
	return out
}
