//go:build race

package testsim_test

// raceEnabled tells whether the race detector is on: it makes simulations
// ten times slower, and memory measurements meaningless.
const raceEnabled = true
