package trantor_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// ExampleNew builds the modules of node "0" of four, running a logApp;
// the caller then adds its transport, timer, WAL, signing module and
// client server under the IDs it named, and starts a mir.Node on them.
func ExampleNew() {
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)
	params := trantor.DefaultParams(voters)
	mods, err := trantor.New("0", params, trantor.Deps{
		Transport: "net", Timer: "timer", WAL: "wal", Crypto: "crypto",
		App: &logApp{}, Incarnation: 1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(mods), "modules; the application's:", mods[trantor.AppID] != nil)
	// Output: 9 modules; the application's: true
}
