//go:build race

package threshcrypto

// raceEnabled tells whether the race detector is on: it slows memory
// accesses down, which makes timing tests meaningless.
const raceEnabled = true
