// Shared by the tests that run against a live server (clients/serve-for-tests).
import { randomUUID } from "node:crypto";
import { TributaryClient, type TributaryClientOptions } from "../src/index.js";

const address = process.env.TRIBUTARY_ADDR;
const apiKey = process.env.TRIBUTARY_API_KEY;
if (!address || !apiKey) {
  throw new Error(
    "TRIBUTARY_ADDR and TRIBUTARY_API_KEY must point at a running server; from the repo root: " +
      'eval "$(bash clients/serve-for-tests)"',
  );
}

export const server = { address, apiKey };

/** A plaintext client of the test server; close it in an after() hook. */
export function testClient(options: Partial<TributaryClientOptions> = {}): TributaryClient {
  return new TributaryClient({ ...server, tls: false, ...options });
}

/** A name no other test (or earlier run against the same server) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix} ${randomUUID()}`;
}

/**
 * A suffix for destination table names: a table belongs to one sync of the
 * workspace, and other tests (and other clients' suites) share the server.
 */
export function uniqueTableSuffix(): string {
  return randomUUID().replaceAll("-", "").slice(0, 12);
}
