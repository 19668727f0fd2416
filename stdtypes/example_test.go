package stdtypes_test

import (
	"fmt"

	"github.com/mirframework/mir/stdtypes"
)

func ExampleModuleID() {
	id := stdtypes.ModuleID("iss").Then("pbft/3")
	fmt.Println(id, id.Top(), id.Sub())
	fmt.Println(id.IsSubOf("iss"), id.IsSubOf("is"), stdtypes.ModuleID("issx").IsSubOf("iss"))
	fmt.Println(stdtypes.ModuleID("iss//pbft").Validate())
	// Output:
	// iss/pbft/3 iss pbft/3
	// true false false
	// invalid module ID "iss//pbft": empty path segment
}

func ExampleWithFollowUps() {
	type persist struct {
		stdtypes.Header
	}
	type send struct {
		stdtypes.Header
	}
	// Send only once the write-ahead log has persisted.
	ev := stdtypes.WithFollowUps(&persist{Header: stdtypes.NewHeader("wal")},
		&send{Header: stdtypes.NewHeader("net")})
	for _, next := range ev.FollowUps() {
		fmt.Println(stdtypes.TypeName(ev), ev.Dest(), "then", next.Dest())
	}
	// Output:
	// stdtypes_test.persist wal then net
}
