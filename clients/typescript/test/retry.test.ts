// Which calls are retried, and how often (no server needed).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  CatalogService,
  ConnectionService,
  ExecutorService,
  RunService,
  SyncService,
  TributaryError,
  WorkspaceService,
  isIdempotent,
  retryInterceptor,
  tributaryErrors,
} from "../src/index.js";

const services = [ConnectionService, CatalogService, SyncService, RunService, ExecutorService, WorkspaceService];
const allMethods = services.flatMap((s) => s.methods);

describe("isIdempotent", () => {
  it("never retries calls that change state", () => {
    const writes = allMethods.filter((m) => /^(Create|Update|Delete|Trigger|Retry|Cancel|Revoke|Reset)/.test(m.name));
    assert.ok(writes.length >= 10);
    for (const m of writes) assert.equal(isIdempotent(m), false, m.name);
    for (const name of [
      "DisableConnection",
      "ReactivateConnection",
      "SetDefaultConnection",
      "ClaimRun",
      "CompleteRun",
      "Heartbeat",
    ]) {
      assert.equal(isIdempotent(name), false, name);
    }
  });

  it("retries reads and verification", () => {
    for (const name of [
      "GetRun",
      "ListRuns",
      "GetConnection",
      "ListConnections",
      "GetProviderCatalog",
      "ListRunLogs",
      "GetWorkspace",
      "VerifyConnection",
    ]) {
      assert.equal(isIdempotent(name), true, name);
    }
  });
});

describe("retryInterceptor", () => {
  // A ConnectionService that fails every call with `code` until `failures` calls have failed.
  function flaky(failures: number, code = Code.Unavailable) {
    const calls = { get: 0, create: 0 };
    const fail = (n: number) => {
      if (n <= failures) throw new ConnectError("try again", code);
    };
    const transport = createRouterTransport(
      ({ service }) => {
        service(ConnectionService, {
          getConnection: (req) => (fail(++calls.get), { id: req.connectionId }),
          createConnection: (req) => (fail(++calls.create), { name: req.name }),
        });
      },
      {
        transport: {
          interceptors: [tributaryErrors, retryInterceptor({ maxAttempts: 4, initialBackoffMs: 1, maxBackoffMs: 2 })],
        },
      },
    );
    return { client: createClient(ConnectionService, transport), calls };
  }

  it("retries an idempotent call on UNAVAILABLE until it succeeds", async () => {
    const { client, calls } = flaky(2);
    assert.equal((await client.getConnection({ connectionId: "c" })).id, "c");
    assert.equal(calls.get, 3);
  });

  it("stops after maxAttempts", async () => {
    const { client, calls } = flaky(100);
    await assert.rejects(
      client.getConnection({ connectionId: "c" }),
      (e) => e instanceof TributaryError && e.code === Code.Unavailable,
    );
    assert.equal(calls.get, 4);
  });

  it("does not retry a non-idempotent call", async () => {
    const { client, calls } = flaky(1);
    await assert.rejects(
      client.createConnection({ name: "n" }),
      (e) => e instanceof TributaryError && e.code === Code.Unavailable,
    );
    assert.equal(calls.create, 1);
  });

  it("does not retry other codes", async () => {
    const { client, calls } = flaky(1, Code.NotFound);
    await assert.rejects(
      client.getConnection({ connectionId: "c" }),
      (e) => e instanceof TributaryError && e.code === Code.NotFound,
    );
    assert.equal(calls.get, 1);
  });
});
