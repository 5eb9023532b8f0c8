import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  ResourceInfoSchema,
  type BadRequest_FieldViolation,
  type ErrorInfo,
  type ResourceInfo,
} from "./gen/google/rpc/error_details_pb.js";

/**
 * A failed call, with the google.rpc details Tributary attaches decoded.
 *
 * It is a ConnectError, so `code`, `rawMessage`, `metadata` and
 * `findDetails()` work as in any Connect client; the getters below save
 * callers from decoding the common details themselves. Its `name` stays
 * "ConnectError" because Connect's own `instanceof ConnectError` checks
 * subclasses by name.
 */
export class TributaryError extends ConnectError {
  /** One entry per bad request field (google.rpc.BadRequest). */
  readonly fieldViolations: BadRequest_FieldViolation[];
  /** Machine-readable cause: reason, domain ("tributary.dev") and metadata. */
  readonly errorInfo: ErrorInfo | undefined;
  /** The resource a NOT_FOUND or ALREADY_EXISTS names. */
  readonly resourceInfo: ResourceInfo | undefined;

  constructor(source: ConnectError) {
    super(source.rawMessage, source.code, source.metadata, undefined, source.cause);
    this.details = source.details;
    this.fieldViolations = source.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
    this.errorInfo = source.findDetails(ErrorInfoSchema)[0];
    this.resourceInfo = source.findDetails(ResourceInfoSchema)[0];
  }

  // ConnectError's duck-typed instanceof would accept any ConnectError here.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** Wraps any thrown value; a TributaryError is returned as is. */
  static override from(reason: unknown, code: Code = Code.Unknown): TributaryError {
    if (reason instanceof TributaryError) return reason;
    return new TributaryError(ConnectError.from(reason, code));
  }

  /** The gRPC status name, e.g. "INVALID_ARGUMENT". */
  get codeName(): string {
    return grpcCodeName(this.code);
  }
}

/** "InvalidArgument" (Connect's enum key) -> "INVALID_ARGUMENT" (gRPC's name). */
export function grpcCodeName(code: Code): string {
  const key = Code[code];
  return key === undefined ? `CODE_${code}` : key.replace(/(?<=[a-z])(?=[A-Z])/g, "_").toUpperCase();
}

/**
 * Rethrows every failure of unary and streaming calls as a TributaryError,
 * so callers can rely on the typed details whatever call failed.
 */
export const tributaryErrors: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    if (!res.stream) return res;
    return { ...res, message: rethrowTyped(res.message) };
  } catch (e) {
    throw TributaryError.from(e);
  }
};

async function* rethrowTyped<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (e) {
    throw TributaryError.from(e);
  }
}
