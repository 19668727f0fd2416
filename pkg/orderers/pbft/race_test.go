//go:build race

package pbft_test

// raceEnabled tells whether the race detector is on: it makes simulations
// ten times slower, and they run on one goroutine, which it has nothing
// to check in.
const raceEnabled = true
