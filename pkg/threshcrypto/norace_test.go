//go:build !race

package threshcrypto

// raceEnabled tells whether the race detector is on.
const raceEnabled = false
