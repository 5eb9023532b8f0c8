package tributary_test

// Tests against a live server: TRIBUTARY_ADDR (plaintext host:port) and
// TRIBUTARY_API_KEY (an admin key), as `clients/serve-for-tests` exports.
// That server cuts every stream after 1 s, which the watch test relies on.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	tributary "github.com/tributary-dev/tributary/clients/go"
	tributaryv1 "github.com/tributary-dev/tributary/clients/go/tributary/v1"
)

func liveClient(t *testing.T, key string) *tributary.Client {
	t.Helper()
	addr := os.Getenv("TRIBUTARY_ADDR")
	if key == "" {
		key = os.Getenv("TRIBUTARY_API_KEY")
	}
	if addr == "" || key == "" {
		t.Fatal(`TRIBUTARY_ADDR and TRIBUTARY_API_KEY must point at a running server: eval "$(bash clients/serve-for-tests)"`)
	}
	c, err := tributary.New(addr, key, tributary.WithPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// asError fails the test unless err is an *Error with the code.
func asError(t *testing.T, err error, code codes.Code) *tributary.Error {
	t.Helper()
	var e *tributary.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want a *tributary.Error", err, err)
	}
	if e.Code() != code {
		t.Fatalf("got %s (%v), want %s", e.Code(), e, code)
	}
	return e
}

func fakerConnection(t *testing.T, c *tributary.Client, name string, config map[string]any) *tributaryv1.Connection {
	t.Helper()
	cfg, err := structpb.NewStruct(config)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.Connections.CreateConnection(testContext(t), &tributaryv1.CreateConnectionRequest{
		Name: fmt.Sprintf("%s %d", name, time.Now().UnixNano()), Provider: "faker", Config: cfg,
	})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	return conn
}

func TestLiveConnectionCRUD(t *testing.T) {
	c, ctx := liveClient(t, ""), testContext(t)
	created := fakerConnection(t, c, "crud", map[string]any{"row_count": 10})

	got, err := c.Connections.GetConnection(ctx, &tributaryv1.GetConnectionRequest{ConnectionId: created.GetId()})
	if err != nil || got.GetName() != created.GetName() || got.GetEtag() != created.GetEtag() {
		t.Fatalf("GetConnection: %v, %v; want %v", got, err, created)
	}

	list, err := c.Connections.ListConnections(ctx, &tributaryv1.ListConnectionsRequest{Q: created.GetName()})
	if err != nil || !slices.ContainsFunc(list.GetConnections(), func(x *tributaryv1.Connection) bool { return x.GetId() == created.GetId() }) {
		t.Fatalf("ListConnections(q=%q): %v, %v; want it listed", created.GetName(), list, err)
	}

	renamed := created.GetName() + " renamed"
	updated, err := c.Connections.UpdateConnection(ctx, &tributaryv1.UpdateConnectionRequest{
		ConnectionId: created.GetId(), Name: &renamed, Etag: created.GetEtag(),
	})
	if err != nil || updated.GetName() != renamed || updated.GetEtag() == created.GetEtag() {
		t.Fatalf("UpdateConnection: %v, %v; want the new name and a new etag", updated, err)
	}
	// The old etag is stale now: the server refuses the lost update.
	_, err = c.Connections.UpdateConnection(ctx, &tributaryv1.UpdateConnectionRequest{
		ConnectionId: created.GetId(), Name: &renamed, Etag: created.GetEtag(),
	})
	asError(t, err, codes.Aborted)

	if _, err := c.Connections.DeleteConnection(ctx, &tributaryv1.DeleteConnectionRequest{ConnectionId: created.GetId()}); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	_, err = c.Connections.GetConnection(ctx, &tributaryv1.GetConnectionRequest{ConnectionId: created.GetId()})
	if e := asError(t, err, codes.NotFound); e.Reason() == "" {
		t.Errorf("NOT_FOUND without ErrorInfo: %v", e)
	}
}

func TestLiveBadRequestCarriesFieldViolations(t *testing.T) {
	c := liveClient(t, "")
	_, err := c.Connections.CreateConnection(testContext(t), &tributaryv1.CreateConnectionRequest{Name: "", Provider: "faker"})
	e := asError(t, err, codes.InvalidArgument)
	fields := []string{}
	for _, v := range e.FieldViolations() {
		fields = append(fields, v.GetField())
		if v.GetDescription() == "" {
			t.Errorf("violation of %s has no description", v.GetField())
		}
	}
	if !slices.Contains(fields, "name") {
		t.Errorf("field violations on %v, want one on name", fields)
	}
	if info := e.ErrorInfo(); info.GetDomain() != "tributary.dev" || info.GetReason() == "" {
		t.Errorf("ErrorInfo %v, want a reason in domain tributary.dev", info)
	}
}

func TestLiveBadKeyIsUnauthenticated(t *testing.T) {
	c := liveClient(t, "not-a-real-key")
	_, err := c.Connections.ListConnections(testContext(t), &tributaryv1.ListConnectionsRequest{})
	asError(t, err, codes.Unauthenticated)
}

// TestLiveWatchSurvivesStreamCuts watches a run of about 4 s (two entities
// of 3000 rows at 1000 rows/s) while the server cuts every stream after 1 s:
// the watcher must resume and deliver each persisted event exactly once, in
// order, to the terminal one.
func TestLiveWatchSurvivesStreamCuts(t *testing.T) {
	c, ctx := liveClient(t, ""), testContext(t)
	conn := fakerConnection(t, c, "watch", map[string]any{"row_count": 3000, "rows_per_second": 1000})
	sync, err := c.Syncs.CreateSync(ctx, &tributaryv1.CreateSyncRequest{
		Name: conn.GetName(), ConnectionId: conn.GetId(), Entities: []string{"users", "orders"},
		// A destination table belongs to one sync: not the default names.
		TableBindings: []*tributaryv1.TableBinding{
			{EntityKey: "users", PhysicalTableName: fmt.Sprintf("go_watch_users_%d", time.Now().UnixNano())},
			{EntityKey: "orders", PhysicalTableName: fmt.Sprintf("go_watch_orders_%d", time.Now().UnixNano())},
		},
	})
	if err != nil {
		t.Fatalf("CreateSync: %v", err)
	}
	run, err := c.Syncs.TriggerSync(ctx, &tributaryv1.TriggerSyncRequest{SyncId: sync.GetId(), RunMode: tributaryv1.RunMode_RUN_MODE_FULL_REFRESH})
	if err != nil {
		t.Fatalf("TriggerSync: %v", err)
	}

	w := c.WatchRun(ctx, run.GetId())
	defer w.Close()
	var seqs []int64
	var first, last *tributaryv1.RunEvent
	for w.Next() {
		ev := w.Event()
		if first == nil {
			first = ev
		}
		switch ev.GetEvent().(type) {
		case *tributaryv1.RunEvent_Snapshot:
			if ev != first {
				t.Errorf("a second snapshot was delivered at sequence %d", ev.GetSequence())
			}
		case *tributaryv1.RunEvent_Heartbeat:
		default:
			seqs, last = append(seqs, ev.GetSequence()), ev
		}
	}
	if err := w.Err(); err != nil {
		t.Fatalf("watch: %v", err)
	}

	if first.GetSnapshot().GetId() != run.GetId() {
		t.Errorf("first event %v, want the run's snapshot", first)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("persisted sequences %v, want 1..%d without gaps or repeats", seqs, len(seqs))
		}
	}
	if to := last.GetStatusChanged().GetTo(); to != tributaryv1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Errorf("last event %v, want status_changed to SUCCEEDED", last)
	}
	if w.Resumes() < 1 {
		t.Errorf("resumed %d times; the server cuts streams every second, so a run of a few seconds needs at least one", w.Resumes())
	}
	// Nothing persisted after what the watcher delivered.
	final, err := c.Runs.GetRun(ctx, &tributaryv1.GetRunRequest{RunId: run.GetId()})
	if err != nil || final.GetLastEventSequence() != int64(len(seqs)) {
		t.Errorf("GetRun: last_event_sequence %d (%v), delivered %d", final.GetLastEventSequence(), err, len(seqs))
	}
	t.Logf("%d persisted events over %d resumed streams", len(seqs), w.Resumes())

	// Replaying the ended run from a sequence delivers the rest and ends.
	n := int64(len(seqs))
	replay := c.WatchRun(ctx, run.GetId(), tributary.AfterSequence(n-2))
	defer replay.Close()
	var replayed []int64
	for replay.Next() {
		if replay.Event().GetSnapshot() == nil {
			replayed = append(replayed, replay.Event().GetSequence())
		}
	}
	if replay.Err() != nil || !slices.Equal(replayed, []int64{n - 1, n}) {
		t.Errorf("replay after %d: %v, %v; want [%d %d]", n-2, replayed, replay.Err(), n-1, n)
	}
}

func TestLiveWatchUnknownRunIsNotFound(t *testing.T) {
	c := liveClient(t, "")
	w := c.WatchRun(testContext(t), "00000000-0000-7000-8000-000000000000")
	defer w.Close()
	if w.Next() {
		t.Fatalf("delivered %v for a run that does not exist", w.Event())
	}
	asError(t, w.Err(), codes.NotFound)
}
