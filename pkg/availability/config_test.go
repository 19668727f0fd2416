package availability_test

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

func TestConfigValidate(t *testing.T) {
	if err := availability.DefaultModuleConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := availability.DefaultModuleParams(four).Validate(); err != nil {
		t.Fatal(err)
	}
	bad := availability.DefaultModuleConfig()
	bad.Self = "availability/sub"
	if bad.Validate() == nil {
		t.Error("a Self of two segments accepted")
	}
	bad = availability.DefaultModuleConfig()
	bad.WAL = ""
	if bad.Validate() == nil {
		t.Error("an empty WAL ID accepted")
	}
	for name, tweak := range map[string]func(*availability.ModuleParams){
		"no voters":      func(p *availability.ModuleParams) { p.Voters = nil },
		"no txs":         func(p *availability.ModuleParams) { p.MaxBatchTxs = 0 },
		"huge batch":     func(p *availability.ModuleParams) { p.MaxBatchBytes = 1 << 31 },
		"no buckets":     func(p *availability.ModuleParams) { p.MaxBuckets = 0 },
		"no quota":       func(p *availability.ModuleParams) { p.MaxBatchesPerSender = 0 },
		"no timeout":     func(p *availability.ModuleParams) { p.FetchTimeout = 0 },
		"no fetches":     func(p *availability.ModuleParams) { p.MaxFetches = 0 },
		"no proposals":   func(p *availability.ModuleParams) { p.MaxOpenProposals = 0 },
		"negative bytes": func(p *availability.ModuleParams) { p.MaxTxBytes = -1 },
	} {
		p := availability.DefaultModuleParams(four)
		tweak(&p)
		if p.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := availability.NewModule("0", availability.DefaultModuleConfig(), p, nil); err == nil {
			t.Errorf("%s: NewModule accepted", name)
		}
	}
}

// The digest covers every field of a batch: changing any one changes it.
func TestBatchDigestCoversEveryField(t *testing.T) {
	batch := txs("ab", 0, 2)
	base := availability.BatchDigest(1, "0", []int{1, 2}, batch)
	if len(base) != availability.DigestBytes {
		t.Fatalf("digest of %d bytes", len(base))
	}
	moved := slices.Clone(batch)
	moved[0].ClientID, moved[0].Data = "a", append([]byte("b"), moved[0].Data...)
	others := map[string][]byte{
		"epoch":        availability.BatchDigest(2, "0", []int{1, 2}, batch),
		"leader":       availability.BatchDigest(1, "1", []int{1, 2}, batch),
		"buckets":      availability.BatchDigest(1, "0", []int{1}, batch),
		"order":        availability.BatchDigest(1, "0", []int{1, 2}, []mempool.Tx{batch[1], batch[0]}),
		"one tx fewer": availability.BatchDigest(1, "0", []int{1, 2}, batch[:1]),
		"tx number":    availability.BatchDigest(1, "0", []int{1, 2}, append(txs("ab", 1, 1), batch[1])),
		"bytes moved":  availability.BatchDigest(1, "0", []int{1, 2}, moved),
	}
	for name, d := range others {
		if string(d) == string(base) {
			t.Errorf("%s: same digest", name)
		}
	}
}

// Encode and DecodeCertificate are inverses; every bound of the decoder
// holds.
func TestCertificateEncoding(t *testing.T) {
	ids := four.IDs()
	c := makeCert(t, ids, 7, "2", txs("a", 0, 1), 0, 1, 3)
	got, err := availability.DecodeCertificate(c.Encode(), 64)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epoch != 7 || got.Leader != "2" || !slices.Equal(got.Buckets, c.Buckets) ||
		string(got.Digest) != string(c.Digest) || !slices.Equal(got.Signers, c.Signers) ||
		!slices.EqualFunc(got.Sigs, c.Sigs, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("decoded %+v, want %+v", got, c)
	}
	for name, tweak := range map[string]func(*availability.Certificate){
		"bucket beyond the bound": func(c *availability.Certificate) { c.Buckets = []int{64} },
		"buckets repeated":        func(c *availability.Certificate) { c.Buckets = []int{3, 3} },
		"short digest":            func(c *availability.Certificate) { c.Digest = c.Digest[:31] },
		"no signers":              func(c *availability.Certificate) { c.Signers, c.Sigs = nil, nil },
		"empty signer":            func(c *availability.Certificate) { c.Signers = []stdtypes.NodeID{"", "1", "3"} },
		"empty signature":         func(c *availability.Certificate) { c.Sigs = [][]byte{{}, c.Sigs[1], c.Sigs[2]} },
		"long signature": func(c *availability.Certificate) {
			c.Sigs = [][]byte{make([]byte, availability.MaxSignatureBytes+1), c.Sigs[1], c.Sigs[2]}
		},
		"empty leader": func(c *availability.Certificate) { c.Leader = "" },
	} {
		x := c
		tweak(&x)
		if _, err := availability.DecodeCertificate(x.Encode(), 64); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
