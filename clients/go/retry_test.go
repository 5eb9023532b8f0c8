package tributary

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tributaryv1 "github.com/tributary-dev/tributary/clients/go/tributary/v1"
)

func TestIsIdempotent(t *testing.T) {
	for method, want := range map[string]bool{
		tributaryv1.RunService_GetRun_FullMethodName:                       true,
		tributaryv1.RunService_ListRunLogs_FullMethodName:                  true,
		tributaryv1.ConnectionService_GetConnectionBySlug_FullMethodName:   true,
		tributaryv1.ConnectionService_VerifyConnection_FullMethodName:      true,
		tributaryv1.CatalogService_GetProviderCatalog_FullMethodName:       true,
		tributaryv1.ConnectionService_CreateConnection_FullMethodName:      false,
		tributaryv1.ConnectionService_UpdateConnection_FullMethodName:      false,
		tributaryv1.ConnectionService_DeleteConnection_FullMethodName:      false,
		tributaryv1.SyncService_TriggerSync_FullMethodName:                 false,
		tributaryv1.RunService_RetryRun_FullMethodName:                     false,
		tributaryv1.RunService_CancelRun_FullMethodName:                    false,
		tributaryv1.ExecutorService_Heartbeat_FullMethodName:               false,
		tributaryv1.ExecutorService_CompleteRun_FullMethodName:             false,
		tributaryv1.WorkspaceService_RevokeApiKey_FullMethodName:           false,
		"/grpc.health.v1.Health/Check":                                     true,
		"/tributary.v1.ConnectionService/DisableConnection":                false,
		tributaryv1.ConnectionService_ValidateFileSelection_FullMethodName: true,
	} {
		if got := IsIdempotent(method); got != want {
			t.Errorf("IsIdempotent(%s) = %v, want %v", method, got, want)
		}
	}
}

// countingInvoker fails every call with code and counts the calls.
func countingInvoker(code codes.Code, calls *int) grpc.UnaryInvoker {
	return func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		*calls++
		return status.Error(code, "scripted")
	}
}

func TestRetryInterceptorRetriesOnlyIdempotentCallsOnUnavailable(t *testing.T) {
	retry := retryInterceptor(RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	for _, tc := range []struct {
		method string
		code   codes.Code
		calls  int
	}{
		{tributaryv1.RunService_GetRun_FullMethodName, codes.Unavailable, 3},
		{tributaryv1.RunService_GetRun_FullMethodName, codes.NotFound, 1},
		{tributaryv1.RunService_GetRun_FullMethodName, codes.DeadlineExceeded, 1},
		{tributaryv1.SyncService_TriggerSync_FullMethodName, codes.Unavailable, 1},
		{tributaryv1.ConnectionService_CreateConnection_FullMethodName, codes.Unavailable, 1},
	} {
		calls := 0
		err := retry(context.Background(), tc.method, nil, nil, nil, countingInvoker(tc.code, &calls))
		if calls != tc.calls || status.Code(err) != tc.code {
			t.Errorf("%s failing with %s: %d calls, error %v; want %d calls", tc.method, tc.code, calls, err, tc.calls)
		}
	}
}

func TestRetryInterceptorStopsWhenTheDeadlineWouldPass(t *testing.T) {
	retry := retryInterceptor(RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Hour, MaxBackoff: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := 0
	err := retry(ctx, tributaryv1.RunService_GetRun_FullMethodName, nil, nil, nil, countingInvoker(codes.Unavailable, &calls))
	if calls != 1 || status.Code(err) != codes.Unavailable {
		t.Errorf("%d calls, error %v; want 1 call and the UNAVAILABLE error", calls, err)
	}
}

func TestBackoffGrowsAndIsJitteredWithinBounds(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, InitialBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for n, bound := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		bound *= time.Millisecond
		seen := map[time.Duration]bool{}
		for range 50 {
			d := p.backoff(n)
			if d < bound/2 || d > bound {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, bound/2, bound)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) is not jittered: %v", n, seen)
		}
	}
}
