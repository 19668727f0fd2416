package kvstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/samples/kvstore"
)

// The Porcupine model of the store: a register per key (the empty value
// until written), with the store's Get, Put and CAS. Histories are
// partitioned by key: the store is linearizable if each key is.

// kvModel is the sequential specification of one key. Its state is the
// key's value, as a string.
var kvModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		v, op, r := state.(string), input.(kvstore.Op), output.(kvstore.Result)
		switch op.Kind {
		case kvstore.Get:
			return r.Status == kvstore.OK && string(r.Value) == v, v
		case kvstore.Put:
			return r.Status == kvstore.OK, string(op.Value)
		case kvstore.CAS:
			if v == string(op.Old) {
				return r.Status == kvstore.OK && string(r.Value) == string(op.Value), string(op.Value)
			}
			return r.Status == kvstore.Mismatch && string(r.Value) == v, v
		}
		return false, v
	},
	DescribeOperation: func(input, output any) string {
		op, r := input.(kvstore.Op), output.(kvstore.Result)
		return fmt.Sprintf("%v(%q, old %q, new %q) -> %v %q", op.Kind, op.Key, op.Old, op.Value, r.Status, r.Value)
	},
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	var keys []string
	for _, op := range history {
		k := string(op.Input.(kvstore.Op).Key)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], op)
	}
	slices.Sort(keys)
	out := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

// porcupineHistory turns the clients' history into Porcupine's: each
// key operation with its decoded result, its call (first submission) and
// return (the f+1-th matching result) in simulated nanoseconds. It skips
// SetVoters, which touches no key, and fails on an operation that was
// not answered or whose result does not decode.
func porcupineHistory(h []trantortest.Op) ([]porcupine.Operation, error) {
	clients := map[string]int{}
	var out []porcupine.Operation
	for _, o := range h {
		op, err := kvstore.DecodeOp(o.Data)
		if err != nil {
			return nil, fmt.Errorf("%s/%d: %w", o.ClientID, o.TxNo, err)
		}
		if op.Kind == kvstore.SetVoters {
			continue
		}
		if !o.Done {
			return nil, fmt.Errorf("%s/%d (%v) not answered", o.ClientID, o.TxNo, op.Kind)
		}
		r, err := kvstore.DecodeResult(o.Result)
		if err != nil {
			return nil, fmt.Errorf("%s/%d: %w", o.ClientID, o.TxNo, err)
		}
		id, ok := clients[o.ClientID]
		if !ok {
			id = len(clients)
			clients[o.ClientID] = id
		}
		out = append(out, porcupine.Operation{ClientId: id, Input: op, Call: int64(o.Call), Output: r, Return: int64(o.Return)})
	}
	return out, nil
}

// checkTimeout bounds Porcupine's search on one history: the histories of
// the tests, of a few keys and a few clients, take milliseconds; past it
// the verdict is Unknown, which fails the test.
const checkTimeout = 30 * time.Second

// checkLinearizable checks the history with Porcupine.
func checkLinearizable(h []trantortest.Op) error {
	ops, err := porcupineHistory(h)
	if err != nil {
		return err
	}
	switch res := porcupine.CheckOperationsTimeout(kvModel, ops, checkTimeout); res {
	case porcupine.Ok:
		return nil
	default:
		return fmt.Errorf("porcupine: the history of %d operations is %v", len(ops), res)
	}
}

// TestModelCatches: the model and checker tell linearizable histories of
// the store from histories that are not: a stale read, a lost write, two
// CAS from one value both succeeding, a read of a value never written.
func TestModelCatches(t *testing.T) {
	type step struct {
		client    string
		op        kvstore.Op
		res       kvstore.Result
		call, ret time.Duration
	}
	ok := func(v string) kvstore.Result { return kvstore.Result{Status: kvstore.OK, Value: []byte(v)} }
	for _, tc := range []struct {
		name  string
		steps []step
		want  bool
	}{
		{"sequential", []step{{"a", put("x", "1"), ok(""), 0, 1}, {"b", get("x"), ok("1"), 2, 3}, {"a", cas("x", "1", "2"), ok("2"), 4, 5}}, true},
		{"concurrent read of either", []step{{"a", put("x", "1"), ok(""), 0, 10}, {"b", get("x"), ok(""), 1, 2}, {"c", get("x"), ok("1"), 3, 4}}, true},
		{"keys apart", []step{{"a", put("x", "1"), ok(""), 0, 1}, {"b", get("y"), ok(""), 2, 3}}, true},
		{"stale read", []step{{"a", put("x", "1"), ok(""), 0, 1}, {"b", get("x"), ok(""), 2, 3}}, false},
		{"lost write", []step{{"a", put("x", "1"), ok(""), 0, 1}, {"a", put("x", "2"), ok(""), 2, 3}, {"b", get("x"), ok("1"), 4, 5}}, false},
		{"two CAS win", []step{{"a", cas("x", "", "1"), ok("1"), 0, 10}, {"b", cas("x", "", "2"), ok("2"), 0, 10}}, false},
		{"read from nowhere", []step{{"a", get("x"), ok("7"), 0, 1}}, false},
		{"read goes back", []step{{"a", put("x", "1"), ok(""), 0, 10}, {"b", get("x"), ok("1"), 1, 2}, {"c", get("x"), ok(""), 3, 4}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h []trantortest.Op
			for i, s := range tc.steps {
				h = append(h, trantortest.Op{ClientID: s.client, TxNo: uint64(i), Data: encode(t, s.op), Result: s.res.Encode(), Call: s.call, Return: s.ret, Done: true})
			}
			if err := checkLinearizable(h); (err == nil) != tc.want {
				t.Errorf("linearizable: %v, want %v", err, tc.want)
			}
		})
	}
	if err := checkLinearizable([]trantortest.Op{{ClientID: "a", Data: encode(t, get("x"))}}); err == nil {
		t.Error("an operation not answered passed")
	}
}
