import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  Code,
  RunMode,
  RunStatus,
  TributaryError,
  type Run,
  type RunEvent,
  type TributaryClient,
} from "../src/index.js";
import { testClient, uniqueName, uniqueTableSuffix } from "./live-server.js";

/** Starts a faker run of 3,000 rows at 1,000 rows/s: about 3 s. */
async function startRun(client: TributaryClient): Promise<Run> {
  const connection = await client.connections.createConnection({
    name: uniqueName("ts watch"),
    provider: "faker",
    config: { row_count: 3000, rows_per_second: 1000 },
  });
  const sync = await client.syncs.createSync({
    name: uniqueName("ts watch"),
    connectionId: connection.id,
    entities: ["users"],
    tableBindings: [{ entityKey: "users", physicalTableName: `users_${uniqueTableSuffix()}` }],
  });
  return client.syncs.triggerSync({ syncId: sync.id, runMode: RunMode.FULL_REFRESH });
}

// The test server cuts every stream after 1 s (--max-stream-duration), and a
// faker run of 3,000 rows at 1,000 rows/s lasts about 3 s: the watch must
// resume to see the run end.
describe("watchRun against a server that cuts streams every second", () => {
  const client = testClient();
  after(() => client.close());
  let run: Run;
  const events: RunEvent[] = [];
  let resumes = 0;

  before(async () => {
    run = await startRun(client);
    const watch = client.watchRun(run.id);
    for await (const event of watch) events.push(event);
    resumes = watch.resumes;
  });

  it("resumed at least once", () => {
    assert.ok(resumes >= 1, `resumes = ${resumes}`);
  });

  it("delivered every persisted event exactly once, in order: 1..N", async () => {
    const persisted = events.filter((e) => e.event.case !== "snapshot" && e.event.case !== "heartbeat");
    const sequences = persisted.map((e) => Number(e.sequence));
    const ended = await client.runs.getRun({ runId: run.id });
    const n = Number(ended.lastEventSequence);
    assert.ok(n >= 3, `the run has ${n} events`);
    assert.deepEqual(
      sequences,
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.ok(persisted.every((e) => e.runId === run.id));
  });

  it("delivered one snapshot, first", () => {
    assert.equal(events[0]?.event.case, "snapshot");
    assert.equal(events.filter((e) => e.event.case === "snapshot").length, 1);
  });

  it("ended on the terminal SUCCEEDED status change", async () => {
    const last = events.at(-1)?.event;
    assert.equal(last?.case, "statusChanged");
    assert.equal(last.value.to, RunStatus.SUCCEEDED);
    const ended = await client.runs.getRun({ runId: run.id });
    assert.equal(ended.status, RunStatus.SUCCEEDED);
    assert.ok(ended.summary && ended.summary.recordsRead === 3000n);
  });

  it("replays only what follows a checkpoint", async () => {
    const watch = client.watchRun(run.id, { afterSequence: 2n, heartbeats: false });
    const replayed: RunEvent[] = [];
    for await (const event of watch) replayed.push(event);
    const persisted = events.filter((e) => e.event.case !== "snapshot" && e.event.case !== "heartbeat");
    assert.equal(replayed[0]?.event.case, "snapshot");
    assert.deepEqual(
      replayed.slice(1).map((e) => e.sequence),
      persisted.slice(2).map((e) => e.sequence),
    );
    assert.equal(watch.lastSequence, persisted.at(-1)?.sequence);
  });
});

describe("client.close()", () => {
  it("ends a watch in progress with CANCELED instead of resuming it", async () => {
    const client = testClient();
    const run = await startRun(client);
    const watch = client.watchRun(run.id);
    const seen: RunEvent[] = [];
    await assert.rejects(
      async () => {
        for await (const event of watch) {
          seen.push(event);
          client.close(); // while the run is still going: the stream is live
        }
      },
      (e) => e instanceof TributaryError && e.code === Code.Canceled,
    );
    assert.equal(seen.length, 1);
    assert.equal(watch.resumes, 0);
  });
});
