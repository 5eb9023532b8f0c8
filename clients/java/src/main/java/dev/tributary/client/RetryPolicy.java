package dev.tributary.client;

import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: before retry {@code n} (1-based) the client waits a random
 * time in {@code [0, min(maxBackoff, initialBackoff * multiplier^(n-1))]}.
 *
 * <p>{@link TributaryClient} uses one policy for unary calls that may be repeated safely (see
 * {@link #isIdempotent}) and failed with UNAVAILABLE, and one for resuming dropped {@code WatchRun}
 * streams in {@link RunWatcher}.
 *
 * @param maxAttempts attempts in all, including the first; 1 disables retries
 * @param initialBackoff upper bound of the first wait
 * @param maxBackoff upper bound of any wait
 * @param multiplier growth of the bound per attempt
 */
public record RetryPolicy(
    int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier) {

  // Reads and checks that leave the server in the same state however often they run. Everything
  // else (Create*, Update*, Delete*, Trigger*, Retry*, Cancel*, Disable*, …) may act twice.
  private static final List<String> IDEMPOTENT_PREFIXES =
      List.of("Get", "List", "Verify", "Validate");

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
    }
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("need 0 <= initialBackoff <= maxBackoff");
    }
    if (multiplier < 1) {
      throw new IllegalArgumentException("multiplier must be at least 1, got " + multiplier);
    }
  }

  /** Unary calls: 4 attempts, waits of at most 100 ms, 200 ms, 400 ms. */
  public static RetryPolicy defaultUnary() {
    return new RetryPolicy(4, Duration.ofMillis(100), Duration.ofSeconds(2), 2);
  }

  /**
   * WatchRun resumes: up to 10 reconnects in a row that bring no event (about 15 s of waiting at
   * most, enough for a server restart). Any delivered event resets the count.
   */
  public static RetryPolicy defaultWatch() {
    return new RetryPolicy(10, Duration.ofMillis(100), Duration.ofSeconds(3), 2);
  }

  /** A single attempt. */
  public static RetryPolicy none() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 1);
  }

  /**
   * Whether a method of {@code tributary.v1} may be sent again after it failed without an answer:
   * reads ({@code Get*}, {@code List*}) and checks ({@code VerifyConnection}, {@code
   * ValidateFileSelection}). Methods of other services are never retried.
   */
  public static boolean isIdempotent(MethodDescriptor<?, ?> method) {
    return isIdempotent(method.getFullMethodName());
  }

  /**
   * As {@link #isIdempotent(MethodDescriptor)}, for a full name such as {@code
   * tributary.v1.RunService/GetRun}.
   */
  public static boolean isIdempotent(String fullMethodName) {
    String service = MethodDescriptor.extractFullServiceName(fullMethodName);
    if (service == null || !service.startsWith("tributary.v1.")) {
      return false;
    }
    String method = fullMethodName.substring(service.length() + 1);
    return IDEMPOTENT_PREFIXES.stream().anyMatch(method::startsWith);
  }

  /** A random wait before retry number {@code retry} (1 for the first retry). */
  Duration backoff(int retry) {
    double bound = initialBackoff.toNanos() * Math.pow(multiplier, Math.max(0, retry - 1));
    long capped = (long) Math.min(bound, maxBackoff.toNanos());
    return Duration.ofNanos(capped <= 0 ? 0 : ThreadLocalRandom.current().nextLong(capped + 1));
  }
}
