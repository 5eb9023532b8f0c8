package dev.tributary.client;

import dev.tributary.v1.RunEvent;
import dev.tributary.v1.RunServiceGrpc;
import dev.tributary.v1.WatchRunRequest;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The events of one run, from a {@code WatchRun} stream that is resumed whenever it drops, as a
 * blocking {@link Iterator} or a {@link Stream}. Get one from {@link TributaryClient#watchRun}.
 *
 * <p>What it delivers, in order:
 *
 * <ul>
 *   <li>the run's first {@code snapshot} (and, with {@code follow_attempts}, the first snapshot of
 *       each later attempt). Later snapshots, sent when a stream starts or after the watcher
 *       lagged, are not delivered: the watcher instead replays the persisted events it has not yet
 *       seen, so the events alone tell the whole story, each exactly once;
 *   <li>every persisted event ({@code status_changed}, {@code progress}, {@code log}) exactly once,
 *       in sequence order 1, 2, 3 … without gaps. A repeat (sequence at or below the last
 *       delivered) is dropped; a gap, or a lag snapshot ahead of the last delivered event, makes it
 *       reconnect with {@code after_sequence} = the last delivered sequence;
 *   <li>{@code heartbeat} events as they come (filter them out with {@code stream().filter(e ->
 *       !e.hasHeartbeat())}).
 * </ul>
 *
 * <p>A stream that ends with UNAVAILABLE (the server's stream cap, a restart, a dropped connection)
 * is reopened after a backoff; {@link #resumeCount()} says how often that happened. Iteration ends
 * when the server closes the stream normally: after the run's terminal {@code status_changed}, or,
 * with {@code follow_attempts}, after the last attempt's. Any other error, or too many failed
 * reconnects in a row, is thrown from {@link #hasNext()} as a {@link TributaryException}.
 *
 * <p>One thread iterates; {@link #close()} may be called from any thread and stops the iteration.
 */
public final class RunWatcher implements Iterator<RunEvent>, AutoCloseable {
  private final RunServiceGrpc.RunServiceBlockingStub stub;
  private final WatchRunRequest request;
  private final RetryPolicy resumePolicy;

  private volatile String runId;
  private volatile long lastSequence;
  private volatile int resumes;
  private volatile boolean closed;
  private volatile Context.CancellableContext streamContext;
  private boolean snapshotDelivered;
  private Iterator<RunEvent> stream;
  private int eventsOnStream;
  private int dropsInARow;
  private int gapsInARow;
  private RunEvent pending;
  private boolean finished;

  RunWatcher(Channel channel, WatchRunRequest request, RetryPolicy resumePolicy) {
    if (request.getRunId().isEmpty()) {
      throw new IllegalArgumentException("WatchRunRequest.run_id is required");
    }
    this.stub = RunServiceGrpc.newBlockingStub(channel);
    this.request = request;
    this.resumePolicy = resumePolicy;
    this.runId = request.getRunId();
    this.lastSequence = request.getAfterSequence();
  }

  /** Blocks until the next event arrives or the watch ends. */
  @Override
  public boolean hasNext() {
    if (pending == null && !finished) {
      try {
        pending = advance();
      } catch (RuntimeException e) {
        finished = true;
        close();
        throw e;
      }
      finished = pending == null;
    }
    return pending != null;
  }

  @Override
  public RunEvent next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the run's watch has ended");
    }
    RunEvent event = pending;
    pending = null;
    return event;
  }

  /** The remaining events as a sequential stream; closing the stream closes this watcher. */
  public Stream<RunEvent> stream() {
    Spliterator<RunEvent> events =
        Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL);
    return StreamSupport.stream(events, false).onClose(this::close);
  }

  /** How many times the watcher reopened the stream (after a drop, a gap or a lag). */
  public int resumeCount() {
    return resumes;
  }

  /** The run being watched: the requested one, or a later attempt when following attempts. */
  public String runId() {
    return runId;
  }

  /** The sequence of the last persisted event delivered for {@link #runId()} (0: none yet). */
  public long lastSequence() {
    return lastSequence;
  }

  /**
   * Cancels the current stream; iteration then ends. Safe to call more than once, from any thread.
   */
  @Override
  public void close() {
    closed = true;
    Context.CancellableContext context = streamContext;
    if (context != null) {
      context.cancel(null);
    }
  }

  /** The next event to deliver, or null when the watch has ended. */
  private RunEvent advance() {
    while (!closed) {
      if (stream == null) {
        open();
      }
      RunEvent event;
      try {
        if (!stream.hasNext()) {
          endStream();
          return null;
        }
        event = stream.next();
      } catch (StatusRuntimeException e) {
        endStream();
        if (closed) {
          return null;
        }
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
            || ++dropsInARow >= resumePolicy.maxAttempts()) {
          throw TributaryException.from(e);
        }
        resume(dropsInARow);
        continue;
      }
      dropsInARow = 0;
      eventsOnStream++;
      if (accept(event)) {
        return event;
      }
    }
    return null;
  }

  /** Whether to deliver {@code event}; reconnects when it reveals missed events. */
  private boolean accept(RunEvent event) {
    if (request.getFollowAttempts()
        && !event.getRunId().isEmpty()
        && !event.getRunId().equals(runId)) {
      // The server moved on to the next attempt, whose sequences start again at 1.
      runId = event.getRunId();
      lastSequence = 0;
      snapshotDelivered = false;
    }
    switch (event.getEventCase()) {
      case SNAPSHOT:
        if (!snapshotDelivered) {
          snapshotDelivered = true;
          return true;
        }
        // A snapshot in mid-stream means the server dropped events for this slow watcher.
        if (eventsOnStream > 1 && event.getSequence() > lastSequence) {
          reconnectAfterGap(event.getSequence());
        }
        return false;
      case HEARTBEAT:
        return true;
      default:
        // Persisted events; an event type newer than this client is numbered the same way.
        long sequence = event.getSequence();
        if (sequence <= lastSequence) {
          return false;
        }
        if (sequence > lastSequence + 1) {
          reconnectAfterGap(sequence);
          return false;
        }
        lastSequence = sequence;
        gapsInARow = 0;
        return true;
    }
  }

  private void reconnectAfterGap(long seen) {
    endStream();
    if (++gapsInARow >= resumePolicy.maxAttempts()) {
      throw TributaryException.from(
          Status.DATA_LOSS
              .withDescription(
                  "run %s: events after %d still missing (saw %d) after %d reconnects"
                      .formatted(runId, lastSequence, seen, gapsInARow))
              .asRuntimeException());
    }
    resume(gapsInARow);
  }

  private void resume(int failuresInARow) {
    pause(resumePolicy.backoff(failuresInARow));
    resumes++;
  }

  private void open() {
    WatchRunRequest resumeAt =
        request.toBuilder().setRunId(runId).setAfterSequence(lastSequence).build();
    Context.CancellableContext context = Context.current().withCancellation();
    streamContext = context;
    Context previous = context.attach();
    try {
      // The blocking call binds to the attached context, so cancelling it ends the stream.
      stream = stub.watchRun(resumeAt);
    } finally {
      context.detach(previous);
    }
    eventsOnStream = 0;
    if (closed) {
      context.cancel(null);
    }
  }

  private void endStream() {
    Context.CancellableContext context = streamContext;
    if (context != null) {
      context.cancel(null);
    }
    streamContext = null;
    stream = null;
  }

  private void pause(Duration wait) {
    try {
      Thread.sleep(wait.toMillis(), (int) (wait.toNanos() % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw TributaryException.from(
          Status.CANCELLED
              .withDescription("interrupted while resuming WatchRun")
              .withCause(e)
              .asRuntimeException());
    }
  }
}
