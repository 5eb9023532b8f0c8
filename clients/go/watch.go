package tributary

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tributaryv1 "github.com/tributary-dev/tributary/clients/go/tributary/v1"
)

// DefaultReconnectPolicy is how a [RunWatcher] reconnects: it gives up after
// 8 streams ended in a row with nothing received in between (5 to 11 s of
// outage), or 8 sequence gaps in a row with no new event in between.
var DefaultReconnectPolicy = RetryPolicy{MaxAttempts: 8, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second}

// WatchOption configures [Client.WatchRun].
type WatchOption func(*watchConfig)

type watchConfig struct {
	after          int64
	followAttempts bool
	skipHeartbeats bool
	policy         RetryPolicy
}

// AfterSequence starts after the persisted event seq, as when resuming a
// watch that an earlier process delivered up to seq. The snapshot still
// comes first.
func AfterSequence(seq int64) WatchOption { return func(c *watchConfig) { c.after = seq } }

// FollowAttempts goes on with the run's next attempt (a retry or an
// auto-resume) after its terminal event, and so on to the last attempt.
// The next attempt's events carry its own run_id, start with its snapshot,
// and number their sequences from 1 again.
func FollowAttempts() WatchOption { return func(c *watchConfig) { c.followAttempts = true } }

// SkipHeartbeats leaves out heartbeat events (live-only liveness and
// running totals).
func SkipHeartbeats() WatchOption { return func(c *watchConfig) { c.skipHeartbeats = true } }

// ReconnectPolicy replaces [DefaultReconnectPolicy].
func ReconnectPolicy(p RetryPolicy) WatchOption { return func(c *watchConfig) { c.policy = p } }

// RunWatcher delivers the events of a run in order, exactly once, across
// dropped streams. It is a scanner:
//
//	w := client.WatchRun(ctx, runID)
//	defer w.Close()
//	for w.Next() {
//		ev := w.Event() // *tributaryv1.RunEvent
//	}
//	if err := w.Err(); err != nil { … }
//
// What it delivers: the run's snapshot first; then every persisted event
// (status_changed, progress, log) once, in sequence order 1, 2, 3 … with
// none skipped; and heartbeats as they come, unless [SkipHeartbeats]. It ends
// when the server closes the stream after the terminal status_changed
// (Next returns false and Err is nil).
//
// When a stream ends with UNAVAILABLE (a server restart, a load balancer or
// --max-stream-duration cutting it, a lost connection) it reconnects with
// backoff and resumes after the last persisted event it delivered. Events
// it already delivered are dropped; when a persisted event comes with a
// sequence beyond the next one, it reconnects to replay the missing ones.
//
// Later snapshots (one opens every resumed stream; the server sends another
// when the watcher lagged) are not delivered: with no event missed or
// repeated, the caller's view is already current. With [FollowAttempts],
// each new attempt's first snapshot is delivered, as it is a new run.
//
// A RunWatcher is for one goroutine, except Close, which may be called from
// any goroutine to stop it.
type RunWatcher struct {
	ctx    context.Context
	cancel context.CancelFunc
	runs   tributaryv1.RunServiceClient
	cfg    watchConfig
	closed atomic.Bool

	stream       grpc.ServerStreamingClient[tributaryv1.RunEvent]
	streamCancel context.CancelFunc

	runID        string // the run being watched: a later attempt's with FollowAttempts
	last         int64  // sequence of the last persisted event delivered on runID
	snapshotSent bool   // runID's first snapshot was delivered
	failures     int    // streams ended in a row with nothing received in between
	gaps         int    // gaps in a row with no new persisted event between them
	resumes      int

	event *tributaryv1.RunEvent
	err   error
	done  bool
}

// WatchRun watches a run from its snapshot to its end; see [RunWatcher]. It
// does not block: the first Next opens the stream. Cancelling ctx stops it
// (Err is then ctx's error).
func (c *Client) WatchRun(ctx context.Context, runID string, opts ...WatchOption) *RunWatcher {
	return newRunWatcher(ctx, c.Runs, runID, opts...)
}

func newRunWatcher(ctx context.Context, runs tributaryv1.RunServiceClient, runID string, opts ...WatchOption) *RunWatcher {
	cfg := watchConfig{policy: DefaultReconnectPolicy}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(ctx)
	return &RunWatcher{ctx: ctx, cancel: cancel, runs: runs, cfg: cfg, runID: runID, last: cfg.after}
}

