package tributary

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tributaryv1 "github.com/tributary-dev/tributary/clients/go/tributary/v1"
)

// RetryPolicy bounds the retries of idempotent calls that fail with
// UNAVAILABLE, and the reconnects of a [RunWatcher].
//
// The wait before retry n (0-based) is drawn uniformly from [b/2, b], where
// b = InitialBackoff·2ⁿ capped at MaxBackoff: exponential, and jittered so
// that clients that lost the server together do not return together.
type RetryPolicy struct {
	// MaxAttempts counts the first try too; 1 or less means no retry.
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// DefaultRetryPolicy rides out a connection reset or a server restart of
// about a second.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}

// idempotentVerbs are the unary methods outside Get* and List* that are safe
// to repeat: they read, or set state to what the server observes.
var idempotentVerbs = map[string]bool{
	tributaryv1.ConnectionService_VerifyConnection_FullMethodName:      true,
	tributaryv1.ConnectionService_ValidateFileSelection_FullMethodName: true,
	"/grpc.health.v1.Health/Check":                                     true,
}

// IsIdempotent reports whether the client retries the unary method (a full
// name, "/tributary.v1.RunService/GetRun") on UNAVAILABLE: Get* and List*
// reads, VerifyConnection, ValidateFileSelection and health checks. Create,
// Update, Delete, Trigger, Retry, Cancel and the executor calls are never
// retried: the server may have acted on a call whose reply was lost.
func IsIdempotent(fullMethod string) bool {
	name := fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]
	return strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || idempotentVerbs[fullMethod]
}

func retryInterceptor(p RetryPolicy) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if p.MaxAttempts <= 1 || !IsIdempotent(method) {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		for attempt := 0; ; attempt++ {
			err := invoker(ctx, method, req, reply, cc, opts...)
			if status.Code(err) != codes.Unavailable || attempt+1 >= p.MaxAttempts || !p.wait(ctx, attempt) {
				return err
			}
		}
	}
}

// backoff is the jittered wait before retry n (see RetryPolicy).
func (p RetryPolicy) backoff(n int) time.Duration {
	b := p.InitialBackoff
	for i := 0; i < n && b < p.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, p.MaxBackoff)
	if b <= 0 {
		return 0
	}
	return b/2 + rand.N(b/2+1)
}

// wait sleeps before retry n; false when ctx ends first or its deadline
// would pass during the wait, as the retry could not finish anyway.
func (p RetryPolicy) wait(ctx context.Context, n int) bool {
	d := p.backoff(n)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
