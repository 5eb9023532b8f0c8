// An in-memory RunService whose WatchRun plays a script, one entry per call,
// so the watch helper's resume logic can be tested on exact event orders.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import { RunEventSchema, RunService, RunStatus, type RunEvent, type WatchRunRequest } from "../src/index.js";

/** What one WatchRun call sends: events, then an error or (without one) a normal close. */
export interface ScriptedStream {
  events: RunEvent[];
  error?: ConnectError;
}

export function fakeRunService(script: ScriptedStream[]): {
  runs: Client<typeof RunService>;
  requests: Pick<WatchRunRequest, "runId" | "afterSequence" | "followAttempts">[];
} {
  const requests: Pick<WatchRunRequest, "runId" | "afterSequence" | "followAttempts">[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(RunService, {
      async *watchRun(req) {
        requests.push({ runId: req.runId, afterSequence: req.afterSequence, followAttempts: req.followAttempts });
        const stream = script[requests.length - 1];
        if (!stream) throw new Error(`WatchRun call ${requests.length} was not scripted`);
        yield* stream.events;
        if (stream.error) throw stream.error;
      },
    });
  });
  return { runs: createClient(RunService, transport), requests };
}

export function snapshot(runId: string, sequence: number, status = RunStatus.RUNNING): RunEvent {
  return event(runId, sequence, {
    case: "snapshot",
    value: { id: runId, status, lastEventSequence: BigInt(sequence) },
  });
}

export function log(runId: string, sequence: number): RunEvent {
  return event(runId, sequence, { case: "log", value: { message: `line ${sequence}` } });
}

export function heartbeat(runId: string, sequence: number): RunEvent {
  return event(runId, sequence, { case: "heartbeat", value: { executorId: "fake" } });
}

export function ended(runId: string, sequence: number, to = RunStatus.SUCCEEDED): RunEvent {
  return event(runId, sequence, { case: "statusChanged", value: { from: RunStatus.RUNNING, to } });
}

function event(runId: string, sequence: number, body: MessageInitShape<typeof RunEventSchema>["event"]): RunEvent {
  return create(RunEventSchema, {
    runId,
    syncId: "sync",
    sequence: BigInt(sequence),
    emittedAt: timestampNow(),
    event: body,
  });
}
