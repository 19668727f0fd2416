package wal

import (
	"fmt"
	"iter"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// record is what one record of the WAL module's log holds: an appended
// event, or the truncation of an owner's records (a Truncate made
// durable, so that recovery drops what it dropped).
type record struct {
	// Event is an Append's event; nil for a truncation.
	Event stdtypes.Event `cbor:",omitempty"`
	// Owner is a truncation's owner; empty for an Append, whose owner is
	// its event's destination.
	Owner stdtypes.ModuleID `cbor:",omitempty"`
	// RetentionIndex is the Append's, or the lowest one a truncation
	// keeps.
	RetentionIndex stdtypes.RetentionIndex
}

// ModuleStats are the counters of a WAL module (Module or SimModule)
// since it was made.
type ModuleStats struct {
	// Recovered is the number of records handed back at the start.
	Recovered uint64
	// Appended is the number of Appends persisted, and Ignored the
	// number below their owner's last Truncate, not persisted.
	Appended, Ignored uint64
	// Truncations is the number of Truncates that raised an owner's
	// retention index.
	Truncations uint64
	// DroppedMessages counts the messages from other nodes that reached
	// the module, which takes none.
	DroppedMessages uint64
	// Log holds the log's counters (Log.Stats), among them how long
	// writing and syncing took; zero for the simulated twin, whose disk
	// is simulated.
	Log Stats
}

// journal is what the WAL module knows of its log, the same for the real
// module and its twin, which differ only in how records reach the disk:
// the records' format, the retention index of each owner's records, and
// recovery. The twin and the real module each drive one from one
// goroutine; its counters may be read from any.
type journal struct {
	// self is the WAL module's ID, learned from Init.
	self stdtypes.ModuleID
	// owners holds, for each module that owns records, what is live.
	owners map[stdtypes.ModuleID]*owner
	// lastIndex is the index of the last record appended.
	lastIndex uint64
	// toHandBack holds the events recovered, until Recovered.
	toHandBack []stdtypes.Event
	stray      modules.StrayMessages

	recovered, appended, ignored, truncations atomic.Uint64
}

// owner is what the journal knows of one owner's records.
type owner struct {
	// keepFrom is the owner's last Truncate: records with a lower
	// retention index are dropped.
	keepFrom stdtypes.RetentionIndex
	// first holds the index of the first live record of each retention
	// index the owner used. The number of entries is the number of
	// retention indices the owner keeps live: the protocol bounds it by
	// truncating.
	first map[stdtypes.RetentionIndex]uint64
}

func newJournal() journal {
	return journal{owners: make(map[stdtypes.ModuleID]*owner)}
}

// owner returns the state of owner id, made on first use.
func (j *journal) owner(id stdtypes.ModuleID) *owner {
	o, ok := j.owners[id]
	if !ok {
		o = &owner{first: make(map[stdtypes.RetentionIndex]uint64)}
		j.owners[id] = o
	}
	return o
}

// open makes the journal of a log that holds records, the last with
// index lastIndex, whose records are at most maxRecordBytes long: it reads
// them (see recover) and keeps the events to hand back.
func (j *journal) open(records iter.Seq2[Record, error], lastIndex uint64, maxRecordBytes int) error {
	lim := codec.DefaultLimits()
	lim.MaxBytes = maxRecordBytes
	dec, err := codec.NewDecoder(lim)
	if err != nil {
		return err
	}
	j.toHandBack, err = j.recover(records, lastIndex, dec)
	return err
}

// takeRecovered returns the events recovered, once: the journal does not
// keep them.
func (j *journal) takeRecovered() []stdtypes.Event {
	evs := j.toHandBack
	j.toHandBack = nil
	return evs
}

// recover reads the records of a log whose last index is lastIndex, and
// returns the events to hand back: those of every Append whose owner did
// not truncate it, in the order of the log. A record that does not decode
// is an error: a log this module did not write, or an event type that
// the program no longer registers.
func (j *journal) recover(records iter.Seq2[Record, error], lastIndex uint64, dec *codec.Decoder) ([]stdtypes.Event, error) {
	type appended struct {
		index uint64
		rec   record
	}
	var all []appended
	for r, err := range records {
		if err != nil {
			return nil, err
		}
		var rec record
		if err := dec.Unmarshal(r.Data, &rec); err != nil {
			return nil, fmt.Errorf("wal: record %d: %w", r.Index, err)
		}
		if err := rec.check(); err != nil {
			return nil, fmt.Errorf("wal: record %d: %w", r.Index, err)
		}
		if rec.Event == nil {
			o := j.owner(rec.Owner)
			o.keepFrom = max(o.keepFrom, rec.RetentionIndex)
			continue
		}
		all = append(all, appended{r.Index, rec})
	}
	// A truncation comes after the records it drops, so the owners'
	// retention indices are known only now.
	var evs []stdtypes.Event
	for _, a := range all {
		o := j.owner(a.rec.Event.Dest().Top())
		if a.rec.RetentionIndex < o.keepFrom {
			continue
		}
		if _, ok := o.first[a.rec.RetentionIndex]; !ok {
			o.first[a.rec.RetentionIndex] = a.index
		}
		evs = append(evs, a.rec.Event)
	}
	j.lastIndex = lastIndex
	j.recovered.Store(uint64(len(evs)))
	return evs, nil
}

// check checks a record read back: an event with a valid destination, or
// a truncation of a valid owner.
func (r *record) check() error {
	if r.Event == nil {
		return (&Truncate{Owner: r.Owner}).Validate()
	}
	return r.Event.Dest().Validate()
}

// apply turns a batch of the WAL module's events into records, calling
// write with the bytes of each, in order; write returns the index the
// log gave it. It reports whether a Truncate raised an owner's retention
// index, after which, once the records are durable, the log can be
// truncated before firstLive.
func (j *journal) apply(evs []stdtypes.Event, write func([]byte) (uint64, error)) (truncated bool, err error) {
	for _, ev := range evs {
		if j.stray.Drop(ev) {
			continue // A peer's message for the WAL module.
		}
		switch ev := ev.(type) {
		case *stdevents.Init:
			j.self = ev.Dest()
		case *Append:
			if err := j.append(ev, write); err != nil {
				return truncated, err
			}
		case *Truncate:
			t, err := j.truncate(ev, write)
			if err != nil {
				return truncated, err
			}
			truncated = truncated || t
		case nil:
			return truncated, fmt.Errorf("wal: nil event")
		default:
			return truncated, fmt.Errorf("wal: unexpected event %s", stdtypes.TypeName(ev))
		}
	}
	return truncated, nil
}

// append persists an Append, unless its owner truncated its retention
// index already.
func (j *journal) append(a *Append, write func([]byte) (uint64, error)) error {
	if err := a.Validate(j.self); err != nil {
		return err
	}
	o := j.owner(a.Event.Dest().Top())
	if a.RetentionIndex < o.keepFrom {
		j.ignored.Add(1)
		return nil
	}
	index, err := j.write(record{Event: a.Event, RetentionIndex: a.RetentionIndex}, write)
	if err != nil {
		return fmt.Errorf("wal: append %s: %w", stdtypes.TypeName(a.Event), err)
	}
	if _, ok := o.first[a.RetentionIndex]; !ok {
		o.first[a.RetentionIndex] = index
	}
	j.appended.Add(1)
	return nil
}

// truncate persists a Truncate that raises its owner's retention index,
// and forgets the records below it; it reports whether it did.
func (j *journal) truncate(t *Truncate, write func([]byte) (uint64, error)) (bool, error) {
	if err := t.Validate(); err != nil {
		return false, err
	}
	o := j.owner(t.Owner)
	if t.RetentionIndex <= o.keepFrom {
		return false, nil
	}
	if _, err := j.write(record{Owner: t.Owner, RetentionIndex: t.RetentionIndex}, write); err != nil {
		return false, fmt.Errorf("wal: truncate %s: %w", t.Owner, err)
	}
	o.keepFrom = t.RetentionIndex
	for ri := range o.first {
		if ri < t.RetentionIndex {
			delete(o.first, ri)
		}
	}
	j.truncations.Add(1)
	return true, nil
}

// write encodes rec and has write append it, checking that the log gave
// it the next index.
func (j *journal) write(rec record, write func([]byte) (uint64, error)) (uint64, error) {
	data, err := codec.Marshal(&rec)
	if err != nil {
		return 0, err
	}
	index, err := write(data)
	if err != nil {
		return 0, err
	}
	if index != j.lastIndex+1 {
		panic(fmt.Sprintf("wal: the log gave record index %d after %d", index, j.lastIndex))
	}
	j.lastIndex = index
	return index, nil
}

// firstLive returns the index of the first record some owner still
// needs, or the next index if none does: every record below it can go.
// It costs one step per live retention index of every owner, once per
// Truncate.
func (j *journal) firstLive() uint64 {
	first := j.lastIndex + 1
	for _, o := range j.owners {
		for _, index := range o.first {
			first = min(first, index)
		}
	}
	return first
}

// stats returns the journal's counters.
func (j *journal) stats() ModuleStats {
	return ModuleStats{
		Recovered:       j.recovered.Load(),
		Appended:        j.appended.Load(),
		Ignored:         j.ignored.Load(),
		Truncations:     j.truncations.Load(),
		DroppedMessages: j.stray.Count(),
	}
}
