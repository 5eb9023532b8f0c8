package dev.tributary.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Sends an idempotent unary call again, after a backoff, when it fails with UNAVAILABLE (the server
 * restarted, a connection dropped, a load balancer had no backend). The call's deadline covers all
 * attempts; a retry that cannot start before it is not made. Streaming calls and methods that
 * {@link RetryPolicy#isIdempotent} rejects pass through untouched.
 */
final class RetryInterceptor implements ClientInterceptor, AutoCloseable {
  private final RetryPolicy policy;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "tributary-retry");
            thread.setDaemon(true);
            return thread;
          });
  // Calls between two attempts, so that close() can end them.
  private final Set<RetryingCall<?, ?>> waiting = ConcurrentHashMap.newKeySet();

  RetryInterceptor(RetryPolicy policy) {
    this.policy = policy;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    if (policy.maxAttempts() == 1
        || method.getType() != MethodDescriptor.MethodType.UNARY
        || !RetryPolicy.isIdempotent(method)) {
      return next.newCall(method, options);
    }
    return new RetryingCall<>(method, options, next);
  }

  /** Stops retrying: calls waiting for a retry fail at once with their last error. */
  @Override
  public void close() {
    scheduler.shutdownNow();
    waiting.forEach(RetryingCall::giveUp);
  }

  /**
   * Records what the caller sent (one request message for a unary call) so it can be replayed on a
   * new call, and holds back the response until an attempt's outcome is final, so the caller's
   * listener sees exactly one attempt.
   */
  private final class RetryingCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    private final MethodDescriptor<ReqT, RespT> method;
    private final CallOptions options;
    private final Channel next;
    private final Object lock = new Object();

    // Guarded by lock.
    private Context context;
    private Listener<RespT> listener;
    private Metadata headers;
    private ReqT message;
    private int requested;
    private boolean halfClosed;
    private boolean cancelled;
    private int attempts;
    private ClientCall<ReqT, RespT> current;
    // Set between attempts: the scheduled retry and the failure it would replace.
    private ScheduledFuture<?> pendingRetry;
    private Status lastStatus;
    private Metadata lastTrailers;

    RetryingCall(MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
      this.method = method;
      this.options = options;
      this.next = next;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      synchronized (lock) {
        // Retries start on the scheduler's thread: keep the caller's context (its cancellation
        // and deadline) for them.
        this.context = Context.current();
        this.listener = listener;
        this.headers = copy(headers);
        startAttempt();
      }
    }

    // Called with lock held.
    private void startAttempt() {
      attempts++;
      ClientCall<ReqT, RespT> call = next.newCall(method, options);
      current = call;
      Context previous = context.attach();
      try {
        // Each attempt gets its own copy: interceptors below may add headers to it.
        call.start(new AttemptListener(), copy(headers));
      } finally {
        context.detach(previous);
      }
      if (requested > 0) {
        call.request(requested);
      }
      if (message != null) {
        call.sendMessage(message);
      }
      if (halfClosed) {
        call.halfClose();
      }
    }

    @Override
    public void request(int numMessages) {
      synchronized (lock) {
        requested += numMessages;
        current.request(numMessages);
      }
    }

    @Override
    public void sendMessage(ReqT message) {
      synchronized (lock) {
        this.message = message;
        current.sendMessage(message);
      }
    }

    @Override
    public void halfClose() {
      synchronized (lock) {
        halfClosed = true;
        current.halfClose();
      }
    }

    @Override
    public void cancel(String message, Throwable cause) {
      Status status = Status.CANCELLED.withDescription(message).withCause(cause);
      synchronized (lock) {
        if (cancelled) {
          return;
        }
        cancelled = true;
        if (pendingRetry == null) {
          if (current != null) {
            current.cancel(message, cause);
          }
          return;
        }
        if (!stopWaiting()) {
          return; // the retry is starting; it sees cancelled and reports it
        }
      }
      listener.onClose(status, new Metadata());
    }

    @Override
    public boolean isReady() {
      synchronized (lock) {
        return current != null && current.isReady();
      }
    }

    @Override
    public void setMessageCompression(boolean enabled) {
      synchronized (lock) {
        current.setMessageCompression(enabled);
      }
    }

    /** Whether to try again after {@code status}; schedules the retry when so. */
    private boolean scheduleRetry(Status status, Metadata trailers) {
      synchronized (lock) {
        if (cancelled
            || status.getCode() != Status.Code.UNAVAILABLE
            || attempts >= policy.maxAttempts()
            || context.isCancelled()) {
          return false;
        }
        Duration wait = policy.backoff(attempts);
        Deadline deadline = earliest(options.getDeadline(), context.getDeadline());
        if (deadline != null && deadline.timeRemaining(TimeUnit.NANOSECONDS) <= wait.toNanos()) {
          return false;
        }
        // Listed before it is scheduled, so a concurrent close() either finds it or rejects it.
        waiting.add(this);
        try {
          pendingRetry = scheduler.schedule(this::retry, wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException clientClosed) {
          waiting.remove(this);
          return false;
        }
        lastStatus = status;
        lastTrailers = trailers;
        return true;
      }
    }

    private void retry() {
      synchronized (lock) {
        pendingRetry = null;
        waiting.remove(this);
        if (!cancelled) {
          startAttempt();
          return;
        }
      }
      listener.onClose(
          Status.CANCELLED.withDescription("cancelled between attempts"), new Metadata());
    }

    /** Ends a call waiting for its retry with the failure it was going to retry. */
    private void giveUp() {
      synchronized (lock) {
        if (pendingRetry == null || !stopWaiting()) {
          return;
        }
      }
      listener.onClose(lastStatus, lastTrailers);
    }

    // Called with lock held: whether the pending retry was stopped before it ran.
    private boolean stopWaiting() {
      boolean stopped = pendingRetry.cancel(false);
      if (stopped) {
        pendingRetry = null;
        waiting.remove(this);
      }
      return stopped;
    }

    /**
     * Buffers one attempt's response so a failed attempt leaves no trace in the caller's listener.
     */
    private final class AttemptListener extends Listener<RespT> {
      private Metadata responseHeaders;
      private RespT response;

      @Override
      public void onHeaders(Metadata headers) {
        responseHeaders = headers;
      }

      @Override
      public void onMessage(RespT message) {
        response = message;
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        if (response == null && scheduleRetry(status, trailers)) {
          return;
        }
        if (responseHeaders != null) {
          listener.onHeaders(responseHeaders);
        }
        if (response != null) {
          listener.onMessage(response);
        }
        listener.onClose(status, trailers);
      }
    }
  }

  private static Metadata copy(Metadata headers) {
    Metadata copy = new Metadata();
    copy.merge(headers);
    return copy;
  }

  private static Deadline earliest(Deadline a, Deadline b) {
    if (a == null) {
      return b;
    }
    return b == null ? a : a.minimum(b);
  }
}
