package tributary

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// pemPair is a certificate and its key, PEM encoded.
type pemPair struct{ cert, key []byte }

// issue makes a certificate for 127.0.0.1 signed by parent (self-signed when
// parent is nil, as a CA).
func issue(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (pemPair, *x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return pemPair{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, cert, key
}

// TestMutualTLS runs a health server that demands a client certificate
// from the test CA and checks which client options get through, and that
// the API key travels with the call.
func TestMutualTLS(t *testing.T) {
	caPEM, ca, caKey := issue(t, "test CA", nil, nil)
	serverPEM, _, _ := issue(t, "server", ca, caKey)
	clientPEM, _, _ := issue(t, "client", ca, caKey)

	serverCert, err := tls.X509KeyPair(serverPEM.cert, serverPEM.key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	keys := make(chan string, 10)
	srv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			md, _ := metadata.FromIncomingContext(ctx)
			keys <- md.Get("x-api-key")[0]
			return handler(ctx, req)
		}),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Stop()

	check := func(opts ...Option) error {
		c, err := New(l.Addr().String(), "secret-key", append(opts, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}), WithDefaultTimeout(5*time.Second))...)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = healthpb.NewHealthClient(c.Conn()).Check(context.Background(), &healthpb.HealthCheckRequest{})
		return err
	}

	if err := check(WithCACert(caPEM.cert), WithClientCert(clientPEM.cert, clientPEM.key)); err != nil {
		t.Fatalf("with the CA and a client certificate: %v", err)
	}
	if key := <-keys; key != "secret-key" {
		t.Errorf("the server saw x-api-key %q", key)
	}
	if err := check(WithCACert(caPEM.cert)); err == nil {
		t.Error("without a client certificate: no error")
	}
	if err := check(WithClientCert(clientPEM.cert, clientPEM.key)); err == nil {
		t.Error("with the system roots, which do not hold the test CA: no error")
	}
	if err := check(WithPlaintext()); err == nil {
		t.Error("plaintext to a TLS server: no error")
	}
}
