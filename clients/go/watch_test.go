package tributary

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tributaryv1 "github.com/tributary-dev/tributary/clients/go/tributary/v1"
)

// These tests script the server's streams to pin down the watcher's rules;
// live_test.go checks the same against a real server.

var fastReconnect = ReconnectPolicy(RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})

func snapshot(run string, seq int64) *tributaryv1.RunEvent {
	return &tributaryv1.RunEvent{RunId: run, Sequence: seq, Event: &tributaryv1.RunEvent_Snapshot{Snapshot: &tributaryv1.Run{Id: run}}}
}

func logLine(run string, seq int64) *tributaryv1.RunEvent {
	return &tributaryv1.RunEvent{RunId: run, Sequence: seq, Event: &tributaryv1.RunEvent_Log{Log: &tributaryv1.LogLine{Message: fmt.Sprint(seq)}}}
}

func heartbeat(run string, seq int64) *tributaryv1.RunEvent {
	return &tributaryv1.RunEvent{RunId: run, Sequence: seq, Event: &tributaryv1.RunEvent_Heartbeat{Heartbeat: &tributaryv1.Heartbeat{}}}
}

var unavailable = status.Error(codes.Unavailable, "the stream reached --max-stream-duration")

// script is one stream: its events, then end (nil: the server closes it).
type script struct {
	events []*tributaryv1.RunEvent
	end    error
}

// fakeRuns serves the scripts in order and records each WatchRun request.
type fakeRuns struct {
	tributaryv1.RunServiceClient
	scripts  []script
	requests []string // "run_id@after_sequence"
}

func (f *fakeRuns) WatchRun(_ context.Context, in *tributaryv1.WatchRunRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[tributaryv1.RunEvent], error) {
	f.requests = append(f.requests, fmt.Sprintf("%s@%d", in.GetRunId(), in.GetAfterSequence()))
	if len(f.scripts) == 0 {
		return nil, errors.New("fakeRuns: no stream scripted")
	}
	s := f.scripts[0]
	f.scripts = f.scripts[1:]
	return &fakeStream{s: s}, nil
}

type fakeStream struct {
	grpc.ClientStream
	s script
}

func (f *fakeStream) Recv() (*tributaryv1.RunEvent, error) {
	if len(f.s.events) == 0 {
		if f.s.end == nil {
			return nil, io.EOF
		}
		return nil, f.s.end
	}
	ev := f.s.events[0]
	f.s.events = f.s.events[1:]
	return ev, nil
}

