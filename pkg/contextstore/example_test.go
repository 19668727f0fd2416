package contextstore_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/contextstore"
	"github.com/mirframework/mir/stdtypes"
)

// echoContext is what a module needs to know when the verification of an
// echo's signature is done.
type echoContext struct {
	instance uint64
	from     stdtypes.NodeID
}

func Example() {
	var verifying contextstore.Store[echoContext]

	// Two verification requests go out, each with its context's ID (in a
	// module: crypto.Origin{Module: self, ID: id}).
	id1 := verifying.StoreWithRetention(echoContext{instance: 7, from: "2"}, 7)
	id2 := verifying.StoreWithRetention(echoContext{instance: 8, from: "3"}, 8)

	// The first answer arrives and carries id1 back.
	c, ok := verifying.Recover(id1)
	fmt.Println(c.instance, c.from, ok)

	// Every instance below 9 is finished: forget their requests. The
	// answer to the second request then finds no context and is ignored.
	fmt.Println(verifying.GarbageCollect(9), "collected")
	_, ok = verifying.Recover(id2)
	fmt.Println(ok)
	// Output:
	// 7 2 true
	// 1 collected
	// false
}
