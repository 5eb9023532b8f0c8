package tributary

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a failed call: the gRPC status and the google.rpc details the
// server attaches (BadRequest, ErrorInfo, ResourceInfo), decoded. Every
// failed call through a [Client] returns one; get it with errors.As:
//
//	var e *tributary.Error
//	if errors.As(err, &e) && e.Code() == codes.InvalidArgument {
//		for _, v := range e.FieldViolations() { … v.GetField(), v.GetDescription() }
//	}
//
// It implements GRPCStatus, so status.Code(err) and status.FromError(err)
// work on it too.
type Error struct {
	status     *status.Status
	violations []*errdetails.BadRequest_FieldViolation
	info       *errdetails.ErrorInfo
	resource   *errdetails.ResourceInfo
}

// FromStatus decodes st's details into an *Error; nil for an OK status.
func FromStatus(st *status.Status) *Error {
	if st.Code() == codes.OK {
		return nil
	}
	e := &Error{status: st}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			e.violations = append(e.violations, d.GetFieldViolations()...)
		case *errdetails.ErrorInfo:
			e.info = d
		case *errdetails.ResourceInfo:
			e.resource = d
		}
	}
	return e
}

// Code is the gRPC status code.
func (e *Error) Code() codes.Code { return e.status.Code() }

// Message is the server's message, without the code.
func (e *Error) Message() string { return e.status.Message() }

// FieldViolations lists the bad request fields (INVALID_ARGUMENT), each
// with the field's proto path (e.g. "name", "table_bindings[2].load_mode")
// and a description; nil when the server sent none.
func (e *Error) FieldViolations() []*errdetails.BadRequest_FieldViolation { return e.violations }

// ErrorInfo is the machine-readable cause: Reason (e.g. "RUN_IN_PROGRESS"),
// Domain ("tributary.dev") and Metadata; nil when the server sent none.
func (e *Error) ErrorInfo() *errdetails.ErrorInfo { return e.info }

// Reason is ErrorInfo().GetReason(), "" when absent.
func (e *Error) Reason() string { return e.info.GetReason() }

// ResourceInfo names the resource of a NOT_FOUND or ALREADY_EXISTS; nil
// when the server sent none.
func (e *Error) ResourceInfo() *errdetails.ResourceInfo { return e.resource }

// GRPCStatus is the status as received, with every detail.
func (e *Error) GRPCStatus() *status.Status { return e.status }

// Error reads "tributary: <Code>: <message>", followed by any field
// violation the message leaves out.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tributary: %s: %s", e.Code(), e.Message())
	for _, v := range e.violations {
		// Servers often say "invalid request" and leave the why to the details.
		if !strings.Contains(e.Message(), v.GetDescription()) {
			fmt.Fprintf(&b, "; %s: %s", v.GetField(), v.GetDescription())
		}
	}
	return b.String()
}

// asError turns a gRPC error into an *Error and leaves everything else
// (nil, io.EOF, errors that carry no status) as it is.
func asError(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if st, ok := status.FromError(err); ok {
		return FromStatus(st)
	}
	return err
}

// contextError is ctx's own error when ctx ended, so that callers can test
// errors.Is(err, context.Canceled) rather than a CANCELED status.
func contextError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}

func errorUnaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return asError(invoker(ctx, method, req, reply, cc, opts...))
}

func errorStreamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, asError(err)
	}
	return typedErrorStream{s}, nil
}

// typedErrorStream makes a stream's errors *Error too (io.EOF stays io.EOF).
type typedErrorStream struct{ grpc.ClientStream }

func (s typedErrorStream) SendMsg(m any) error { return asError(s.ClientStream.SendMsg(m)) }
func (s typedErrorStream) RecvMsg(m any) error { return asError(s.ClientStream.RecvMsg(m)) }