// collect runs a watch to its end and names what it delivered:
// "snap:run", "hb:seq" and "run:seq" for persisted events.
func collect(t *testing.T, w *RunWatcher) []string {
	t.Helper()
	var got []string
	for w.Next() {
		ev := w.Event()
		switch ev.GetEvent().(type) {
		case *tributaryv1.RunEvent_Snapshot:
			got = append(got, "snap:"+ev.GetRunId())
		case *tributaryv1.RunEvent_Heartbeat:
			got = append(got, fmt.Sprintf("hb:%d", ev.GetSequence()))
		default:
			got = append(got, fmt.Sprintf("%s:%d", ev.GetRunId(), ev.GetSequence()))
		}
	}
	return got
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestWatchResumesAfterLastDeliveredAndDropsRepeats(t *testing.T) {
	f := &fakeRuns{scripts: []script{
		{[]*tributaryv1.RunEvent{snapshot("a", 0), logLine("a", 1), heartbeat("a", 1), logLine("a", 2)}, unavailable},
		{[]*tributaryv1.RunEvent{snapshot("a", 2), logLine("a", 2), logLine("a", 3)}, nil},
	}}
	w := newRunWatcher(context.Background(), f, "a", fastReconnect)
	check(t, "delivered", collect(t, w), []string{"snap:a", "a:1", "hb:1", "a:2", "a:3"})
	check(t, "requests", f.requests, []string{"a@0", "a@2"})
	if w.Err() != nil || w.Resumes() != 1 || w.LastSequence() != 3 {
		t.Errorf("err %v, resumes %d, last %d; want nil, 1, 3", w.Err(), w.Resumes(), w.LastSequence())
	}
}

func TestWatchReconnectsOnAGapInsteadOfSkipping(t *testing.T) {
	f := &fakeRuns{scripts: []script{
		{[]*tributaryv1.RunEvent{snapshot("a", 0), logLine("a", 1), logLine("a", 3)}, nil},
		{[]*tributaryv1.RunEvent{snapshot("a", 3), logLine("a", 2), logLine("a", 3)}, nil},
	}}
	w := newRunWatcher(context.Background(), f, "a", fastReconnect)
	check(t, "delivered", collect(t, w), []string{"snap:a", "a:1", "a:2", "a:3"})
	check(t, "requests", f.requests, []string{"a@0", "a@1"})
	if w.Err() != nil {
		t.Errorf("err %v", w.Err())
	}
}

func TestWatchGivesUpOnGapsThatNeverFill(t *testing.T) {
	gappy := script{[]*tributaryv1.RunEvent{snapshot("a", 5), logLine("a", 5)}, nil}
	f := &fakeRuns{scripts: []script{gappy, gappy, gappy}}
	w := newRunWatcher(context.Background(), f, "a", fastReconnect)
	check(t, "delivered", collect(t, w), []string{"snap:a"})
	if w.Err() == nil || len(f.requests) != 3 {
		t.Errorf("err %v after %d streams; want an error after 3", w.Err(), len(f.requests))
	}
}

func TestWatchFollowsAttemptsAndResumesOnTheLatest(t *testing.T) {
	f := &fakeRuns{scripts: []script{
		{[]*tributaryv1.RunEvent{snapshot("a", 0), logLine("a", 1), snapshot("b", 0), logLine("b", 1)}, unavailable},
		{[]*tributaryv1.RunEvent{snapshot("b", 2), logLine("b", 1), logLine("b", 2)}, nil},
	}}
	w := newRunWatcher(context.Background(), f, "a", fastReconnect, FollowAttempts())
	check(t, "delivered", collect(t, w), []string{"snap:a", "a:1", "snap:b", "b:1", "b:2"})
	check(t, "requests", f.requests, []string{"a@0", "b@1"})
	if w.RunID() != "b" {
		t.Errorf("RunID %q, want b", w.RunID())
	}
}

func TestWatchStartsAfterSequenceAndSkipsHeartbeats(t *testing.T) {
	f := &fakeRuns{scripts: []script{
		{[]*tributaryv1.RunEvent{snapshot("a", 4), logLine("a", 3), heartbeat("a", 3), logLine("a", 4)}, nil},
	}}
	w := newRunWatcher(context.Background(), f, "a", AfterSequence(2), SkipHeartbeats())
	check(t, "delivered", collect(t, w), []string{"snap:a", "a:3", "a:4"})
	check(t, "requests", f.requests, []string{"a@2"})
}

func TestWatchStopsOnErrorsOtherThanUnavailable(t *testing.T) {
	f := &fakeRuns{scripts: []script{{nil, status.Error(codes.NotFound, "run a not found")}}}
	w := newRunWatcher(context.Background(), f, "a", fastReconnect)
	collect(t, w)
	var e *Error
	if !errors.As(w.Err(), &e) || e.Code() != codes.NotFound || w.Resumes() != 0 {
		t.Errorf("err %v, resumes %d; want a NotFound *Error and no resume", w.Err(), w.Resumes())
	}
}

func TestWatchGivesUpAfterMaxAttemptsFailuresInARow(t *testing.T) {
	down := script{nil, unavailable}
	f := &fakeRuns{scripts: []script{down, down, down, down}}
	w := newRunWatcher(context.Background(), f, "a", fastReconnect)
	collect(t, w)
	if status.Code(w.Err()) != codes.Unavailable || len(f.requests) != 3 || w.Resumes() != 2 {
		t.Errorf("err %v, %d streams, %d resumes; want UNAVAILABLE after 3 streams", w.Err(), len(f.requests), w.Resumes())
	}
}

func TestWatchCloseEndsWithoutError(t *testing.T) {
	f := &fakeRuns{scripts: []script{{[]*tributaryv1.RunEvent{snapshot("a", 0), logLine("a", 1)}, nil}}}
	w := newRunWatcher(context.Background(), f, "a")
	if !w.Next() {
		t.Fatalf("no first event: %v", w.Err())
	}
	w.Close()
	if w.Next() || w.Err() != nil {
		t.Errorf("after Close: Next true or err %v", w.Err())
	}
}

func TestWatchReportsContextCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeRuns{scripts: []script{{nil, status.Error(codes.Canceled, "context canceled")}}}
	w := newRunWatcher(ctx, f, "a")
	collect(t, w)
	if !errors.Is(w.Err(), context.Canceled) {
		t.Errorf("err %v, want context.Canceled", w.Err())
	}
}
