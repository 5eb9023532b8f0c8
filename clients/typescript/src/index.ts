// The wrapper: construction (address, key, TLS, deadlines), typed errors,
// retries and the resuming run watch.
export { TributaryClient, type TributaryClientOptions, type TlsOptions } from "./client.js";
export { TributaryError, grpcCodeName, tributaryErrors } from "./errors.js";
export { defaultRetryPolicy, isIdempotent, retryInterceptor, type RetryPolicy } from "./retry.js";
export { RunWatch, watchRun, defaultWatchRetryPolicy, type WatchRunOptions } from "./watch.js";
export { Code, ConnectError, type CallOptions, type Client, type Interceptor } from "@connectrpc/connect";

// The generated API, as is: services, messages (types and schemas) and enums.
export * from "./gen/tributary/v1/catalog_pb.js";
export * from "./gen/tributary/v1/catalog_service_pb.js";
export * from "./gen/tributary/v1/connection_pb.js";
export * from "./gen/tributary/v1/connection_service_pb.js";
export * from "./gen/tributary/v1/executor_service_pb.js";
export * from "./gen/tributary/v1/run_pb.js";
export * from "./gen/tributary/v1/run_service_pb.js";
export * from "./gen/tributary/v1/sync_pb.js";
export * from "./gen/tributary/v1/sync_service_pb.js";
export * from "./gen/tributary/v1/workspace_pb.js";
export * from "./gen/tributary/v1/workspace_service_pb.js";

// The google.rpc details TributaryError decodes.
export {
  BadRequestSchema,
  ErrorInfoSchema,
  ResourceInfoSchema,
  type BadRequest,
  type BadRequest_FieldViolation,
  type ErrorInfo,
  type ResourceInfo,
} from "./gen/google/rpc/error_details_pb.js";
