// Package tributary is the Go client of the Tributary control plane.
//
// It is a thin layer over the generated gRPC stubs in
// github.com/tributary-dev/tributary/clients/go/tributary/v1 (package
// tributaryv1): a [Client] holds one connection and exposes the generated
// service clients as fields, and adds only what every caller needs:
//
//   - the API key, sent as x-api-key on every call;
//   - TLS (system roots by default, a custom CA, mutual TLS) or plaintext;
//   - a default deadline for unary calls that have none;
//   - retries with backoff on UNAVAILABLE for idempotent calls ([IsIdempotent]);
//   - errors as [*Error], with the google.rpc details decoded;
//   - [Client.WatchRun], a run watch that resumes dropped streams.
package tributary

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	tributaryv1 "github.com/tributary-dev/tributary/clients/go/tributary/v1"
)

// DefaultTimeout is the deadline of a unary call whose context has none,
// unless [WithDefaultTimeout] says otherwise.
const DefaultTimeout = 30 * time.Second

// Client is a connection to a Tributary server. The service fields are the
// generated clients; every call through them carries the API key and goes
// through the deadline, retry and error handling described in the package
// doc. A Client is safe for concurrent use; Close it when done.
type Client struct {
	Connections tributaryv1.ConnectionServiceClient
	Catalog     tributaryv1.CatalogServiceClient
	Syncs       tributaryv1.SyncServiceClient
	Runs        tributaryv1.RunServiceClient
	Executor    tributaryv1.ExecutorServiceClient
	Workspaces  tributaryv1.WorkspaceServiceClient

	conn *grpc.ClientConn
}

// Option configures [New].
type Option func(*config)

type config struct {
	plaintext   bool
	caPEM       []byte
	certPEM     []byte
	keyPEM      []byte
	tlsConfig   *tls.Config
	timeout     time.Duration
	retry       RetryPolicy
	dialOptions []grpc.DialOption
}

// WithPlaintext connects without TLS, as to a local `tributary serve`
// started without --tls-cert.
func WithPlaintext() Option { return func(c *config) { c.plaintext = true } }

// WithCACert trusts the PEM certificates in pem instead of the system roots.
func WithCACert(pem []byte) Option { return func(c *config) { c.caPEM = pem } }

// WithClientCert presents a client certificate (mutual TLS, for servers
// started with --tls-client-ca).
func WithClientCert(certPEM, keyPEM []byte) Option {
	return func(c *config) { c.certPEM, c.keyPEM = certPEM, keyPEM }
}

// WithTLSConfig uses cfg as it is, for what the other TLS options do not
// cover (a server name override, pinned cipher suites).
func WithTLSConfig(cfg *tls.Config) Option { return func(c *config) { c.tlsConfig = cfg } }

// WithDefaultTimeout sets the deadline of unary calls whose context has
// none; it spans all retries of the call. 0 means no default deadline.
func WithDefaultTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithRetryPolicy replaces [DefaultRetryPolicy] for idempotent unary calls;
// MaxAttempts 1 turns retries off.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithDialOptions adds gRPC dial options (keepalive, a custom dialer, more
// interceptors, which run inside this package's).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *config) { c.dialOptions = append(c.dialOptions, opts...) }
}

// New returns a client of the server at addr ("host:port") that sends
// apiKey on every call. It does not connect: the first call does, and a
// connection failure surfaces there as UNAVAILABLE.
func New(addr, apiKey string, opts ...Option) (*Client, error) {
	cfg := config{timeout: DefaultTimeout, retry: DefaultRetryPolicy}
	for _, o := range opts {
		o(&cfg)
	}
	creds, err := cfg.transportCredentials()
	if err != nil {
		return nil, err
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithPerRPCCredentials(apiKeyCredentials{key: apiKey, secure: !cfg.plaintext}),
		// Outermost first: errors are typed last, and the default deadline
		// spans every retry.
		grpc.WithChainUnaryInterceptor(
			errorUnaryInterceptor,
			deadlineInterceptor(cfg.timeout),
			retryInterceptor(cfg.retry),
		),
		grpc.WithChainStreamInterceptor(errorStreamInterceptor),
	}
	conn, err := grpc.NewClient(addr, append(dial, cfg.dialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("tributary: %w", err)
	}
	return &Client{
		Connections: tributaryv1.NewConnectionServiceClient(conn),
		Catalog:     tributaryv1.NewCatalogServiceClient(conn),
		Syncs:       tributaryv1.NewSyncServiceClient(conn),
		Runs:        tributaryv1.NewRunServiceClient(conn),
		Executor:    tributaryv1.NewExecutorServiceClient(conn),
		Workspaces:  tributaryv1.NewWorkspaceServiceClient(conn),
		conn:        conn,
	}, nil
}

// Conn is the underlying connection, for other services on the same server
// (grpc.health.v1.Health, reflection).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection; calls in flight fail with CANCELED.
func (c *Client) Close() error { return c.conn.Close() }

func (c *config) transportCredentials() (credentials.TransportCredentials, error) {
	custom := c.caPEM != nil || c.certPEM != nil || c.tlsConfig != nil
	if c.plaintext {
		if custom {
			return nil, errors.New("tributary: WithPlaintext conflicts with the TLS options")
		}
		return insecure.NewCredentials(), nil
	}
	if c.tlsConfig != nil {
		return credentials.NewTLS(c.tlsConfig), nil
	}
	// Nil RootCAs means the system roots.
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.caPEM != nil {
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(c.caPEM) {
			return nil, errors.New("tributary: WithCACert: no certificate found in the PEM")
		}
	}
	if c.certPEM != nil || c.keyPEM != nil {
		cert, err := tls.X509KeyPair(c.certPEM, c.keyPEM)
		if err != nil {
			return nil, fmt.Errorf("tributary: WithClientCert: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(tc), nil
}

// apiKeyCredentials sends the API key as x-api-key metadata on every call.
type apiKeyCredentials struct {
	key    string
	secure bool
}

func (a apiKeyCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if a.key == "" {
		return nil, nil // health and reflection need none
	}
	return map[string]string{"x-api-key": a.key}, nil
}

// RequireTransportSecurity refuses to send the key in the clear unless the
// caller chose plaintext.
func (a apiKeyCredentials) RequireTransportSecurity() bool { return a.secure }

// deadlineInterceptor gives a unary call without a deadline one of d.
func deadlineInterceptor(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok && d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
