import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Code, ConnectError, TributaryError, type Interceptor } from "../src/index.js";
import { server, testClient } from "./live-server.js";

describe("errors", () => {
  const client = testClient();
  after(() => client.close());

  it("decode google.rpc details of a bad request: a field violation on name, and ErrorInfo", async () => {
    await assert.rejects(client.connections.createConnection({ name: "", provider: "faker" }), (e) => {
      assert.ok(e instanceof TributaryError);
      assert.ok(e instanceof ConnectError, "still a ConnectError for Connect-aware code");
      assert.equal(e.code, Code.InvalidArgument);
      assert.equal(e.codeName, "INVALID_ARGUMENT");
      assert.match(e.rawMessage, /name/);
      assert.deepEqual(
        e.fieldViolations.map((v) => v.field),
        ["name"],
      );
      assert.ok(e.fieldViolations[0]?.description);
      assert.equal(e.errorInfo?.domain, "tributary.dev");
      assert.equal(e.errorInfo?.reason, "INVALID_ARGUMENT");
      return true;
    });
  });

  it("report a bad API key as UNAUTHENTICATED", async () => {
    const stranger = testClient({ apiKey: "trb_not_a_key" });
    try {
      await assert.rejects(stranger.connections.listConnections({}), (e) => {
        assert.ok(e instanceof TributaryError);
        assert.equal(e.code, Code.Unauthenticated);
        assert.equal(e.errorInfo?.reason, "UNAUTHENTICATED");
        return true;
      });
    } finally {
      stranger.close();
    }
  });

  it("are also typed when a stream fails", async () => {
    const iterate = async () => {
      for await (const _ of client.runs.watchRun({ runId: "01a20000-0000-7000-8000-000000000000" })) {
        // NOT_FOUND comes before any event
      }
    };
    await assert.rejects(iterate(), (e) => e instanceof TributaryError && e.code === Code.NotFound);
  });
});

describe("client options", () => {
  it("send the API key, and a default deadline on unary calls only", async () => {
    const seen = new Map<string, Headers>();
    const spy: Interceptor = (next) => (req) => {
      seen.set(req.method.name, req.header); // inner interceptors add to these headers
      return next(req);
    };
    const client = testClient({ defaultTimeoutMs: 4_000, interceptors: [spy] });
    try {
      await client.catalog.listProviders({});
      await client.catalog.listProviders({}, { timeoutMs: 9_000 });
      const unary = seen.get("ListProviders");
      assert.equal(unary?.get("x-api-key"), server.apiKey);
      assert.equal(unary?.get("grpc-timeout"), "9000m");

      await client.catalog.getProviderCatalog({ provider: "faker" });
      assert.equal(seen.get("GetProviderCatalog")?.get("grpc-timeout"), "4000m");

      const stream = client.runs.watchRun({ runId: "01a20000-0000-7000-8000-000000000000" });
      await assert.rejects(async () => {
        for await (const _ of stream) break;
      });
      assert.equal(seen.get("WatchRun")?.get("grpc-timeout"), null, "no deadline on streams");
    } finally {
      client.close();
    }
  });

  it("reject an address with a scheme, and a client cert without its key", () => {
    assert.throws(() => testClient({ address: `http://${server.address}` }), TypeError);
    assert.throws(() => testClient({ tls: { cert: "PEM" } }), /cert and tls.key/);
  });
});
