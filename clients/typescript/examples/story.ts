// The whole story: a faker connection, a sync of two of its entities, a run
// watched live to its end, and the run's summary. Exits 1 unless it SUCCEEDED.
//
//   npm run build && TRIBUTARY_ADDR=127.0.0.1:50051 TRIBUTARY_API_KEY=... npm run example
import { LogLevel, RunMode, RunStatus, TributaryClient, type RunEvent } from "../src/index.js";

const address = process.env.TRIBUTARY_ADDR ?? "127.0.0.1:50051";
const apiKey = process.env.TRIBUTARY_API_KEY;
if (!apiKey) {
  console.error("set TRIBUTARY_API_KEY (the admin key is in <data-dir>/admin.key)");
  process.exit(2);
}

const client = new TributaryClient({ address, apiKey, tls: false });
try {
  const connection = await client.connections.createConnection({
    name: `Demo data ${Date.now().toString(36)}`,
    provider: "faker",
    config: { row_count: 3000, rows_per_second: 2000 },
  });
  console.log(`connection ${connection.id} (${connection.slug})`);

  // A destination table belongs to one sync: suffix the names to run this again.
  const suffix = Date.now().toString(36);
  const entities = ["users", "orders"];
  const sync = await client.syncs.createSync({
    name: `Demo to warehouse ${suffix}`,
    connectionId: connection.id,
    entities,
    tableBindings: entities.map((entity) => ({ entityKey: entity, physicalTableName: `${entity}_${suffix}` })),
  });
  console.log(
    `sync ${sync.id}: ${sync.tableBindings.map((b) => `${b.entityKey} -> ${b.physicalTableName}`).join(", ")}`,
  );

  const run = await client.syncs.triggerSync({ syncId: sync.id, runMode: RunMode.FULL_REFRESH });
  console.log(`run ${run.id} ${RunStatus[run.status]}`);

  const watch = client.watchRun(run.id);
  for await (const event of watch) console.log(describe(event));

  const done = await client.runs.getRun({ runId: run.id });
  const summary = done.summary;
  console.log(`run ${done.id} ended ${RunStatus[done.status]} (stream resumed ${watch.resumes} times)`);
  for (const entity of summary?.entities ?? []) {
    console.log(
      `  ${entity.entityKey}: read ${entity.recordsRead}, wrote ${entity.recordsWritten}, ${entity.bytes} bytes`,
    );
  }
  console.log(`  total: read ${summary?.recordsRead ?? 0n}, wrote ${summary?.recordsWritten ?? 0n}`);
  if (done.status !== RunStatus.SUCCEEDED) {
    console.error(`run did not succeed: ${done.error ?? "no error message"}`);
    process.exitCode = 1;
  }
} finally {
  client.close();
}

function describe(event: RunEvent): string {
  const at = `#${event.sequence}`;
  const e = event.event;
  switch (e.case) {
    case "snapshot":
      return `${at} snapshot: ${RunStatus[e.value.status]}`;
    case "statusChanged":
      return `${at} status: ${RunStatus[e.value.from]} -> ${RunStatus[e.value.to]}`;
    case "progress":
      return `${at} progress: ${e.value.entityKey} read ${e.value.recordsRead}, wrote ${e.value.recordsWritten}`;
    case "log":
      return `${at} log ${LogLevel[e.value.level]}: ${e.value.message}`;
    case "heartbeat":
      return `${at} heartbeat: read ${e.value.recordsRead}, wrote ${e.value.recordsWritten}`;
    default:
      return `${at} (event of a newer API version)`;
  }
}
