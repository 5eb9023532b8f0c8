package tributary

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	tributaryv1 "github.com/tributary-dev/tributary/clients/go/tributary/v1"
)

// closedAddr is an address nothing listens on: calls to it are UNAVAILABLE.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// attempt records what each attempt of a call looked like on the wire side
// of this package's interceptors.
type attempt struct {
	method      string
	hasDeadline bool
}

func recordAttempts(log *[]attempt) Option {
	return WithDialOptions(grpc.WithChainUnaryInterceptor(
		func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			_, ok := ctx.Deadline()
			*log = append(*log, attempt{method, ok})
			return invoker(ctx, method, req, reply, cc, opts...)
		}))
}

func TestClientRetriesReadsButNotWritesWhenTheServerIsDown(t *testing.T) {
	var attempts []attempt
	c, err := New(closedAddr(t), "key", WithPlaintext(), recordAttempts(&attempts),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	_, err = c.Runs.GetRun(ctx, &tributaryv1.GetRunRequest{RunId: "r"})
	var e *Error
	if !errors.As(err, &e) || e.Code() != codes.Unavailable {
		t.Fatalf("GetRun: %v, want an UNAVAILABLE *Error", err)
	}
	if len(attempts) != 3 || !attempts[0].hasDeadline {
		t.Errorf("GetRun attempts %v, want 3, each with the default deadline", attempts)
	}

	attempts = nil
	_, err = c.Syncs.TriggerSync(ctx, &tributaryv1.TriggerSyncRequest{SyncId: "s"})
	if !errors.As(err, &e) || e.Code() != codes.Unavailable || len(attempts) != 1 {
		t.Errorf("TriggerSync: %v after %d attempts, want UNAVAILABLE after 1", err, len(attempts))
	}
}

func TestClientWithoutDefaultTimeoutLeavesTheDeadlineToTheCaller(t *testing.T) {
	var attempts []attempt
	c, err := New(closedAddr(t), "", WithPlaintext(), WithDefaultTimeout(0), recordAttempts(&attempts),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Catalog.ListProviders(context.Background(), &tributaryv1.ListProvidersRequest{})
	if len(attempts) != 1 || attempts[0].hasDeadline {
		t.Errorf("attempts %v, want one without a deadline", attempts)
	}
}

func TestNewRejectsBadTLSOptions(t *testing.T) {
	for name, opts := range map[string][]Option{
		"plaintext with a CA":  {WithPlaintext(), WithCACert([]byte("x"))},
		"a CA that is no PEM":  {WithCACert([]byte("not a certificate"))},
		"a broken client cert": {WithClientCert([]byte("cert"), []byte("key"))},
	} {
		if _, err := New("127.0.0.1:1", "key", opts...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
