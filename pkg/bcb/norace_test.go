//go:build !race

package bcb_test

// raceEnabled tells whether the race detector is on.
const raceEnabled = false
