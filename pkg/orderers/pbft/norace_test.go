//go:build !race

package pbft_test

// raceEnabled tells whether the race detector is on.
const raceEnabled = false
