//go:build race

package testsim

// raceDetector tells whether the race detector is on (see RaceSeeds).
const raceDetector = true
