package ipqs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// outcome is the result of one HTTP attempt.
type outcome struct {
	body      []byte
	status    int
	requestID string
	err       *Error
}

// attempt sends one GET to target and classifies the response.
func (c *Client) attempt(ctx context.Context, op, value, target string, timeout time.Duration) outcome {
	// The cause names the deadline in the error text and still matches
	// context.DeadlineExceeded.
	cause := fmt.Errorf("no response within the %v deadline: %w", timeout, context.DeadlineExceeded)
	actx, cancel := context.WithTimeoutCause(ctx, timeout, cause)
	defer cancel()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil {
		return outcome{err: &Error{Kind: ErrNetwork, Op: op, Value: value, Err: err}}
	}
	if key := c.key.Reveal(); key != "" {
		req.Header.Set(keyHeader, key)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := c.http.Do(req)
	if err != nil {
		return outcome{err: &Error{Kind: c.transportKind(ctx, actx, err), Op: op, Value: value, Err: err}}
	}
	defer func() {
		// Drain a bounded rest, so that the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodySize))
		_ = resp.Body.Close()
	}()

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodySize+1))
	if err != nil {
		return outcome{status: resp.StatusCode, err: &Error{
			Kind: c.transportKind(ctx, actx, err), Op: op, Value: value, Status: resp.StatusCode,
			Err: fmt.Errorf("read body: %w", err),
		}}
	}
	if len(body) > maxBodySize {
		return outcome{status: resp.StatusCode, err: &Error{
			Kind: ErrBadResponse, Op: op, Value: value, Status: resp.StatusCode,
			Err: fmt.Errorf("body larger than %d bytes", maxBodySize),
		}}
	}
	return classify(op, value, resp.StatusCode, body)
}

// transportKind classifies an error of sending a request or reading its
// response as the caller's context ending, the attempt's deadline, or a
// network failure.
func (c *Client) transportKind(ctx, actx context.Context, err error) ErrorKind {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return ErrCanceled
	case ctx.Err() != nil:
		return ErrTimeout
	case actx.Err() != nil:
		return ErrTimeout
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return ErrTimeout
	}
	return ErrNetwork
}

// envelope is the part of every IPQS response that tells whether it
// succeeded.
type envelope struct {
	Success   *Bool `json:"success"`
	Message   Text  `json:"message"`
	RequestID Text  `json:"request_id"`
}

// classify turns an HTTP response into an outcome. IPQS reports most errors
// as HTTP 200 with success:false, and uses HTTP 403 for rate limiting.
func classify(op, value string, status int, body []byte) outcome {
	var env envelope
	envErr := decodeTolerant(body, &env)
	out := outcome{status: status, requestID: string(env.RequestID)}
	newErr := func(kind ErrorKind, err error) outcome {
		out.err = &Error{
			Kind: kind, Op: op, Value: value, Status: status,
			Message: string(env.Message), RequestID: out.requestID, Err: err,
		}
		return out
	}

	switch {
	case status == http.StatusForbidden, status == http.StatusTooManyRequests:
		return newErr(ErrRateLimited, nil)
	case status >= 500:
		return newErr(ErrServer, nil)
	case status >= 300 && status < 400:
		return newErr(ErrBadResponse, errors.New("redirect not followed"))
	case status < 200 || status >= 300:
		return newErr(ErrBadResponse, errors.New("unexpected status"))
	}

	if envErr != nil {
		env.Message = ""
		return newErr(ErrBadResponse, fmt.Errorf("decode body: %w", envErr))
	}
	if env.Success == nil {
		return newErr(ErrBadResponse, errors.New("body has no success field"))
	}
	if !*env.Success {
		return newErr(messageKind(string(env.Message)), nil)
	}
	out.body = body
	return out
}

// messagePrefixes map the start of IPQS's success:false messages to a kind.
var messagePrefixes = []struct {
	prefix string
	kind   ErrorKind
}{
	{"Invalid or unauthorized key", ErrInvalidKey},
	{"You have insufficient credits", ErrInsufficientCredits},
	{"You have exceeded your request quota", ErrQuotaExceeded},
	{"Invalid IPv4 address, IPv6 address or hostname", ErrInvalidInput},
	{"Invalid email address", ErrInvalidInput},
	{"Invalid URL or domain", ErrInvalidInput},
}

// messageKind returns the kind of a success:false message.
func messageKind(msg string) ErrorKind {
	msg = strings.TrimSpace(msg)
	for _, p := range messagePrefixes {
		if strings.HasPrefix(msg, p.prefix) {
			return p.kind
		}
	}
	return ErrAPI
}

// redact removes the API key from e's text. The key is sent only in a header,
// so it should never appear there, but a transport or an IPQS message might
// echo it.
func (c *Client) redact(e *Error) *Error {
	key := c.key.Reveal()
	if e == nil || key == "" {
		return e
	}
	e.Message = strings.ReplaceAll(e.Message, key, redacted)
	e.Err = redactError(e.Err, key)
	return e
}

const redacted = "[REDACTED]"

// redactError returns err with key replaced in its text. A *url.Error keeps
// its type, so that callers can still inspect it.
func redactError(err error, key string) error {
	if err == nil || !strings.Contains(err.Error(), key) {
		return err
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{
			Op:  ue.Op,
			URL: strings.ReplaceAll(ue.URL, key, redacted),
			Err: redactError(ue.Err, key),
		}
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), key, redacted), err: err}
}

// redactedError is an error whose text has the key removed. Unwrap still
// returns the original, for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
