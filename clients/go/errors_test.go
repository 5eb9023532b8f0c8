package tributary

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFromStatusDecodesDetails(t *testing.T) {
	st, err := status.New(codes.InvalidArgument, "invalid request").WithDetails(
		&errdetails.ErrorInfo{Reason: "INVALID_ARGUMENT", Domain: "tributary.dev", Metadata: map[string]string{"k": "v"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "name", Description: "must not be empty"},
			{Field: "config.row_count", Description: "must be positive"},
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	// Wrapped the way callers wrap errors, as the example does.
	wrapped := fmt.Errorf("create connection: %w", asError(st.Err()))

	var e *Error
	if !errors.As(wrapped, &e) {
		t.Fatalf("errors.As found no *Error in %v", wrapped)
	}
	if e.Code() != codes.InvalidArgument || e.Message() != "invalid request" {
		t.Errorf("code %s message %q", e.Code(), e.Message())
	}
	if v := e.FieldViolations(); len(v) != 2 || v[0].GetField() != "name" || v[1].GetDescription() != "must be positive" {
		t.Errorf("violations %v", v)
	}
	if e.Reason() != "INVALID_ARGUMENT" || e.ErrorInfo().GetDomain() != "tributary.dev" || e.ErrorInfo().GetMetadata()["k"] != "v" {
		t.Errorf("error info %v", e.ErrorInfo())
	}
	if e.ResourceInfo() != nil {
		t.Errorf("resource info %v, want none", e.ResourceInfo())
	}
	if status.Code(wrapped) != codes.InvalidArgument {
		t.Errorf("status.Code(wrapped) = %s", status.Code(wrapped))
	}
	// The message names the violations the server's message left out.
	if msg := e.Error(); !strings.Contains(msg, "name: must not be empty") || !strings.Contains(msg, "InvalidArgument") {
		t.Errorf("Error() = %q", msg)
	}
}

func TestAsErrorLeavesNonStatusErrorsAlone(t *testing.T) {
	plain := errors.New("plain")
	for _, err := range []error{nil, io.EOF, plain} {
		if got := asError(err); got != err {
			t.Errorf("asError(%v) = %v", err, got)
		}
	}
	if FromStatus(status.New(codes.OK, "")) != nil {
		t.Error("FromStatus(OK) is not nil")
	}
}
