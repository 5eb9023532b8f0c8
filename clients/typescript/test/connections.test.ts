import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Code, ConnectionStatus, TributaryError, type Connection } from "../src/index.js";
import { testClient, uniqueName } from "./live-server.js";

describe("connections CRUD", () => {
  const client = testClient();
  after(() => client.close());
  const name = uniqueName("ts crud");
  let created: Connection;

  it("creates a connection in NEEDS_VERIFICATION", async () => {
    created = await client.connections.createConnection({
      name,
      provider: "faker",
      config: { row_count: 10 },
    });
    assert.equal(created.name, name);
    assert.equal(created.provider, "faker");
    assert.equal(created.status, ConnectionStatus.NEEDS_VERIFICATION);
    assert.equal(created.config?.row_count, 10);
    assert.ok(created.id && created.etag);
  });

  it("gets it by id", async () => {
    const got = await client.connections.getConnection({ connectionId: created.id });
    assert.equal(got.id, created.id);
    assert.equal(got.etag, created.etag);
  });

  it("lists it", async () => {
    const list = await client.connections.listConnections({ q: name });
    assert.deepEqual(
      list.connections.map((c) => c.id),
      [created.id],
    );
    assert.equal(list.total, 1n);
  });

  it("updates it with its etag, and refuses a stale etag with ABORTED", async () => {
    const renamed = await client.connections.updateConnection({
      connectionId: created.id,
      name: `${name} renamed`,
      etag: created.etag,
    });
    assert.equal(renamed.name, `${name} renamed`);
    assert.notEqual(renamed.etag, created.etag);

    await assert.rejects(
      client.connections.updateConnection({ connectionId: created.id, name: "stale", etag: created.etag }),
      (e) => e instanceof TributaryError && e.code === Code.Aborted,
    );
    const current = await client.connections.getConnection({ connectionId: created.id });
    assert.equal(current.name, `${name} renamed`);
  });

  it("deletes it, after which it is NOT_FOUND", async () => {
    await client.connections.deleteConnection({ connectionId: created.id });
    await assert.rejects(client.connections.getConnection({ connectionId: created.id }), (e) => {
      assert.ok(e instanceof TributaryError);
      assert.equal(e.code, Code.NotFound);
      assert.equal(e.codeName, "NOT_FOUND");
      assert.equal(e.resourceInfo?.resourceName, created.id);
      return true;
    });
  });
});
