// TLS, mutual TLS and the API key header, against an in-process gRPC server
// (node:http2 + Connect) with certificates made by openssl for 127.0.0.1.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { CatalogService, TributaryClient, TributaryError, type TlsOptions } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "tributary-tls-"));
const file = (name: string) => join(dir, name);

/** Makes `name`.pem and `name`.key: a certificate for 127.0.0.1 signed by the test CA. */
function issue(name: string): void {
  execFileSync(
    "openssl",
    [
      ...["req", "-config", file("req.cnf"), "-x509", "-days", "1", "-nodes", "-subj", `/CN=${name}`],
      ...["-CA", file("ca.pem"), "-CAkey", file("ca.key")],
      ...["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
      ...["-keyout", file(`${name}.key`), "-out", file(`${name}.pem`)],
      ...["-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"],
    ],
    { stdio: "pipe" },
  );
}

/** Starts a server whose ListProviders answers with the x-api-key it received. */
async function serve(
  options: http2.SecureServerOptions,
): Promise<{ address: string; server: http2.Http2SecureServer }> {
  const server = http2.createSecureServer(
    options,
    connectNodeAdapter({
      routes: ({ service }) =>
        service(CatalogService, {
          listProviders: (_req, ctx) => ({ providers: [{ provider: ctx.requestHeader.get("x-api-key") ?? "" }] }),
        }),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("TLS", () => {
  let ca: string, clientCert: string, clientKey: string;
  let tlsServer: Awaited<ReturnType<typeof serve>>, mtlsServer: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    writeFileSync(file("req.cnf"), "[req]\ndistinguished_name=dn\n[dn]\n");
    execFileSync(
      "openssl",
      [
        ...["req", "-config", file("req.cnf"), "-x509", "-days", "1", "-nodes", "-subj", "/CN=test-ca"],
        ...["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
        ...["-keyout", file("ca.key"), "-out", file("ca.pem")],
        ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign"],
      ],
      { stdio: "pipe" },
    );
    issue("server");
    issue("client");
    ca = readFileSync(file("ca.pem"), "utf8");
    clientCert = readFileSync(file("client.pem"), "utf8");
    clientKey = readFileSync(file("client.key"), "utf8");
    const serverTls = { cert: readFileSync(file("server.pem")), key: readFileSync(file("server.key")) };
    tlsServer = await serve(serverTls);
    mtlsServer = await serve({ ...serverTls, ca, requestCert: true, rejectUnauthorized: true });
  });

  after(() => {
    tlsServer?.server.close();
    mtlsServer?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call(address: string, tls: boolean | TlsOptions): Promise<string | undefined> {
    const client = new TributaryClient({ address, apiKey: "trb_test", tls, retry: false });
    try {
      return (await client.catalog.listProviders({})).providers[0]?.provider;
    } finally {
      client.close();
    }
  }

  it("verifies the server against a custom CA, and sends the API key", async () => {
    assert.equal(await call(tlsServer.address, { ca }), "trb_test");
  });

  it("rejects a server the system roots do not trust", async () => {
    await assert.rejects(call(tlsServer.address, true), (e) => e instanceof TributaryError && /verify/.test(e.message));
  });

  it("presents a client certificate for mutual TLS", async () => {
    assert.equal(await call(mtlsServer.address, { ca, cert: clientCert, key: clientKey }), "trb_test");
    await assert.rejects(
      call(mtlsServer.address, { ca }),
      (e) => e instanceof TributaryError && /certificate required/.test(e.message),
    );
  });
});
