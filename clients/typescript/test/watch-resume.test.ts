// The watch helper's resume rules, on scripted streams (no server needed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { RunStatus, TributaryError, watchRun, type RunEvent } from "../src/index.js";
import { ended, fakeRunService, heartbeat, log, snapshot } from "./fake-run-service.js";

const fast = { initialBackoffMs: 1, maxBackoffMs: 2 };
const dropped = () => new ConnectError("stream duration cap", Code.Unavailable);

async function collect(events: AsyncIterable<RunEvent>): Promise<string[]> {
  const seen: string[] = [];
  for await (const e of events) seen.push(`${e.runId}:${e.event.case}:${e.sequence}`);
  return seen;
}

describe("watchRun resumes", () => {
  it("from the last delivered sequence, dropping repeats and healing gaps", async () => {
    const { runs, requests } = fakeRunService([
      { events: [snapshot("r", 0), log("r", 1), log("r", 2), log("r", 3)], error: dropped() },
      // A resumed stream: its snapshot, two repeats, one new event, then a gap (5 is missing).
      { events: [snapshot("r", 4), log("r", 2), log("r", 3), log("r", 4), log("r", 6)] },
      { events: [snapshot("r", 6), log("r", 5), heartbeat("r", 5), log("r", 6), ended("r", 7)] },
    ]);
    const watch = watchRun(runs, "r", { retry: fast });
    assert.deepEqual(await collect(watch), [
      "r:snapshot:0",
      "r:log:1",
      "r:log:2",
      "r:log:3",
      "r:log:4",
      "r:log:5",
      "r:heartbeat:5",
      "r:log:6",
      "r:statusChanged:7",
    ]);
    assert.deepEqual(
      requests.map((r) => r.afterSequence),
      [0n, 3n, 4n],
    );
    assert.equal(watch.resumes, 2);
    assert.equal(watch.lastSequence, 7n);
  });

  it("drops the snapshot sent after a lag, and heartbeats when asked to", async () => {
    const { runs } = fakeRunService([
      { events: [snapshot("r", 0), log("r", 1), heartbeat("r", 1), snapshot("r", 1), log("r", 2), ended("r", 3)] },
    ]);
    const watch = watchRun(runs, "r", { heartbeats: false });
    assert.deepEqual(await collect(watch), ["r:snapshot:0", "r:log:1", "r:log:2", "r:statusChanged:3"]);
    assert.equal(watch.resumes, 0);
  });

  it("follows the next attempt, and resumes on it", async () => {
    const { runs, requests } = fakeRunService([
      {
        events: [snapshot("a", 1), log("a", 2), ended("a", 3, RunStatus.FAILED), snapshot("b", 0), log("b", 1)],
        error: dropped(),
      },
      { events: [snapshot("b", 1), log("b", 1), ended("b", 2)] },
    ]);
    const watch = watchRun(runs, "a", { afterSequence: 1n, followAttempts: true, retry: fast });
    assert.deepEqual(await collect(watch), [
      "a:snapshot:1",
      "a:log:2",
      "a:statusChanged:3",
      "b:snapshot:0",
      "b:log:1",
      "b:statusChanged:2",
    ]);
    assert.deepEqual(requests, [
      { runId: "a", afterSequence: 1n, followAttempts: true },
      { runId: "b", afterSequence: 1n, followAttempts: true },
    ]);
    assert.equal(watch.runId, "b");
  });

  it("on a lost connection (stream reset), not on other errors", async () => {
    const { runs } = fakeRunService([
      { events: [snapshot("r", 0), log("r", 1)], error: new ConnectError("reset", Code.Canceled) },
      { events: [log("r", 2)], error: new ConnectError("no such run", Code.NotFound) },
    ]);
    const watch = watchRun(runs, "r", { retry: fast });
    const seen: bigint[] = [];
    await assert.rejects(
      async () => {
        for await (const e of watch) seen.push(e.sequence);
      },
      (e) => e instanceof TributaryError && e.code === Code.NotFound,
    );
    assert.deepEqual(seen, [0n, 1n, 2n]);
    assert.equal(watch.resumes, 1);
  });

  it("gives up after maxAttempts reconnects in a row that get nothing", async () => {
    const { runs, requests } = fakeRunService(Array.from({ length: 4 }, () => ({ events: [], error: dropped() })));
    const watch = watchRun(runs, "r", { retry: { ...fast, maxAttempts: 4 } });
    await assert.rejects(collect(watch), (e) => e instanceof TributaryError && e.code === Code.Unavailable);
    assert.equal(requests.length, 4);
  });

  it("stops with CANCELED when its signal aborts", async () => {
    const { runs } = fakeRunService([{ events: [snapshot("r", 0), log("r", 1), log("r", 2)] }]);
    const stop = new AbortController();
    const watch = watchRun(runs, "r", { signal: stop.signal });
    const seen: bigint[] = [];
    await assert.rejects(
      async () => {
        for await (const e of watch) {
          seen.push(e.sequence);
          if (e.sequence === 1n) stop.abort();
        }
      },
      (e) => e instanceof TributaryError && e.code === Code.Canceled,
    );
    assert.deepEqual(seen, [0n, 1n]);
  });

  it("can be iterated only once", async () => {
    const { runs } = fakeRunService([{ events: [snapshot("r", 0), ended("r", 1)] }]);
    const watch = watchRun(runs, "r");
    await collect(watch);
    assert.throws(() => watch[Symbol.asyncIterator](), /only once/);
  });
});
