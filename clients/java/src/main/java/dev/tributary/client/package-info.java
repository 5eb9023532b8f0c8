/**
 * A thin client for the Tributary API ({@code tributary.v1}).
 *
 * <p>The messages and gRPC stubs are generated into {@code dev.tributary.v1} and used as they are.
 * This package adds only what every caller needs around them: {@link
 * dev.tributary.client.TributaryClient} (address, API key, TLS, default deadline, retries of
 * idempotent calls), {@link dev.tributary.client.TributaryException} (decoded {@code google.rpc}
 * error details) and {@link dev.tributary.client.RunWatcher} (a {@code WatchRun} that survives
 * dropped streams, delivering each event once).
 */
package dev.tributary.client;
