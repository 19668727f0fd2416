//go:build !linux

package threshcrypto

import "time"

var start = time.Now()

// threadCPU returns the wall-clock time: elsewhere than on Linux, the
// paired benchmarks measure that.
func threadCPU() time.Duration { return time.Since(start) }
