package dev.tributary.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tributary.v1.Connection;
import dev.tributary.v1.ConnectionServiceGrpc;
import dev.tributary.v1.GetConnectionRequest;
import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The builder's TLS options against a local server that requires client certificates. The
 * certificates are made with the JDK's keytool, so the test needs nothing beyond the JDK.
 */
class TlsTest {
  private static final String PASSWORD = "changeit";

  @TempDir static Path dir;
  private static Server server;

  @BeforeAll
  static void startServer() throws Exception {
    keytool("-alias", "ca", "-dname", "CN=Test CA", "-ext", "bc:c");
    keytool(
        "-alias",
        "server",
        "-dname",
        "CN=localhost",
        "-signer",
        "ca",
        "-ext",
        "san=dns:localhost,ip:127.0.0.1");
    keytool(
        "-alias", "client", "-dname", "CN=Test client", "-signer", "ca", "-ext", "eku=clientAuth");
    writePem();

    server =
        Grpc.newServerBuilderForPort(
                0,
                TlsServerCredentials.newBuilder()
                    .keyManager(
                        dir.resolve("server.pem").toFile(), dir.resolve("server-key.pem").toFile())
                    .trustManager(dir.resolve("ca.pem").toFile())
                    .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                    .build())
            .addService(
                new ConnectionServiceGrpc.ConnectionServiceImplBase() {
                  @Override
                  public void getConnection(
                      GetConnectionRequest request, StreamObserver<Connection> response) {
                    response.onNext(
                        Connection.newBuilder().setId(request.getConnectionId()).build());
                    response.onCompleted();
                  }
                })
            .build()
            .start();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.shutdownNow();
    }
  }

  @Test
  void mutualTlsWithCustomCa() {
    try (TributaryClient client =
        builder()
            .trustedCertificates(dir.resolve("ca.pem"))
            .clientCertificate(dir.resolve("client.pem"), dir.resolve("client-key.pem"))
            .build()) {
      assertEquals("c1", get(client).getId());
    }
  }

  @Test
  void serverRefusesAClientWithoutCertificate() {
    try (TributaryClient client = builder().trustedCertificates(dir.resolve("ca.pem")).build()) {
      assertEquals(
          Status.Code.UNAVAILABLE,
          assertThrows(StatusRuntimeException.class, () -> get(client)).getStatus().getCode());
    }
  }

  @Test
  void systemRootsDoNotTrustTheTestCa() {
    try (TributaryClient client = builder().tls().build()) {
      assertEquals(
          Status.Code.UNAVAILABLE,
          assertThrows(StatusRuntimeException.class, () -> get(client)).getStatus().getCode());
    }
  }

  @Test
  void plaintextWithCertificatesIsAMistake() {
    TributaryClient.Builder builder =
        builder().trustedCertificates(dir.resolve("ca.pem")).plaintext();
    assertThrows(IllegalStateException.class, builder::build);
  }

  private static TributaryClient.Builder builder() {
    // No retries: a refused handshake is UNAVAILABLE, and retrying it would only slow the test.
    return TributaryClient.builder()
        .address("localhost:" + server.getPort())
        .apiKey("k")
        .retryPolicy(RetryPolicy.none())
        .defaultDeadline(Duration.ofSeconds(10));
  }

  private static Connection get(TributaryClient client) {
    return client
        .connections()
        .getConnection(GetConnectionRequest.newBuilder().setConnectionId("c1").build());
  }

  /**
   * Creates a key pair with a certificate (signed by {@code -signer}, else self-signed) in pki.p12.
   */
  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    // A short-lived JVM: C1 alone starts about twice as fast.
    command.addAll(
        List.of(
            "-J-XX:TieredStopAtLevel=1",
            "-genkeypair",
            "-keystore",
            "pki.p12",
            "-storetype",
            "PKCS12",
            "-storepass",
            PASSWORD,
            "-keyalg",
            "EC",
            "-validity",
            "2",
            "-noprompt"));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IOException("keytool failed: " + output);
    }
  }

  /**
   * ca.pem, and NAME.pem (certificate chain) with NAME-key.pem (PKCS#8) for the server and the
   * client.
   */
  private static void writePem() throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(dir.resolve("pki.p12"))) {
      keys.load(in, PASSWORD.toCharArray());
    }
    Files.writeString(
        dir.resolve("ca.pem"), pem("CERTIFICATE", keys.getCertificate("ca").getEncoded()));
    for (String name : List.of("server", "client")) {
      StringBuilder chain = new StringBuilder();
      for (Certificate certificate : keys.getCertificateChain(name)) {
        chain.append(pem("CERTIFICATE", certificate.getEncoded()));
      }
      Files.writeString(dir.resolve(name + ".pem"), chain);
      // getEncoded() of a private key is PKCS#8, the form gRPC reads.
      Files.writeString(
          dir.resolve(name + "-key.pem"),
          pem("PRIVATE KEY", keys.getKey(name, PASSWORD.toCharArray()).getEncoded()));
    }
  }

  private static String pem(String type, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }
}
