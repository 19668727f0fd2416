package checkpoint

// Sizes returns how much state the module holds: the epochs above the
// latest stable checkpoint, the early signatures kept, the retained
// checkpoints, the claims and the outstanding requests.
func (m *Module) Sizes() (epochs, early, retained, claims, requests int) {
	s := m.s
	for _, es := range s.epochs {
		early += len(es.early)
	}
	return len(s.epochs), early, len(s.retained), len(s.claims), s.hashing.Len() + s.signing.Len() + s.verifying.Len()
}
