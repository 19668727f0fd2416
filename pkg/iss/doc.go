// Package iss is the orchestrator of ISS, Insanely Scalable SMR
// (Stathakopoulou, Rüsch, Brandenburger, Vukolić: "State-Machine
// Replication Scalability Made Simple", EuroSys 2022): it turns several
// instances of a sequenced broadcast, each led by a different node, into
// one totally ordered log, so that no single leader's bandwidth bounds the
// throughput and a faulty leader costs only its own part of the log.
// docs/iss.md describes the protocol as Mir implements it; this package is
// its sections 1, 2 and 4 to 6 as seen from ISS.
//
// # What the module does
//
// Module is a deterministic passive module. For each epoch it computes the
// leaders (a LeaderPolicy: AllLeaders or Blacklist), cuts the epoch's slots
// into one interleaved segment per leader and the request hash space into
// buckets (bucket b to leader (b + e) mod |leaders|; Segments), and creates
// one orderer per segment through a stdmodules.Factory
// (stdevents.NewSubmodule, the Segment as Params, the epoch as retention
// index). It delivers the orderers' outcomes (SBDeliver: a value or ⊥) to
// the application in order (Deliver), with no gap. When every slot of an
// epoch is delivered, it asks the application for a snapshot
// (SnapshotRequest), starts the next epoch at once, and, with the snapshot,
// asks the checkpoint module to checkpoint the epoch (checkpoint.Start)
// with the memberships already decided and the policy's state. A stable
// checkpoint (checkpoint.Stable) garbage-collects the epochs before it
// (orderers, messages in flight, WAL records, ISS's state), keeping
// Params.RetainedEpochs; one beyond the node's current epoch is a state
// transfer: the application is restored (RestoreState) and ISS orders on
// from the epoch after it.
//
// Memberships are per epoch: the snapshot after epoch e carries the
// membership of epoch e + ConfigOffset + 1 (Snapshot.NextVoters; empty
// keeps the one before).
//
// # Crash recovery
//
// ISS appends to the WAL its stable checkpoints (StableRecord) and the
// epochs it starts (EpochRecord); the orderers append their records as
// OrdererRecords addressed to ISS, so that one Truncate at a stable
// checkpoint drops them all. At a restart the WAL hands them back right
// after the Init; ISS sends itself RecoveryDone at its Init, which arrives
// after them. It then restores the application from the latest stable
// checkpoint and creates the orderers of the epochs after it as the log
// reaches them again (the leaders of an epoch depend on the one before),
// each followed by its records, which therefore come before any message:
// the factory hands the messages that arrived early for an orderer
// (EarlyOrdererMessages) back through the node, behind them.
//
// # Wiring
//
// ISS takes nothing from the network. Its neighbours are named in
// ModuleConfig (DefaultModuleConfig: "iss", "ordering", "checkpoint",
// "app", "wal", "rnet"); the orderers' factory is built with
// stdmodules.WithEarlyMessages(EarlyOrdererMessages(params)).
package iss
