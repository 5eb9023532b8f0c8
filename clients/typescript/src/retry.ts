import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";

/** How UNAVAILABLE calls are retried; also paces WatchRun resumes. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 disables retries. */
  maxAttempts: number;
  /** Upper bound of the first backoff; doubles on each further attempt. */
  initialBackoffMs: number;
  /** Cap of the doubling. */
  maxBackoffMs: number;
}

export const defaultRetryPolicy: Readonly<RetryPolicy> = {
  maxAttempts: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
};

// Reads, plus the calls that only re-check state on the server. Everything
// else (Create*, Update*, Delete*, Trigger*, Retry*, Cancel*, the state verbs,
// ExecutorService) may have taken effect before the connection dropped.
const idempotentPrefixes = ["Get", "List"];
const idempotentMethods = new Set(["VerifyConnection", "ValidateFileSelection"]);

/** Whether a call may be sent again after UNAVAILABLE without acting twice. */
export function isIdempotent(method: DescMethod | string): boolean {
  const name = typeof method === "string" ? method : method.name;
  return idempotentMethods.has(name) || idempotentPrefixes.some((p) => name.startsWith(p));
}

/** Whether an error means the call never reached, or was dropped by, the server. */
export function isUnavailable(e: unknown): boolean {
  return e instanceof ConnectError && e.code === Code.Unavailable;
}

/**
 * "Full jitter" backoff: a random delay up to initial * 2^retry, capped, so
 * that clients dropped together do not come back together.
 */
export function backoffMs(policy: RetryPolicy, retry: number): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** retry);
  return Math.random() * ceiling;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Retries idempotent unary calls that fail with UNAVAILABLE, with exponential
 * backoff and jitter, within the call's own deadline. Streams are left alone:
 * watchRun resumes WatchRun itself, from the last event it delivered.
 */
export function retryInterceptor(options: Partial<RetryPolicy> = {}): Interceptor {
  const policy = { ...defaultRetryPolicy, ...options };
  return (next) => async (req) => {
    if (req.stream || !isIdempotent(req.method)) return next(req);
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(req);
      } catch (e) {
        if (!isUnavailable(e) || attempt >= policy.maxAttempts || req.signal.aborted) throw e;
        await sleep(backoffMs(policy, attempt - 1), req.signal).catch(() => {
          throw e; // the deadline passed while waiting: report the last failure
        });
      }
    }
  };
}
