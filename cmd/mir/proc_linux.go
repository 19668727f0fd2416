package main

import "syscall"

// replicaProcAttr returns the attributes of a replica's process: a
// process group of its own, so that a Ctrl-C in the terminal reaches the
// cluster only, which stops its replicas in order; and SIGKILL when the
// cluster dies, so that no replica outlives a cluster killed with kill -9.
func replicaProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
