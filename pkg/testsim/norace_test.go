//go:build !race

package testsim_test

// raceEnabled tells whether the race detector is on.
const raceEnabled = false
