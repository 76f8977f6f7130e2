package ipqs

import (
	"errors"
	"fmt"
)

// ErrorKind classifies a failed call so that callers can decide whether to
// retry and what to tell the user.
type ErrorKind string

// The error kinds. Only ErrRateLimited, ErrServer, ErrTimeout and ErrNetwork
// are transient.
const (
	// ErrInvalidKey is "Invalid or unauthorized key".
	ErrInvalidKey ErrorKind = "invalid_key"
	// ErrInsufficientCredits is "You have insufficient credits", which IPQS
	// also returns for deleted keys.
	ErrInsufficientCredits ErrorKind = "insufficient_credits"
	// ErrQuotaExceeded is "You have exceeded your request quota".
	ErrQuotaExceeded ErrorKind = "quota_exceeded"
	// ErrInvalidInput is IPQS rejecting the indicator itself.
	ErrInvalidInput ErrorKind = "invalid_input"
	// ErrAPI is any other success:false answer.
	ErrAPI ErrorKind = "api_error"
	// ErrRateLimited is HTTP 403, which IPQS uses for rate limiting, or
	// HTTP 429.
	ErrRateLimited ErrorKind = "rate_limited"
	// ErrServer is HTTP 5xx.
	ErrServer ErrorKind = "server_error"
	// ErrTimeout is a call that passed its own deadline or the caller's.
	ErrTimeout ErrorKind = "timeout"
	// ErrNetwork is a failure to connect or read.
	ErrNetwork ErrorKind = "network_error"
	// ErrBadResponse is a body that is not the JSON IPQS sends, or a status
	// IPQS does not use, such as a redirect, which is never followed.
	ErrBadResponse ErrorKind = "bad_response"
	// ErrCanceled is a call whose caller canceled its context.
	ErrCanceled ErrorKind = "canceled"
)

// Error is a failed IPQS call. Its message never contains the API key.
type Error struct {
	Kind ErrorKind
	// Op is the API called: "ip", "url", "email" or "account".
	Op string
	// Value is the indicator looked up; empty for the account endpoint.
	Value string
	// Status is the HTTP status, or 0 when no response arrived.
	Status int
	// Message is IPQS's own message for a success:false answer.
	Message string
	// RequestID is IPQS's request_id, when the body carried one.
	RequestID string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	msg := "ipqs: " + e.Op
	if e.Value != "" {
		msg += fmt.Sprintf(" %q", e.Value)
	}
	msg += ": " + string(e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(": status %d", e.Status)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether the same call may succeed later.
func (e *Error) Temporary() bool {
	switch e.Kind {
	case ErrRateLimited, ErrServer, ErrTimeout, ErrNetwork:
		return true
	}
	return false
}

// KindOf returns the ErrorKind of err, or "" when err is not an *Error.
func KindOf(err error) ErrorKind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return ""
}
