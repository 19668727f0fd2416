// Package stdevents defines the standard events every Mir node understands:
// Init, sending and receiving messages, timers, and creating and
// garbage-collecting submodules. Each has a constructor New<Type>.
package stdevents
