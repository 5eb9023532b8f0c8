package dev.tributary.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Gives unary calls without a deadline (none on the stub, none in the current {@link Context}) a
 * deadline, so a hung server cannot block a caller forever. Streams are left alone: a WatchRun may
 * rightly last as long as the run.
 */
final class DefaultDeadlineInterceptor implements ClientInterceptor {
  private final Duration timeout;

  DefaultDeadlineInterceptor(Duration timeout) {
    this.timeout = timeout;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    if (method.getType() == MethodDescriptor.MethodType.UNARY
        && options.getDeadline() == null
        && Context.current().getDeadline() == null) {
      options = options.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    return next.newCall(method, options);
  }
}
