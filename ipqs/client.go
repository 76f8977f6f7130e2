package ipqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/secret"
)

// DefaultBaseURL is IPQualityScore's JSON API.
const DefaultBaseURL = "https://ipqualityscore.com/api/json/"

const (
	defaultRetries = 2
	defaultBackoff = 250 * time.Millisecond
	// maxBackoff caps the doubled retry delay.
	maxBackoff = 5 * time.Second
	// maxBodySize bounds a response body. IPQS responses are a few KiB, and
	// an email response with identity data stays well below this limit.
	maxBodySize = 1 << 20
	// keyHeader carries the API key, so that it never appears in a URL.
	keyHeader = "IPQS-KEY"
	userAgent = "ipqsbot"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the API root, ending in "/"; empty means DefaultBaseURL.
	// A missing final "/" is added.
	BaseURL string
	// Key is the API key, sent in the IPQS-KEY header.
	Key secret.Value
	// HTTPClient, when set, is used for calls; its redirect policy is
	// replaced so that no redirect is followed. Its Timeout, if any, applies as
	// well as the Client's own per-call deadlines.
	HTTPClient *http.Client
	// Logger receives one record per HTTP attempt; nil discards.
	Logger *slog.Logger
	// Retries is how many times a transient failure is retried; 0 means 2
	// and a negative number disables retries.
	Retries int
	// Backoff is the first retry delay, doubled each time up to 5s; 0 or
	// less means 250ms.
	Backoff time.Duration
}

// deadlines are the per-attempt deadlines of each API. The URL and email
// APIs take a server-side time budget in their timeout parameter, so their
// deadline is that budget plus margin. They are fields so that tests can
// shorten them.
type deadlines struct {
	ip      time.Duration
	account time.Duration
	margin  time.Duration
}

// defaultDeadlines leave IPQS its server-side budget plus time for the
// network. The IP API documents no budget. The 10s values are a generous
// estimate, not a documented limit.
var defaultDeadlines = deadlines{
	ip:      10 * time.Second,
	account: 10 * time.Second,
	margin:  3 * time.Second,
}

// Server-side time budgets of the URL and email APIs in seconds, from
// IPQualityScore's API documentation: the default and the maximum of the
// timeout parameter.
const (
	urlBudgetDefault   = 2
	urlBudgetMax       = 10
	emailBudgetDefault = 7
	emailBudgetMax     = 60
)

// Client calls IPQualityScore's APIs. It is safe for concurrent use.
//
// Responses of HTTP 200 with success:false are never retried. HTTP 403 (IPQS's
// rate limit), 429, 5xx, timeouts and network errors are retried up to
// Config.Retries times with exponential backoff, unless the caller's context
// ends first. A redirect is never followed, because Go's http.Client would
// copy the IPQS-KEY header to the redirect target.
type Client struct {
	base      string
	key       secret.Value
	http      *http.Client
	logger    *slog.Logger
	retries   int
	backoff   time.Duration
	deadlines deadlines
}

// maxIdleConns bounds the idle connections kept to IPQS. It matches the
// bot's default number of concurrent lookups (WORKERS).
const maxIdleConns = 64

// New returns a Client for cfg. It makes no network call, so a wrong key
// shows up as an ErrInvalidKey error on the first call.
func New(cfg Config) *Client {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}

	// A copy, so that the caller's client keeps its own redirect policy.
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		// Every call goes to one host, so Go's default of 2 idle connections
		// per host would make most concurrent calls open a new connection
		// and do a new TLS handshake.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = maxIdleConns
		hc.Transport = t
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}

	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	retries := cfg.Retries
	switch {
	case retries == 0:
		retries = defaultRetries
	case retries < 0:
		retries = 0
	}

	backoff := cfg.Backoff
	if backoff <= 0 {
		backoff = defaultBackoff
	}

	return &Client{
		base:      base,
		key:       cfg.Key,
		http:      &hc,
		logger:    logger,
		retries:   retries,
		backoff:   backoff,
		deadlines: defaultDeadlines,
	}
}

// Lookup runs one lookup. A failed lookup returns an *Error whose Kind shows
// whether a later retry makes sense. An invalid Request returns a plain error
// before any network call.
func (c *Client) Lookup(ctx context.Context, req Request) (*Result, error) {
	switch req.Kind {
	case KindIP, KindURL, KindEmail:
	default:
		return nil, fmt.Errorf("ipqs: lookup %q: unknown lookup kind %q, use ip, url or email", req.Value, req.Kind)
	}
	if req.Value == "" {
		return nil, fmt.Errorf("ipqs: lookup %s: missing value", req.Kind)
	}

	op := string(req.Kind)
	query := req.Params.values()
	// Set last, so that no parameter can replace the indicator.
	query.Set(op, req.Value)

	body, err := c.call(ctx, op, req.Value, query, c.deadline(req))
	if err != nil {
		return nil, err
	}

	res := &Result{
		Kind:      req.Kind,
		Value:     req.Value,
		Raw:       json.RawMessage(body),
		FetchedAt: time.Now(),
	}
	switch req.Kind {
	case KindIP:
		res.IP = new(IPResult)
		err = decodeTolerant(body, res.IP)
	case KindURL:
		res.URL = new(URLResult)
		err = decodeTolerant(body, res.URL)
	case KindEmail:
		res.Email = new(EmailResult)
		err = decodeTolerant(body, res.Email)
	}
	if err != nil {
		return nil, &Error{Kind: ErrBadResponse, Op: op, Value: req.Value, Status: http.StatusOK, Err: err}
	}
	return res, nil
}

