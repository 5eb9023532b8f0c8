import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { CatalogService } from "./gen/tributary/v1/catalog_service_pb.js";
import { ConnectionService } from "./gen/tributary/v1/connection_service_pb.js";
import { ExecutorService } from "./gen/tributary/v1/executor_service_pb.js";
import { RunService } from "./gen/tributary/v1/run_service_pb.js";
import { SyncService } from "./gen/tributary/v1/sync_service_pb.js";
import { WorkspaceService } from "./gen/tributary/v1/workspace_service_pb.js";
import { tributaryErrors } from "./errors.js";
import { retryInterceptor, type RetryPolicy } from "./retry.js";
import { RunWatch, type WatchRunOptions } from "./watch.js";

/** TLS with a private CA and/or a client certificate (mutual TLS); PEM text. */
export interface TlsOptions {
  /** CA certificates to trust instead of the system roots. */
  ca?: string | Buffer;
  /** Client certificate chain, for servers started with --tls-client-ca. */
  cert?: string | Buffer;
  /** The client certificate's private key. */
  key?: string | Buffer;
  /** Name to verify the server certificate against, when it differs from the address's host. */
  serverName?: string;
}

export interface TributaryClientOptions {
  /** The server's "host:port", e.g. "127.0.0.1:50051" or "tributary.internal:443". */
  address: string;
  /** Sent as `x-api-key` on every call. */
  apiKey: string;
  /**
   * `true` (default): TLS verified against the system roots; `false`:
   * plaintext (local servers); an object: a custom CA and/or a client
   * certificate.
   */
  tls?: boolean | TlsOptions;
  /**
   * Deadline of unary calls that set no `timeoutMs` of their own, retries
   * included (default 30 s; 0: none). Streams such as WatchRun get none.
   */
  defaultTimeoutMs?: number;
  /** Retries of idempotent calls on UNAVAILABLE; `false` turns them off. */
  retry?: Partial<RetryPolicy> | false;
  /** More interceptors, run once per call (outside the retries). */
  interceptors?: Interceptor[];
}

/**
 * The Tributary API over gRPC (HTTP/2): one Connect client per service,
 * generated from proto/tributary/v1, sharing one connection.
 *
 * Every call carries the API key; every failure is a {@link TributaryError}.
 */
export class TributaryClient {
  readonly connections: Client<typeof ConnectionService>;
  readonly catalog: Client<typeof CatalogService>;
  readonly syncs: Client<typeof SyncService>;
  readonly runs: Client<typeof RunService>;
  readonly workspaces: Client<typeof WorkspaceService>;
  readonly executor: Client<typeof ExecutorService>;
  /** The underlying transport, for clients of other services on the same connection. */
  readonly transport: Transport;
  readonly #session: Http2SessionManager;
  readonly #closed = new AbortController();

  constructor(options: TributaryClientOptions) {
    const { address, apiKey, tls = true, defaultTimeoutMs = 30_000, retry = {} } = options;
    if (!address || address.includes("://")) {
      throw new TypeError(
        `address must be "host:port", got ${JSON.stringify(address)}; choose TLS with the tls option`,
      );
    }
    if (!apiKey) throw new TypeError("apiKey is required");
    const baseUrl = `${tls === false ? "http" : "https"}://${address}`;
    this.#session = new Http2SessionManager(baseUrl, {}, nodeTlsOptions(tls));

    const sendApiKey: Interceptor = (next) => (req) => {
      req.header.set("x-api-key", apiKey);
      return next(req);
    };
    const interceptors = [tributaryErrors, ...(options.interceptors ?? [])];
    if (retry !== false) interceptors.push(retryInterceptor(retry));
    interceptors.push(sendApiKey);

    const grpc = createGrpcTransport({ baseUrl, sessionManager: this.#session, interceptors });
    this.transport = defaultTimeoutMs > 0 ? withUnaryTimeout(grpc, defaultTimeoutMs) : grpc;
    this.connections = createClient(ConnectionService, this.transport);
    this.catalog = createClient(CatalogService, this.transport);
    this.syncs = createClient(SyncService, this.transport);
    this.runs = createClient(RunService, this.transport);
    this.workspaces = createClient(WorkspaceService, this.transport);
    this.executor = createClient(ExecutorService, this.transport);
  }

  /** Watches a run to its end across dropped streams; see {@link RunWatch}. */
  watchRun(runId: string, options: WatchRunOptions = {}): RunWatch {
    // close() ends the watch; otherwise the dropped stream would be resumed.
    const signals = [this.#closed.signal, ...(options.signal ? [options.signal] : [])];
    return new RunWatch(this.runs, runId, { ...options, signal: AbortSignal.any(signals) });
  }

  /** Closes the connection: calls and watches in flight end with CANCELED. */
  close(): void {
    this.#closed.abort(new ConnectError("client closed", Code.Canceled));
    this.#session.abort();
  }
}

function nodeTlsOptions(tls: boolean | TlsOptions) {
  if (typeof tls === "boolean") return {};
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    throw new TypeError("tls.cert and tls.key go together (mutual TLS)");
  }
  return { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName };
}

// Connect's transport-wide defaultTimeoutMs would also end long-lived streams
// such as WatchRun, so the default deadline is added to unary calls only.
function withUnaryTimeout(inner: Transport, timeoutMs: number): Transport {
  return {
    unary: (method, signal, callTimeoutMs, header, input, contextValues) =>
      inner.unary(method, signal, callTimeoutMs ?? timeoutMs, header, input, contextValues),
    stream: (method, signal, callTimeoutMs, header, input, contextValues) =>
      inner.stream(method, signal, callTimeoutMs, header, input, contextValues),
  };
}
