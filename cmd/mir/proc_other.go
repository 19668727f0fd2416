//go:build !linux

package main

import "syscall"

// replicaProcAttr returns the attributes of a replica's process: the
// defaults. (On Linux, a replica gets a process group of its own and dies
// with the cluster.)
func replicaProcAttr() *syscall.SysProcAttr { return nil }