// Next waits for the next event; false when the watch ended (see Err).
func (w *RunWatcher) Next() bool {
	for !w.done {
		if w.closed.Load() {
			w.finish(nil)
			break
		}
		if w.stream == nil {
			if err := w.open(); err != nil {
				w.reconnect(err, status.Code(err) == codes.Unavailable)
				continue
			}
		}
		ev, err := w.stream.Recv()
		if errors.Is(err, io.EOF) {
			w.finish(nil) // the server closed the stream after the end
			continue
		}
		if err != nil {
			w.reconnect(err, status.Code(err) == codes.Unavailable)
			continue
		}
		w.failures = 0
		switch w.accept(ev) {
		case deliver:
			w.event = ev
			return true
		case gap:
			w.gaps++
			w.reconnect(fmt.Errorf("tributary: watch of run %s: sequence %d came after %d, %d times in a row",
				w.runID, ev.GetSequence(), w.last, w.gaps), true)
		}
	}
	return false
}

// Event is the event the last successful Next delivered.
func (w *RunWatcher) Event() *tributaryv1.RunEvent { return w.event }

// Err is why the watch stopped: nil when the run ended (or Close was
// called), ctx's error when it was cancelled, else the last error, e.g. an
// [*Error] with code NOT_FOUND, or UNAVAILABLE once reconnects ran out.
func (w *RunWatcher) Err() error { return w.err }

// Resumes counts the streams opened after the first one.
func (w *RunWatcher) Resumes() int { return w.resumes }

// RunID is the run being watched: with FollowAttempts, the latest attempt
// seen.
func (w *RunWatcher) RunID() string { return w.runID }

// LastSequence is the sequence of the last persisted event delivered for
// RunID: pass it to [AfterSequence] to resume the watch elsewhere.
func (w *RunWatcher) LastSequence() int64 { return w.last }

// Close stops the watch and releases its stream. Next then returns false
// and Err is nil.
func (w *RunWatcher) Close() error {
	w.closed.Store(true)
	w.cancel()
	return nil
}

func (w *RunWatcher) open() error {
	ctx, cancel := context.WithCancel(w.ctx)
	s, err := w.runs.WatchRun(ctx, &tributaryv1.WatchRunRequest{
		RunId:          w.runID,
		AfterSequence:  w.last,
		FollowAttempts: w.cfg.followAttempts,
	})
	if err != nil {
		cancel()
		return err
	}
	w.stream, w.streamCancel = s, cancel
	return nil
}

// reconnect drops the stream and, when resumable and attempts remain,
// waits before the next one; otherwise it ends the watch with err.
func (w *RunWatcher) reconnect(err error, resumable bool) {
	w.dropStream()
	w.failures++ // reset when a stream sends something
	if w.ctx.Err() != nil {
		w.finish(w.ctx.Err())
		return
	}
	limit := w.cfg.policy.MaxAttempts
	if !resumable || w.failures >= limit || w.gaps >= limit || !w.cfg.policy.wait(w.ctx, w.failures-1+w.gaps) {
		w.finish(contextError(w.ctx, asError(err)))
		return
	}
	w.resumes++
}

func (w *RunWatcher) dropStream() {
	if w.stream != nil {
		w.streamCancel()
		w.stream = nil
	}
}

func (w *RunWatcher) finish(err error) {
	if w.closed.Load() {
		err = nil
	}
	w.dropStream()
	w.cancel()
	w.done, w.err, w.event = true, err, nil
}

type verdict int

const (
	skip verdict = iota
	deliver
	gap
)

// accept decides what to do with ev and keeps the watcher's place.
func (w *RunWatcher) accept(ev *tributaryv1.RunEvent) verdict {
	if w.cfg.followAttempts && ev.GetRunId() != "" && ev.GetRunId() != w.runID {
		// The server moved on to the next attempt: a new run, numbered from 1.
		w.runID, w.last, w.snapshotSent = ev.GetRunId(), 0, false
	}
	switch ev.GetEvent().(type) {
	case *tributaryv1.RunEvent_Snapshot:
		if w.snapshotSent {
			return skip
		}
		w.snapshotSent = true
		return deliver
	case *tributaryv1.RunEvent_Heartbeat:
		if w.cfg.skipHeartbeats {
			return skip
		}
		return deliver
	}
	// Persisted events, and kinds newer than this client, which are numbered
	// the same way.
	switch seq := ev.GetSequence(); {
	case seq <= w.last:
		return skip
	case seq == w.last+1:
		w.last, w.gaps = seq, 0
		return deliver
	default:
		return gap
	}
}
