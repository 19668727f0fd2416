package messagebuffer_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/messagebuffer"
	"github.com/mirframework/mir/stdtypes"
)

// Proposal is a message for an instance of some protocol.
type Proposal struct {
	stdtypes.MessageBase
	Instance uint64
	Payload  []byte
}

func Example() {
	// Keep at most 16 messages and 1 MiB per peer.
	buf, err := messagebuffer.New[*Proposal]([]stdtypes.NodeID{"1", "2", "3"},
		messagebuffer.Limits{MessagesPerSenderMax: 16, BytesPerSenderMax: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	current := uint64(5) // The instance the node works on.

	// Proposals for later instances arrive early and wait.
	for _, p := range []*Proposal{{Instance: 7}, {Instance: 6}, {Instance: 9}} {
		if err := buf.Store("2", p, len(p.Payload)); err != nil {
			fmt.Println("dropped:", err)
		}
	}
	fmt.Println(buf.Store("8", &Proposal{Instance: 6}, 0)) // Not a member.

	// The node moves to instance 7, skipping 6: process what is current,
	// drop what is past, keep the rest.
	current = 7
	n, err := buf.Iterate(func(from stdtypes.NodeID, p *Proposal) messagebuffer.Action {
		switch {
		case p.Instance == current:
			return messagebuffer.Process
		case p.Instance < current:
			return messagebuffer.Drop
		}
		return messagebuffer.Keep
	}, func(from stdtypes.NodeID, p *Proposal) error {
		fmt.Println("processing instance", p.Instance, "from", from)
		return nil
	})
	fmt.Println(n, err, buf.Len())
	fmt.Printf("%+v\n", buf.Stats())
	// Output:
	// message from an unknown sender: "8"
	// processing instance 7 from 2
	// 1 <nil> 1
	// {Stored:3 Rejected:1 Evicted:0 Processed:1 Dropped:1}
}