// Account returns the account's credits and usage.
func (c *Client) Account(ctx context.Context) (*Account, error) {
	body, err := c.call(ctx, "account", "", url.Values{}, c.deadlines.account)
	if err != nil {
		return nil, err
	}

	var acct Account
	if err := decodeTolerant(body, &acct); err != nil {
		return nil, &Error{Kind: ErrBadResponse, Op: "account", Status: http.StatusOK, Err: err}
	}
	return &acct, nil
}

// deadline returns the per-attempt deadline of req: above the server-side
// budget that its timeout parameter sets, for the URL and email APIs.
func (c *Client) deadline(req Request) time.Duration {
	switch req.Kind {
	case KindURL:
		return budget(req.Params, urlBudgetDefault, urlBudgetMax) + c.deadlines.margin
	case KindEmail:
		return budget(req.Params, emailBudgetDefault, emailBudgetMax) + c.deadlines.margin
	default:
		return c.deadlines.ip
	}
}

// budget returns the timeout parameter of p in seconds, def when absent,
// clamped to 1 to maxSeconds as IPQS does.
func budget(p Params, def, maxSeconds int) time.Duration {
	n := min(max(p.intParam("timeout", def), 1), maxSeconds)
	return time.Duration(n) * time.Second
}

// decodeTolerant decodes an IPQS body into v. A field whose JSON type does not
// match v's field is left at its zero value, because IPQS changes field types
// without notice. Only a body that is not a JSON object is an error.
func decodeTolerant(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && isJSONObject(body) {
		return nil
	}
	return err
}

// isJSONObject reports whether body is a JSON object.
func isJSONObject(body []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(body, &m) == nil && m != nil
}

// call runs one API call with retries and returns the body of a successful
// response.
func (c *Client) call(ctx context.Context, op, value string, query url.Values, timeout time.Duration) ([]byte, error) {
	target := c.base + op
	if len(query) > 0 {
		target += "?" + query.Encode()
	}

	for attempt := 1; ; attempt++ {
		start := time.Now()
		out := c.attempt(ctx, op, value, target, timeout)
		out.err = c.redact(out.err)

		retryable := out.err != nil && attempt <= c.retries && out.err.Temporary()
		retry := retryable && ctx.Err() == nil && AllowRetry(ctx, out.err)
		c.logAttempt(ctx, op, attempt, time.Since(start), out, retry)
		if out.err == nil {
			return out.body, nil
		}
		// A caller that gave up while the attempt was under way learns that,
		// not the transient failure a retry would have replaced.
		if retryable && ctx.Err() != nil {
			return nil, c.contextError(ctx, op, value, out.err)
		}
		if !retry {
			return nil, out.err
		}

		wait := min(c.backoff<<(attempt-1), maxBackoff)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, c.contextError(ctx, op, value, out.err)
		case <-timer.C:
		}
	}
}

type retryCheckKey struct{}

// WithRetryCheck returns ctx carrying check, which a Client calls with the
// error of a failed attempt before it retries a call made with ctx. When
// check returns false, the Client gives up and returns that error. A
// circuit breaker uses it to count failed attempts, and to stop the
// retries of calls in flight once it has opened.
func WithRetryCheck(ctx context.Context, check func(err error) bool) context.Context {
	return context.WithValue(ctx, retryCheckKey{}, check)
}

// AllowRetry reports whether the retry check of ctx, if any, allows a
// retry after the failed attempt err.
func AllowRetry(ctx context.Context, err error) bool {
	check, ok := ctx.Value(retryCheckKey{}).(func(error) bool)
	return !ok || check(err)
}

// contextError returns the error for a call whose caller's context ended
// before it could retry after last.
func (c *Client) contextError(ctx context.Context, op, value string, last *Error) *Error {
	kind := ErrCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		kind = ErrTimeout
	}
	return &Error{
		Kind:      kind,
		Op:        op,
		Value:     value,
		Status:    last.Status,
		RequestID: last.RequestID,
		Err:       fmt.Errorf("retry abandoned after %s: %w", last.Kind, context.Cause(ctx)),
	}
}

// logAttempt writes the one record of an HTTP attempt: debug level on
// success, warn level on failure.
func (c *Client) logAttempt(ctx context.Context, op string, attempt int, d time.Duration, out outcome, retry bool) {
	attrs := []slog.Attr{
		slog.String("op", op),
		slog.Int("status", out.status),
		slog.Int64("duration_ms", d.Milliseconds()),
		slog.String("request_id", out.requestID),
		slog.Int("attempt", attempt),
	}
	if out.err == nil {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "ipqs call succeeded", attrs...)
		return
	}
	attrs = append(attrs,
		slog.String("error_kind", string(out.err.Kind)),
		slog.Bool("retry", retry),
		slog.Any("err", out.err),
	)
	c.logger.LogAttrs(ctx, slog.LevelWarn, "ipqs call failed", attrs...)
}
