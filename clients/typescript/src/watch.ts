import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { RunEvent } from "./gen/tributary/v1/run_pb.js";
import type { RunService } from "./gen/tributary/v1/run_service_pb.js";
import { TributaryError } from "./errors.js";
import { backoffMs, isUnavailable, sleep, type RetryPolicy } from "./retry.js";

export interface WatchRunOptions {
  /** Deliver persisted events after this sequence (default 0: all of them). */
  afterSequence?: bigint;
  /** Continue with the run's next attempts (AUTO_RESUME, RetryRun) after each ends. */
  followAttempts?: boolean;
  /** Pass heartbeat events through (default true). */
  heartbeats?: boolean;
  /** Stops the watch; iteration then throws a CANCELED TributaryError. */
  signal?: AbortSignal;
  /**
   * Pacing of resumes. `maxAttempts` bounds the reconnects in a row that get
   * nothing from the server; a stream that delivered something resets it.
   */
  retry?: Partial<RetryPolicy>;
}

export const defaultWatchRetryPolicy: Readonly<RetryPolicy> = {
  maxAttempts: 10,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
};

/**
 * Watches one run (and, with followAttempts, its later attempts) to the end,
 * across dropped streams. Create it with {@link watchRun} and iterate it once.
 *
 * What it delivers, in order:
 * - snapshot: one per run, the first the server sends for it. Later
 *   snapshots (each resumed stream starts with one; the server sends one when
 *   this watcher lagged) are dropped, because the persisted events they
 *   summarise are replayed to it instead, so nothing is lost and a consumer
 *   never sees a run's state move backwards or repeat.
 * - status_changed, progress, log (and any future persisted kind): each
 *   sequence exactly once, in order, with no gaps. Sequences at or below the
 *   last delivered are dropped; a gap makes it reconnect from the last one.
 * - heartbeat: live only, passed through unless `heartbeats: false`.
 *
 * It resumes with WatchRun(after_sequence = last delivered) after UNAVAILABLE
 * (stream duration caps, restarts, load balancers) or a lost connection, with
 * exponential backoff and jitter, and ends when the server closes the stream
 * normally: after the terminal status_changed of the last attempt watched.
 */
export class RunWatch implements AsyncIterable<RunEvent> {
  #runId: string;
  #lastSequence: bigint;
  #resumes = 0;
  #started = false;
  readonly #runs: Client<typeof RunService>;
  readonly #options: WatchRunOptions;
  readonly #policy: RetryPolicy;

  constructor(runs: Client<typeof RunService>, runId: string, options: WatchRunOptions = {}) {
    this.#runs = runs;
    this.#options = options;
    this.#runId = runId;
    this.#lastSequence = options.afterSequence ?? 0n;
    this.#policy = { ...defaultWatchRetryPolicy, ...options.retry };
  }

  /** The run being watched: it changes when followAttempts moves to the next attempt. */
  get runId(): string {
    return this.#runId;
  }

  /** Sequence of the last persisted event delivered for `runId`: a checkpoint to resume from. */
  get lastSequence(): bigint {
    return this.#lastSequence;
  }

  /** How many times the watch opened a new stream after one dropped or skipped events. */
  get resumes(): number {
    return this.#resumes;
  }

  [Symbol.asyncIterator](): AsyncIterator<RunEvent> {
    if (this.#started) throw new Error("a RunWatch can be iterated only once");
    this.#started = true;
    return this.#events();
  }

  async *#events(): AsyncGenerator<RunEvent, void, undefined> {
    const { followAttempts = false, heartbeats = true, signal } = this.#options;
    let snapshotDeliveredFor: string | undefined;
    let failures = 0; // reconnects in a row that got nothing from the server
    for (;;) {
      const call = new AbortController();
      const stopCall = () => call.abort(signal?.reason);
      signal?.addEventListener("abort", stopCall, { once: true });
      let received = false;
      let delivered = false;
      let gap = false;
      let failure: unknown;
      try {
        const stream = this.#runs.watchRun(
          { runId: this.#runId, afterSequence: this.#lastSequence, followAttempts },
          { signal: call.signal },
        );
        for await (const event of stream) {
          signal?.throwIfAborted(); // not even the events already buffered
          received = true;
          if (event.runId !== this.#runId) {
            // followAttempts moved on: the next attempt numbers its events from 1.
            this.#runId = event.runId;
            this.#lastSequence = 0n;
          }
          switch (event.event.case) {
            case "snapshot":
              if (snapshotDeliveredFor === event.runId) continue;
              snapshotDeliveredFor = event.runId;
              yield event;
              continue;
            case "heartbeat":
              if (heartbeats) yield event;
              continue;
          }
          if (event.sequence <= this.#lastSequence) continue;
          if (event.sequence > this.#lastSequence + 1n) {
            gap = true;
            break;
          }
          this.#lastSequence = event.sequence;
          delivered = true;
          yield event;
        }
        if (!gap) return;
      } catch (e) {
        if (signal?.aborted || !isResumable(e, call.signal)) throw TributaryError.from(e);
        failure = e;
      } finally {
        signal?.removeEventListener("abort", stopCall);
        call.abort();
      }

      failures = delivered || (received && !gap) ? 0 : failures + 1;
      if (failures >= this.#policy.maxAttempts) {
        throw failure !== undefined
          ? TributaryError.from(failure)
          : TributaryError.from(
              new ConnectError(`WatchRun kept skipping events after sequence ${this.#lastSequence}`, Code.Internal),
            );
      }
      this.#resumes++;
      try {
        await sleep(backoffMs(this.#policy, failures), signal);
      } catch (e) {
        throw TributaryError.from(e);
      }
    }
  }
}

/** Watches a run across dropped streams; see {@link RunWatch}. */
export function watchRun(runs: Client<typeof RunService>, runId: string, options?: WatchRunOptions): RunWatch {
  return new RunWatch(runs, runId, options);
}

// UNAVAILABLE is what servers and proxies send when they end a stream early.
// A connection that drops without a status surfaces in Connect as CANCELED
// (HTTP/2 stream reset) or ABORTED (ECONNRESET): resumable too, unless this
// side cancelled the call. WatchRun only reads, so resuming never acts twice.
function isResumable(e: unknown, call: AbortSignal): boolean {
  if (isUnavailable(e)) return true;
  return e instanceof ConnectError && !call.aborted && (e.code === Code.Canceled || e.code === Code.Aborted);
}
