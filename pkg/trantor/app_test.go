package trantor_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func newAppModule(t *testing.T, app trantor.App) *trantor.AppModule {
	t.Helper()
	m, err := trantor.NewAppModule(app, trantor.DefaultAppModuleConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func txs(n int) []mempool.Tx {
	out := make([]mempool.Tx, n)
	for i := range out {
		out[i] = mempool.Tx{TxID: mempool.TxID{ClientID: "c", TxNo: uint64(i)}, Data: []byte{byte(i)}}
	}
	return out
}

// TestAppExecute: an Execute is applied and its results go to the client
// server, in an Executed of the same slot.
func TestAppExecute(t *testing.T) {
	app := &logApp{}
	m := newAppModule(t, app)
	in := txs(3)
	out, err := m.ApplyEvents(stdtypes.ListOf(
		&stdevents.Init{Header: stdtypes.NewHeader(trantor.AppID)},
		&batchfetcher.Execute{Header: stdtypes.NewHeader(trantor.AppID), Epoch: 2, SeqNr: 40, Txs: in},
	))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 1 {
		t.Fatalf("%d events out, want one Executed", out.Len())
	}
	ex, ok := out.Slice()[0].(*trantor.Executed)
	if !ok || ex.Dest() != trantor.ClientsID || ex.Epoch != 2 || ex.SeqNr != 40 || len(ex.Txs) != 3 || len(ex.Results) != 3 {
		t.Fatalf("got %#v", out.Slice()[0])
	}
	if app.n != 3 || string(ex.Results[2]) != string(app.head[:]) {
		t.Errorf("the results are not the App's: n=%d", app.n)
	}
}

// TestAppSnapshotRestore: a snapshot is the App's state, sent to the
// requester with the request's epoch; restoring it on another node gives
// the same state.
func TestAppSnapshotRestore(t *testing.T) {
	a := &logApp{}
	m := newAppModule(t, a)
	if _, err := m.ApplyEvents(stdtypes.ListOf(&batchfetcher.Execute{Header: stdtypes.NewHeader(trantor.AppID), SeqNr: 1, Txs: txs(5)})); err != nil {
		t.Fatal(err)
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(&batchfetcher.SnapshotRequest{Header: stdtypes.NewHeader(trantor.AppID), ReplyTo: "bf", Epoch: 7, SeqNr: 16}))
	if err != nil {
		t.Fatal(err)
	}
	snap, ok := out.Slice()[0].(*batchfetcher.AppSnapshot)
	if !ok || snap.Dest() != "bf" || snap.Epoch != 7 || len(snap.Data) != logAppStateBytes {
		t.Fatalf("got %#v", out.Slice()[0])
	}
	b := &logApp{}
	if _, err := newAppModule(t, b).ApplyEvents(stdtypes.ListOf(&batchfetcher.RestoreApp{Header: stdtypes.NewHeader(trantor.AppID), Epoch: 7, SeqNr: 16, Data: snap.Data})); err != nil {
		t.Fatal(err)
	}
	if *a != *b {
		t.Errorf("restored %+v, want %+v", b, a)
	}
}

// badApp fails as told, or returns a result too few.
type badApp struct {
	err        error
	fewResults bool
}

func (a *badApp) Apply(txs []mempool.Tx) ([][]byte, error) {
	if a.fewResults {
		return make([][]byte, len(txs)-1), nil
	}
	return nil, a.err
}

func (a *badApp) Snapshot() ([]byte, membership.Voters, error) { return nil, nil, a.err }
func (a *badApp) Restore([]byte) error                         { return a.err }

// TestAppErrors: an App that fails, or returns the wrong number of
// results, stops the node with an error naming the event; so does an
// event the module does not take.
func TestAppErrors(t *testing.T) {
	boom := errors.New("boom")
	h := stdtypes.NewHeader(trantor.AppID)
	for _, tc := range []struct {
		name string
		app  trantor.App
		ev   stdtypes.Event
		want string
	}{
		{"Apply fails", &badApp{err: boom}, &batchfetcher.Execute{Header: h, Txs: txs(1)}, "boom"},
		{"results missing", &badApp{fewResults: true}, &batchfetcher.Execute{Header: h, Txs: txs(2)}, "1 results for 2"},
		{"Snapshot fails", &badApp{err: boom}, &batchfetcher.SnapshotRequest{Header: h, ReplyTo: "bf"}, "boom"},
		{"Restore fails", &logApp{}, &batchfetcher.RestoreApp{Header: h, Data: []byte("short")}, "5 bytes"},
		{"unexpected event", &logApp{}, &mempool.Executed{Header: h}, "unexpected event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newAppModule(t, tc.app).ApplyEvents(stdtypes.ListOf(tc.ev))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestNewAppModuleChecks(t *testing.T) {
	if _, err := trantor.NewAppModule(nil, trantor.DefaultAppModuleConfig(), nil); err == nil {
		t.Error("a nil App accepted")
	}
	if _, err := trantor.NewAppModule(&logApp{}, trantor.AppModuleConfig{Self: trantor.AppID}, nil); err == nil {
		t.Error("no Clients module accepted")
	}
}
