package dev.tributary.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import java.util.Optional;

/**
 * A failed call with the server's {@code google.rpc.Status} details decoded: the field violations
 * of a {@code BadRequest}, the {@code ErrorInfo} (reason, domain {@code tributary.dev}, metadata)
 * and the {@code ResourceInfo} of a NOT_FOUND or ALREADY_EXISTS.
 *
 * <p>The stubs throw {@link StatusRuntimeException}; turn one into this with {@link #from}:
 *
 * <pre>{@code
 * try {
 *   client.connections().createConnection(request);
 * } catch (StatusRuntimeException e) {
 *   TributaryException error = TributaryException.from(e);
 *   for (BadRequest.FieldViolation v : error.fieldViolations()) { ... }
 * }
 * }</pre>
 *
 * It is itself a {@link StatusRuntimeException}, so one {@code catch} handles both, and {@link
 * RunWatcher} throws it directly.
 */
public final class TributaryException extends StatusRuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient com.google.rpc.Status statusProto;
  private final transient Optional<ErrorInfo> errorInfo;
  private final transient Optional<ResourceInfo> resourceInfo;
  private final transient List<BadRequest.FieldViolation> fieldViolations;

  private TributaryException(Status status, Metadata trailers) {
    super(status, trailers);
    this.statusProto = toProto(status, trailers);
    this.errorInfo = detail(statusProto, ErrorInfo.class);
    this.resourceInfo = detail(statusProto, ResourceInfo.class);
    this.fieldViolations =
        detail(statusProto, BadRequest.class)
            .map(BadRequest::getFieldViolationsList)
            .orElse(List.of());
  }

  /**
   * The error a failed call raised, decoded. Accepts a {@link StatusRuntimeException}, a {@link
   * io.grpc.StatusException} or anything caused by one (such as the {@code ExecutionException} of a
   * future stub); anything else becomes UNKNOWN.
   */
  public static TributaryException from(Throwable t) {
    if (t instanceof TributaryException e) {
      return e;
    }
    Status status = Status.fromThrowable(t);
    Metadata trailers = Status.trailersFromThrowable(t);
    TributaryException e =
        new TributaryException(status, trailers == null ? new Metadata() : trailers);
    e.setStackTrace(t.getStackTrace());
    return e;
  }

  /** The gRPC status code, e.g. INVALID_ARGUMENT, NOT_FOUND, UNAUTHENTICATED. */
  public Status.Code code() {
    return getStatus().getCode();
  }

  /** The server's message, without the code. */
  public String description() {
    return statusProto.getMessage();
  }

  /**
   * One violation per bad request field ({@code field} is its proto path, e.g. {@code name}); empty
   * when none.
   */
  public List<BadRequest.FieldViolation> fieldViolations() {
    return fieldViolations;
  }

  /** The violation of {@code field}, if the request had one. */
  public Optional<BadRequest.FieldViolation> fieldViolation(String field) {
    return fieldViolations.stream().filter(v -> v.getField().equals(field)).findFirst();
  }

  /** Why the call failed, in machine-readable form: reason (UPPER_SNAKE), domain and metadata. */
  public Optional<ErrorInfo> errorInfo() {
    return errorInfo;
  }

  /** The missing or conflicting resource, on NOT_FOUND and ALREADY_EXISTS. */
  public Optional<ResourceInfo> resourceInfo() {
    return resourceInfo;
  }

  /** The whole {@code google.rpc.Status}, for details this class does not decode. */
  public com.google.rpc.Status statusProto() {
    return statusProto;
  }

  private static com.google.rpc.Status toProto(Status status, Metadata trailers) {
    try {
      return StatusProto.fromStatusAndTrailers(status, trailers);
    } catch (IllegalArgumentException codesDiffer) {
      // Details whose code contradicts the call's status are not trusted.
      return com.google.rpc.Status.newBuilder()
          .setCode(status.getCode().value())
          .setMessage(status.getDescription() == null ? "" : status.getDescription())
          .build();
    }
  }

  private static <T extends Message> Optional<T> detail(
      com.google.rpc.Status status, Class<T> type) {
    for (Any any : status.getDetailsList()) {
      if (any.is(type)) {
        try {
          return Optional.of(any.unpack(type));
        } catch (InvalidProtocolBufferException ignored) {
          // A malformed detail is as good as none; the code and message still stand.
        }
      }
    }
    return Optional.empty();
  }
}
