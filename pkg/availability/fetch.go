package availability

import (
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// The batch fetcher's source: "For each delivered certificate it asks
// availability for the batch: from the local store, or fetched from the
// certificate's signers (one of them is correct, and stored it before
// signing)."

// requestTxs answers from the store, or starts (or joins) a fetch.
func (m *Module) requestTxs(out *stdtypes.EventList, ev *RequestTxs) error {
	if err := ev.ReplyTo.Validate(); err != nil {
		return fmt.Errorf("ReplyTo: %w", err)
	}
	c, err := DecodeCertificate(ev.Cert, m.params.MaxBuckets)
	if err != nil {
		return err
	}
	key := string(c.Digest)
	if p := m.proposed[key]; p != nil && c.Leader == m.self && c.Epoch == p.epoch {
		// "A batch delivered must not go back": it executes from this
		// slot.
		delete(m.proposed, key)
	}
	if b := m.store[key]; b != nil {
		emit(out, m.provide(ev.ReplyTo, ev.Ref, b.txs))
		return nil
	}
	if f := m.fetches[key]; f != nil {
		f.waiters = append(f.waiters, waiter{ev.ReplyTo, ev.Ref})
		return nil
	}
	sources := slices.DeleteFunc(slices.Clone(c.Signers), func(id stdtypes.NodeID) bool { return id == m.self })
	switch {
	case len(sources) == 0:
		return fmt.Errorf("this node is the certificate's only signer, and no longer keeps its batch (epoch %d)", c.Epoch)
	case len(m.fetches) >= m.params.MaxFetches:
		return fmt.Errorf("%d fetches in progress already (MaxFetches)", len(m.fetches))
	}
	f := &fetch{id: m.nextID, cert: c, sources: sources, waiters: []waiter{{ev.ReplyTo, ev.Ref}}}
	m.nextID++
	m.fetches[key] = f
	m.fetchIDs[f.id] = f
	m.ask(out, f)
	return nil
}

// provide returns the answer to a RequestTxs.
func (m *Module) provide(replyTo stdtypes.ModuleID, ref uint64, txs []mempool.Tx) *ProvideTxs {
	return &ProvideTxs{Header: stdtypes.NewHeader(replyTo), Ref: ref, Txs: txs}
}

// ask sends the FETCH of attempt f.attempt, to the next signer in turn,
// and sets its timeout.
func (m *Module) ask(out *stdtypes.EventList, f *fetch) {
	to := f.sources[f.attempt%uint64(len(f.sources))]
	emit(out,
		stdevents.NewSendMessage(m.mc.Net, &FetchMsg{Digest: f.cert.Digest}, stdevents.To(m.mc.Self, to)),
		stdevents.NewTimerDelay(m.mc.Timer, m.params.FetchTimeout,
			&FetchTimeout{Header: stdtypes.NewHeader(m.mc.Self), ID: f.id, Attempt: f.attempt}))
}

// fetchTimeout: the signer asked did not answer in time; the next one is
// asked. One of them is correct and keeps the batch until a stable
// checkpoint covers it, so a fetch ends.
func (m *Module) fetchTimeout(out *stdtypes.EventList, ev *FetchTimeout) {
	f := m.fetchIDs[ev.ID]
	if f == nil || f.attempt != ev.Attempt {
		return // Done, or the timeout of an earlier attempt.
	}
	f.attempt++
	m.ask(out, f)
}

// maxServesPerNode bounds how often a node answers one node's FETCHes of
// one batch: a correct node asks a signer again only after FetchTimeout
// and every other signer, so this many answers lost on the way are
// already unlikely; a Byzantine node that asks again and again gets no
// more than this many copies of each batch, which bounds what it makes
// this node send.
const maxServesPerNode = 8

// fetchMsg serves a batch this node keeps, once it is durable.
func (m *Module) fetchMsg(out *stdtypes.EventList, from stdtypes.NodeID, msg *FetchMsg) {
	if !m.knownNode(from) {
		m.drop(rUnknownSender, from, "FETCH")
		return
	}
	if len(msg.Digest) != DigestBytes {
		m.drop(rMalformed, from, "FETCH")
		return
	}
	b := m.store[string(msg.Digest)]
	if b == nil || !b.persisted {
		m.drop(rNotStored, from, "FETCH")
		return
	}
	if b.served[from] >= maxServesPerNode {
		m.drop(rFlood, from, "FETCH")
		return
	}
	if b.served == nil {
		b.served = make(map[stdtypes.NodeID]uint8)
	}
	b.served[from]++
	m.counters.inc(rServed)
	resp := &FetchResponseMsg{Digest: slices.Clone(msg.Digest), Txs: b.txs}
	emit(out, stdevents.NewSendMessage(m.mc.Net, resp, stdevents.To(m.mc.Self, from)))
}

// fetchResponse checks a signer's answer against the certificate's digest
// and hands the transactions to every RequestTxs waiting for them.
func (m *Module) fetchResponse(out *stdtypes.EventList, from stdtypes.NodeID, msg *FetchResponseMsg) {
	if len(msg.Digest) != DigestBytes {
		m.drop(rMalformed, from, "FETCHRESPONSE")
		return
	}
	f := m.fetches[string(msg.Digest)]
	switch {
	case f == nil:
		m.drop(rStale, from, "FETCHRESPONSE")
		return
	case !slices.Contains(f.sources, from):
		m.drop(rUnknownSender, from, "FETCHRESPONSE")
		return
	}
	if r, err := m.checkTxs(msg.Txs, f.cert.Buckets); err != nil {
		m.drop(r, from, "FETCHRESPONSE: "+err.Error())
		return
	}
	if got := BatchDigest(f.cert.Epoch, f.cert.Leader, f.cert.Buckets, msg.Txs); string(got) != string(f.cert.Digest) {
		m.drop(rBadDigest, from, "FETCHRESPONSE")
		return
	}
	m.counters.inc(rFetched)
	m.endFetch(f)
	txs := slices.Clone(msg.Txs)
	for _, w := range f.waiters {
		emit(out, m.provide(w.replyTo, w.ref, txs))
	}
}

func (m *Module) endFetch(f *fetch) {
	delete(m.fetches, string(f.cert.Digest))
	delete(m.fetchIDs, f.id)
}
