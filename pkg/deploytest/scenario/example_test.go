package scenario_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/samples/bracha"
)

// A scenario of Bracha's broadcast: node 3 forges the value of everything
// it sends, and node 0 broadcasts. The correct nodes deliver node 0's
// value; RunDir plays files like this one and compares the outcome with
// the one they expect.
func Example() {
	sc, err := scenario.Parse("forger.txt", []byte(`# One forger is below every threshold.
nodes 0 1 2 3
seed 1
adversary 3 forge
submit 0 at 0s broadcast seq=1 value=hello
run 2s
`))
	if err != nil {
		panic(err)
	}
	outcome, err := sc.Play(bracha.Scenarios())
	if err != nil {
		panic(err)
	}
	fmt.Print(outcome)
	// Output:
	// seed 1: ok
	//   0: 0/1 "hello"
	//   1: 0/1 "hello"
	//   2: 0/1 "hello"
	//   3: 0/1 "hello"
}
