package dev.tributary.client;

import dev.tributary.v1.CatalogServiceGrpc;
import dev.tributary.v1.ConnectionServiceGrpc;
import dev.tributary.v1.ExecutorServiceGrpc;
import dev.tributary.v1.RunServiceGrpc;
import dev.tributary.v1.SyncServiceGrpc;
import dev.tributary.v1.WatchRunRequest;
import dev.tributary.v1.WorkspaceServiceGrpc;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A connection to a Tributary server and the generated {@code tributary.v1} stubs over it, with the
 * API key sent on every call, a default deadline for unary calls, retries of idempotent calls on
 * UNAVAILABLE, and {@link #watchRun} that resumes dropped streams.
 *
 * <pre>{@code
 * try (TributaryClient client = TributaryClient.builder()
 *     .address("127.0.0.1:50051")
 *     .apiKey(System.getenv("TRIBUTARY_API_KEY"))
 *     .plaintext()
 *     .build()) {
 *   Connection c = client.connections().getConnection(
 *       GetConnectionRequest.newBuilder().setConnectionId(id).build());
 * }
 * }</pre>
 *
 * <p>Each accessor returns a new stub, so per-call options compose as usual: {@code
 * client.runs().withDeadlineAfter(5, SECONDS).getRun(…)}. Failed calls throw {@link
 * io.grpc.StatusRuntimeException}; {@link TributaryException#from} decodes its details. A client is
 * thread-safe and meant to be shared; close it to release the connection.
 */
public final class TributaryClient implements AutoCloseable {
  private static final Metadata.Key<String> API_KEY =
      Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);

  private final ManagedChannel managedChannel;
  private final RetryInterceptor retries;
  private final Channel channel;
  private final RetryPolicy watchPolicy;

  private TributaryClient(ManagedChannel managedChannel, Builder builder) {
    this.managedChannel = managedChannel;
    this.retries = new RetryInterceptor(builder.retryPolicy);
    Metadata key = new Metadata();
    key.put(API_KEY, builder.apiKey);
    // The last interceptor runs first: the deadline is set once for all attempts, and each
    // attempt carries the key.
    this.channel =
        ClientInterceptors.intercept(
            managedChannel,
            MetadataUtils.newAttachHeadersInterceptor(key),
            retries,
            new DefaultDeadlineInterceptor(builder.defaultDeadline));
    this.watchPolicy = builder.watchResumePolicy;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The channel with the key, deadline and retry interceptors, for stubs this class has no accessor
   * for.
   */
  public Channel channel() {
    return channel;
  }

  public ConnectionServiceGrpc.ConnectionServiceBlockingStub connections() {
    return ConnectionServiceGrpc.newBlockingStub(channel);
  }

  public ConnectionServiceGrpc.ConnectionServiceFutureStub connectionsFuture() {
    return ConnectionServiceGrpc.newFutureStub(channel);
  }

  public ConnectionServiceGrpc.ConnectionServiceStub connectionsAsync() {
    return ConnectionServiceGrpc.newStub(channel);
  }

  public CatalogServiceGrpc.CatalogServiceBlockingStub catalog() {
    return CatalogServiceGrpc.newBlockingStub(channel);
  }

  public CatalogServiceGrpc.CatalogServiceFutureStub catalogFuture() {
    return CatalogServiceGrpc.newFutureStub(channel);
  }

  public CatalogServiceGrpc.CatalogServiceStub catalogAsync() {
    return CatalogServiceGrpc.newStub(channel);
  }

  public SyncServiceGrpc.SyncServiceBlockingStub syncs() {
    return SyncServiceGrpc.newBlockingStub(channel);
  }

  public SyncServiceGrpc.SyncServiceFutureStub syncsFuture() {
    return SyncServiceGrpc.newFutureStub(channel);
  }

  public SyncServiceGrpc.SyncServiceStub syncsAsync() {
    return SyncServiceGrpc.newStub(channel);
  }

  public RunServiceGrpc.RunServiceBlockingStub runs() {
    return RunServiceGrpc.newBlockingStub(channel);
  }

  public RunServiceGrpc.RunServiceFutureStub runsFuture() {
    return RunServiceGrpc.newFutureStub(channel);
  }

  public RunServiceGrpc.RunServiceStub runsAsync() {
    return RunServiceGrpc.newStub(channel);
  }

  public ExecutorServiceGrpc.ExecutorServiceBlockingStub executor() {
    return ExecutorServiceGrpc.newBlockingStub(channel);
  }

  public ExecutorServiceGrpc.ExecutorServiceFutureStub executorFuture() {
    return ExecutorServiceGrpc.newFutureStub(channel);
  }

  public ExecutorServiceGrpc.ExecutorServiceStub executorAsync() {
    return ExecutorServiceGrpc.newStub(channel);
  }

  public WorkspaceServiceGrpc.WorkspaceServiceBlockingStub workspaces() {
    return WorkspaceServiceGrpc.newBlockingStub(channel);
  }

  public WorkspaceServiceGrpc.WorkspaceServiceFutureStub workspacesFuture() {
    return WorkspaceServiceGrpc.newFutureStub(channel);
  }

  public WorkspaceServiceGrpc.WorkspaceServiceStub workspacesAsync() {
    return WorkspaceServiceGrpc.newStub(channel);
  }

  /** Watches a run from its start until it ends; see {@link RunWatcher}. */
  public RunWatcher watchRun(String runId) {
    return watchRun(WatchRunRequest.newBuilder().setRunId(runId).build());
  }

  /**
   * Watches a run from {@code after_sequence}, and with {@code follow_attempts} through its later
   * attempts; see {@link RunWatcher}. The watch starts on the first {@code hasNext()}.
   */
  public RunWatcher watchRun(WatchRunRequest request) {
    return new RunWatcher(channel, request, watchPolicy);
  }

  /**
   * Closes the connection, waiting up to 5 s for calls in flight. Calls waiting to be retried fail
   * at once with UNAVAILABLE.
   */
  @Override
  public void close() {
    retries.close();
    managedChannel.shutdown();
    try {
      if (!managedChannel.awaitTermination(5, TimeUnit.SECONDS)) {
        managedChannel.shutdownNow();
      }
    } catch (InterruptedException e) {
      managedChannel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Options of a {@link TributaryClient}; {@link #address} and {@link #apiKey} are required. */
  public static final class Builder {
    private String address;
    private String apiKey;
    private boolean plaintext;
    private Path trustedCertificates;
    private Path clientCertificateChain;
    private Path clientPrivateKey;
    private Duration defaultDeadline = Duration.ofSeconds(30);
    private RetryPolicy retryPolicy = RetryPolicy.defaultUnary();
    private RetryPolicy watchResumePolicy = RetryPolicy.defaultWatch();
    private Consumer<ManagedChannelBuilder<?>> channelConfigurer = builder -> {};

    private Builder() {}

    /** The server as {@code host:port}, or any gRPC target such as {@code dns:///host:port}. */
    public Builder address(String address) {
      this.address = Objects.requireNonNull(address, "address");
      return this;
    }

    /** Sent as {@code x-api-key} on every call. */
    public Builder apiKey(String apiKey) {
      this.apiKey = Objects.requireNonNull(apiKey, "apiKey");
      return this;
    }

    /** No TLS, for a local server. Without this the client uses TLS. */
    public Builder plaintext() {
      this.plaintext = true;
      return this;
    }

    /** TLS verified against the system's root certificates (the default). */
    public Builder tls() {
      this.plaintext = false;
      return this;
    }

    /** TLS verified against the CA certificates in this PEM file instead of the system's. */
    public Builder trustedCertificates(Path caPem) {
      this.trustedCertificates = Objects.requireNonNull(caPem, "caPem");
      return tls();
    }

    /** Mutual TLS: present this certificate chain (PEM) and its PKCS#8 PEM private key. */
    public Builder clientCertificate(Path certificateChainPem, Path privateKeyPem) {
      this.clientCertificateChain =
          Objects.requireNonNull(certificateChainPem, "certificateChainPem");
      this.clientPrivateKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      return tls();
    }

    /** The deadline of unary calls that set none (default 30 s). Streams get none. */
    public Builder defaultDeadline(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("defaultDeadline must be positive, got " + timeout);
      }
      this.defaultDeadline = timeout;
      return this;
    }

    /**
     * Retries of idempotent unary calls on UNAVAILABLE ({@link RetryPolicy#none()} to turn off).
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Backoff and bound for reopening dropped WatchRun streams in a row. */
    public Builder watchResumePolicy(RetryPolicy policy) {
      this.watchResumePolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Further channel settings (keepalive, message size, executor…), applied last. */
    public Builder configureChannel(Consumer<ManagedChannelBuilder<?>> configurer) {
      this.channelConfigurer = Objects.requireNonNull(configurer, "configurer");
      return this;
    }

    /** Creates the client; the connection itself is made lazily, on the first call. */
    public TributaryClient build() {
      if (address == null) {
        throw new IllegalStateException("TributaryClient needs an address");
      }
      checkComplete();
      ManagedChannelBuilder<?> channel = Grpc.newChannelBuilder(address, credentials());
      channelConfigurer.accept(channel);
      return new TributaryClient(channel.build(), this);
    }

    /** A client over a channel made elsewhere (tests use in-process channels). */
    TributaryClient build(ManagedChannel channel) {
      checkComplete();
      return new TributaryClient(channel, this);
    }

    private void checkComplete() {
      if (apiKey == null) {
        throw new IllegalStateException("TributaryClient needs an API key");
      }
    }

    private ChannelCredentials credentials() {
      if (plaintext) {
        if (trustedCertificates != null || clientCertificateChain != null) {
          throw new IllegalStateException("certificates were given for a plaintext connection");
        }
        return InsecureChannelCredentials.create();
      }
      TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
      try {
        if (trustedCertificates != null) {
          tls.trustManager(trustedCertificates.toFile());
        }
        if (clientCertificateChain != null) {
          tls.keyManager(clientCertificateChain.toFile(), clientPrivateKey.toFile());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read TLS certificates or key", e);
      }
      return tls.build();
    }
  }
}
