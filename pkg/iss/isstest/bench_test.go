package isstest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/stdtypes"
)

// BenchmarkApps measures what the App and the Checker add to a
// simulation of ISS: per op, 10,000 requests from 16 clients submitted
// to 4 nodes, proposed by the leaders of their buckets (4 segments, 64
// buckets) in batches, each batch delivered to the 4 nodes, with the
// Checker taking every report.
func BenchmarkApps(b *testing.B) {
	const nodes, requests, clients = 4, 10000, 16
	b.ReportAllocs()
	for b.Loop() {
		c := isstest.NewChecker(isstest.CheckerOptions{Now: func() time.Duration { return 0 }})
		apps := make([]*isstest.App, nodes)
		for i := range apps {
			p := isstest.DefaultParams(stdtypes.NewNodeIDFromInt(i))
			p.Observer = c.Report
			apps[i], _ = isstest.New(p)
		}
		apply := func(a *isstest.App, evs ...stdtypes.Event) []stdtypes.Event {
			out, err := a.ApplyEvents(stdtypes.ListOf(evs...))
			if err != nil {
				b.Fatal(err)
			}
			return out.Slice()
		}
		for i := range requests {
			s := isstest.NewSubmit(isstest.DefaultID, fmt.Sprintf("c%d", i%clients), uint64(i/clients), []byte("payload of a request"))
			for _, a := range apps {
				apply(a, s)
			}
		}
		var sn stdtypes.SeqNr
		for executed := 0; executed < requests; {
			leader := int(sn) % nodes
			var buckets []int
			for bk := leader; bk < 64; bk += nodes {
				buckets = append(buckets, bk)
			}
			var value []byte
			if out := apply(apps[leader], iss.NewRequestProposal(isstest.DefaultID, "o", 0, sn, buckets)); len(out) > 0 {
				value = out[0].(*iss.Proposal).Value
			}
			for _, a := range apps {
				apply(a, &iss.Deliver{Header: stdtypes.NewHeader(isstest.DefaultID), SeqNr: sn, Value: value})
			}
			executed = c.Covered("0")
			sn++
		}
		if err := c.Err(); err != nil {
			b.Fatal(err)
		}
	}
}
