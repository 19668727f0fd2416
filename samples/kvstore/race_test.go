//go:build race

package kvstore_test

// raceEnabled tells whether the race detector is on: the simulations
// then run testsim.RaceSeeds seeds each.
const raceEnabled = true
