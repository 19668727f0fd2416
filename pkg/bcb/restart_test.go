package bcb_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// A leader that restarts numbers its broadcasts from 0 again. The
// followers must deliver what the new incarnation broadcasts, as new
// instances, never take it for what the old one broadcast under the same
// numbers (bug #12.3); and the leader, which counts acknowledgments to
// know when to forget an instance, must not count those of its former
// incarnation's instances.
func TestLeaderRestart(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		built := map[stdtypes.NodeID]*bcb.Module{}
		d := lossySim(t, seed, built)
		delivered := deploytest.Collect[*bcb.Deliver](d)
		d.Check(bcbProperties()...)
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		const perRun = 3
		text := func(inc int, seq uint64) []byte { return fmt.Appendf(nil, "text %d of incarnation %d", seq, inc) }
		leader := d.Node("0")
		for seq := range uint64(perRun) {
			leader.InjectAt(time.Duration(seq)*simInterval, bcb.NewBroadcast(mc.Self, seq, text(1, seq)))
		}
		leader.CrashAt(time.Second)
		leader.RestartAt(time.Second + 10*time.Millisecond)
		for seq := range uint64(perRun) {
			leader.InjectAt(time.Second+20*time.Millisecond+time.Duration(seq)*simInterval, bcb.NewBroadcast(mc.Self, seq, text(2, seq)))
		}
		if err := d.Sim().Run(3 * time.Second); err != nil {
			t.Fatal(err)
		}
		for _, id := range d.Nodes()[1:] {
			var got []string
			for _, dv := range delivered.Of(id) {
				if want := text(int(dv.ID.Incarnation), dv.ID.Seq); dv.ID.Leader == "0" && string(dv.Payload) != string(want) {
					t.Errorf("node %s delivered %q as %v", id, dv.Payload, dv.ID)
				}
				got = append(got, string(dv.Payload))
			}
			for inc := 1; inc <= 2; inc++ {
				for seq := range uint64(perRun) {
					if want := string(text(inc, seq)); !slices.Contains(got, want) {
						t.Errorf("node %s did not deliver %q; it delivered %q", id, want, got)
					}
				}
			}
		}
		// Every node acknowledged every instance of the new incarnation,
		// and none of the old one counted: the leader has nothing left,
		// and gave up on nothing.
		if own, _, _, _ := built["0"].Sizes(); own != 0 {
			t.Errorf("the restarted leader holds %d instances", own)
		}
		if st := built["0"].Stats(); st.GaveUp != 0 || st.Invalid() != 0 || st.Broadcasts != perRun {
			t.Errorf("the restarted leader: %+v", st)
		}
	})
}
