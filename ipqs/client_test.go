package ipqs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/internal/secret"
)

const testKey = "TESTKEY-0a1b2c3d4e5f"

// logBuffer collects log output from concurrent handlers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the JSON log records written so far.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		out = append(out, rec)
	}
	return out
}

// newTestClient returns a client for base with a 1ms backoff, logging at
// debug level into the returned buffer. Every test's errors and logs are
// checked for the key when the test ends.
func newTestClient(t *testing.T, base string, cfg Config) (*Client, *logBuffer) {
	t.Helper()
	logs := new(logBuffer)
	cfg.BaseURL = base
	if cfg.Key.IsZero() {
		cfg.Key = secret.New(testKey)
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if strings.Contains(logs.String(), testKey) {
			t.Errorf("logs contain the API key:\n%s", logs)
		}
	})
	return New(cfg), logs
}

// assertNoKey fails the test when err's text contains the API key.
func assertNoKey(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Errorf("error contains the API key: %v", err)
	}
}

func startFake(t *testing.T) *ipqsfake.Server {
	t.Helper()
	s := ipqsfake.New(testKey)
	t.Cleanup(s.Close)
	return s
}

func TestLookupFixtures(t *testing.T) {
	fake := startFake(t)
	c, _ := newTestClient(t, fake.URL(), Config{})

	tests := []struct {
		name  string
		req   Request
		check func(t *testing.T, r *Result)
	}{
		{"ip clean", Request{Kind: KindIP, Value: "192.0.2.1"}, func(t *testing.T, r *Result) {
			if r.IP.FraudScore != (Int{Value: 0, Valid: true}) || r.IP.VPN || r.IP.ASN.Value != 13335 || r.IP.ISP != "Cloudflare" {
				t.Errorf("IP = %+v, want ip_clean.json", r.IP)
			}
		}},
		{"ip vpn tor", Request{Kind: KindIP, Value: "192.0.2.4"}, func(t *testing.T, r *Result) {
			if r.IP.FraudScore.Value != 100 || !r.IP.VPN || !r.IP.Tor || !r.IP.Proxy || len(r.IP.AbuseEvents) != 6 {
				t.Errorf("IP = %+v, want ip_vpn_tor.json", r.IP)
			}
		}},
		{"url clean", Request{Kind: KindURL, Value: "https://abc.example/"}, func(t *testing.T, r *Result) {
			if r.URL.RiskScore.Value != 0 || r.URL.Unsafe || r.URL.Domain != "abc.com" || r.URL.DomainAge.Timestamp.Value != 832737600 {
				t.Errorf("URL = %+v, want url_clean.json", r.URL)
			}
		}},
		{"url phishing", Request{Kind: KindURL, Value: "https://phish.example/"}, func(t *testing.T, r *Result) {
			if r.URL.RiskScore.Value != 100 || !r.URL.Phishing || !r.URL.Unsafe || r.URL.FinalURL == "" {
				t.Errorf("URL = %+v, want url_phishing.json", r.URL)
			}
		}},
		{"url suspicious", Request{Kind: KindURL, Value: "https://suspicious.example/"}, func(t *testing.T, r *Result) {
			if r.URL.RiskScore.Value != 78 || !r.URL.Suspicious || r.URL.Phishing {
				t.Errorf("URL = %+v, want url_suspicious.json", r.URL)
			}
		}},
		{"email valid", Request{Kind: KindEmail, Value: "user@example.com"}, func(t *testing.T, r *Result) {
			if !r.Email.Valid || r.Email.Disposable || r.Email.Deliverability != "high" {
				t.Errorf("Email = %+v, want email_valid.json", r.Email)
			}
		}},
		{"email disposable", Request{Kind: KindEmail, Value: "throwaway@tempmail.example"}, func(t *testing.T, r *Result) {
			if !r.Email.Disposable || r.Email.FraudScore.Value != 100 {
				t.Errorf("Email = %+v, want email_disposable.json", r.Email)
			}
		}},
		{"email honeypot", Request{Kind: KindEmail, Value: "honeypot@example.com"}, func(t *testing.T, r *Result) {
			if !r.Email.Honeypot || r.Email.Disposable {
				t.Errorf("Email = %+v, want email_honeypot.json", r.Email)
			}
		}},
		{"email invalid leaked", Request{Kind: KindEmail, Value: "leaked@example.com"}, func(t *testing.T, r *Result) {
			if r.Email.Valid || !r.Email.Leaked || !r.Email.FrequentComplainer {
				t.Errorf("Email = %+v, want email_invalid_leaked.json", r.Email)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			r, err := c.Lookup(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}

			if r.Kind != tt.req.Kind || r.Value != tt.req.Value {
				t.Errorf("result is for %s %q, want %s %q", r.Kind, r.Value, tt.req.Kind, tt.req.Value)
			}
			set := 0
			for _, isSet := range []bool{r.IP != nil, r.URL != nil, r.Email != nil} {
				if isSet {
					set++
				}
			}
			if set != 1 {
				t.Fatalf("%d of IP, URL and Email set, want 1", set)
			}
			if !json.Valid(r.Raw) || !bytes.Contains(r.Raw, []byte(r.RequestID())) {
				t.Errorf("Raw = %s, want the body with request_id %q", r.Raw, r.RequestID())
			}
			if !strings.HasPrefix(r.RequestID(), "Fk") {
				t.Errorf("RequestID = %q, want the fake's fresh id", r.RequestID())
			}
			if r.FetchedAt.Before(before) || r.Cached {
				t.Errorf("FetchedAt = %v, Cached = %v; want a fresh answer", r.FetchedAt, r.Cached)
			}
			tt.check(t, r)
		})
	}
}

func TestAccount(t *testing.T) {
	fake := startFake(t)
	c, _ := newTestClient(t, fake.URL(), Config{})

	acct, err := c.Account(context.Background())
	if err != nil {
		t.Fatalf("Account: %v", err)
	}
	if acct.Credits.Value != 4999762 || acct.URLUsage.Value != 60 || !bool(acct.Success) {
		t.Errorf("Account = %+v, want account.json", acct)
	}
	if n := fake.Calls("account", ""); n != 1 {
		t.Errorf("account calls = %d, want 1", n)
	}
}

func TestErrorBodiesNotRetried(t *testing.T) {
	tests := []struct {
		fixture string
		kind    Kind
		want    ErrorKind
	}{
		{"error_invalid_key.json", KindIP, ErrInvalidKey},
		{"error_quota.json", KindIP, ErrInsufficientCredits},
		{"error_daily_quota.json", KindURL, ErrQuotaExceeded},
		{"error_invalid_ip.json", KindIP, ErrInvalidInput},
		{"error_invalid_email.json", KindEmail, ErrInvalidInput},
		{"error_invalid_url.json", KindURL, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			fake := startFake(t)
			c, _ := newTestClient(t, fake.URL(), Config{})
			fake.Respond(string(tt.kind), "x@example.com", ipqsfake.Response{Fixture: tt.fixture})

			_, err := c.Lookup(context.Background(), Request{Kind: tt.kind, Value: "x@example.com"})
			assertNoKey(t, err)
			if got := KindOf(err); got != tt.want {
				t.Fatalf("KindOf(%v) = %q, want %q", err, got, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Message == "" || e.Status != http.StatusOK || e.Temporary() {
				t.Errorf("error = %#v, want IPQS's message, status 200 and not temporary", e)
			}
			if n := fake.Calls(string(tt.kind), "x@example.com"); n != 1 {
				t.Errorf("calls = %d, want 1 (no retry)", n)
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	fake := startFake(t)
	c, _ := newTestClient(t, fake.URL(), Config{Key: secret.New("TESTKEY-wrong")})

	_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
	if KindOf(err) != ErrInvalidKey {
		t.Errorf("err = %v, want %s", err, ErrInvalidKey)
	}
	if strings.Contains(err.Error(), "TESTKEY-wrong") {
		t.Errorf("error contains the key: %v", err)
	}
}

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		want      ErrorKind
		wantCalls int
	}{
		{"403 rate limit retried", http.StatusForbidden, ErrRateLimited, 3},
		{"429 retried", http.StatusTooManyRequests, ErrRateLimited, 3},
		{"500 retried to the bound", http.StatusInternalServerError, ErrServer, 3},
		{"503 retried to the bound", http.StatusServiceUnavailable, ErrServer, 3},
		{"404 not retried", http.StatusNotFound, ErrBadResponse, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := startFake(t)
			c, logs := newTestClient(t, fake.URL(), Config{})
			fake.Respond("ip", "192.0.2.1", ipqsfake.Response{Status: tt.status})

			_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
			assertNoKey(t, err)
			if got := KindOf(err); got != tt.want {
				t.Fatalf("KindOf(%v) = %q, want %q", err, got, tt.want)
			}
			if n := fake.Calls("ip", "192.0.2.1"); n != tt.wantCalls {
				t.Errorf("calls = %d, want %d", n, tt.wantCalls)
			}
			if n := len(logs.records(t)); n != tt.wantCalls {
				t.Errorf("%d log records, want one per attempt (%d)", n, tt.wantCalls)
			}
		})
	}
}

func TestRetriesConfig(t *testing.T) {
	tests := []struct {
		retries   int
		wantCalls int
	}{
		{-1, 1},
		{0, 3},
		{1, 2},
		{4, 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("retries ", tt.retries), func(t *testing.T) {
			fake := startFake(t)
			c, _ := newTestClient(t, fake.URL(), Config{Retries: tt.retries})
			fake.SetFault(http.StatusBadGateway)

			_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
			if KindOf(err) != ErrServer {
				t.Errorf("err = %v, want %s", err, ErrServer)
			}
			if n := fake.TotalCalls(); n != tt.wantCalls {
				t.Errorf("calls = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	fake := startFake(t)
	c, logs := newTestClient(t, fake.URL(), Config{})
	fake.Respond("ip", "192.0.2.1", ipqsfake.Response{Status: http.StatusInternalServerError, Times: 1})

	r, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if r.IP == nil || r.IP.ISP != "Cloudflare" {
		t.Errorf("IP = %+v, want ip_clean.json", r.IP)
	}
	if n := fake.Calls("ip", "192.0.2.1"); n != 2 {
		t.Errorf("calls = %d, want 2", n)
	}

	recs := logs.records(t)
	if len(recs) != 2 {
		t.Fatalf("%d log records, want 2: %v", len(recs), recs)
	}
	if recs[0]["level"] != "WARN" || recs[0]["retry"] != true || recs[0]["status"] != 500.0 || recs[0]["attempt"] != 1.0 {
		t.Errorf("first record = %v, want a warning of status 500 that will be retried", recs[0])
	}
	if recs[1]["level"] != "DEBUG" || recs[1]["request_id"] != r.RequestID() || recs[1]["attempt"] != 2.0 {
		t.Errorf("second record = %v, want debug with request_id %q", recs[1], r.RequestID())
	}
	for _, field := range []string{"op", "status", "duration_ms", "request_id", "attempt"} {
		if _, ok := recs[1][field]; !ok {
			t.Errorf("record lacks %s: %v", field, recs[1])
		}
	}
}

func TestAttemptTimeout(t *testing.T) {
	fake := startFake(t)
	c, _ := newTestClient(t, fake.URL(), Config{Retries: 1})
	c.deadlines.ip = 50 * time.Millisecond
	fake.SetLatency(time.Minute)

	start := time.Now()
	_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
	if KindOf(err) != ErrTimeout {
		t.Fatalf("err = %v, want %s", err, ErrTimeout)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Lookup took %v, want about 100ms", d)
	}
	if n := fake.TotalCalls(); n != 2 {
		t.Errorf("calls = %d, want 2 (timeouts are retried)", n)
	}
}

func TestDeadlines(t *testing.T) {
	c := New(Config{})
	margin := defaultDeadlines.margin
	params := func(kind Kind, name, value string) Params {
		p := Params{}
		if err := p.Set(kind, name, value); err != nil {
			t.Fatal(err)
		}
		return p
	}

	tests := []struct {
		name string
		req  Request
		want time.Duration
	}{
		{"ip", Request{Kind: KindIP}, 10 * time.Second},
		{"url default", Request{Kind: KindURL}, 2*time.Second + margin},
		{"url timeout 10", Request{Kind: KindURL, Params: params(KindURL, "timeout", "10")}, 10*time.Second + margin},
		{"url timeout out of range", Request{Kind: KindURL, Params: Params{"timeout": "99"}}, 10*time.Second + margin},
		{"email default", Request{Kind: KindEmail}, 7*time.Second + margin},
		{"email timeout 60", Request{Kind: KindEmail, Params: params(KindEmail, "timeout", "60")}, 60*time.Second + margin},
		{"email timeout 1", Request{Kind: KindEmail, Params: params(KindEmail, "timeout", "1")}, time.Second + margin},
	}
	for _, tt := range tests {
		if got := c.deadline(tt.req); got != tt.want {
			t.Errorf("%s: deadline = %v, want %v", tt.name, got, tt.want)
		}
	}
	if margin <= 0 || c.deadlines.account <= 0 {
		t.Errorf("deadlines = %+v, want positive values", c.deadlines)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cancel()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL+"/", Config{Retries: 5, Backoff: time.Minute})

	start := time.Now()
	_, err := c.Lookup(ctx, Request{Kind: KindIP, Value: "192.0.2.1"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
	if KindOf(err) != ErrCanceled {
		t.Errorf("KindOf(%v) = %q, want %q", err, KindOf(err), ErrCanceled)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Lookup took %v after cancel, want it to stop at once", d)
	}
}

func TestCanceledBeforeCall(t *testing.T) {
	fake := startFake(t)
	c, _ := newTestClient(t, fake.URL(), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := c.Lookup(ctx, Request{Kind: KindIP, Value: "192.0.2.1"})
	if KindOf(err) != ErrCanceled {
		t.Errorf("err = %v, want %s", err, ErrCanceled)
	}
	if n := fake.TotalCalls(); n != 0 {
		t.Errorf("calls = %d, want 0", n)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var targetCalls atomic.Int32
	var keySeen atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetCalls.Add(1)
		if r.Header.Get("IPQS-KEY") != "" {
			keySeen.Store(true)
		}
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	t.Cleanup(target.Close)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(origin.Close)

	// A caller's client that would follow redirects keeps its own policy.
	callerClient := &http.Client{}
	c, _ := newTestClient(t, origin.URL+"/api/json/", Config{HTTPClient: callerClient})

	_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrBadResponse || e.Status != http.StatusFound {
		t.Errorf("err = %v, want %s with status 302", err, ErrBadResponse)
	}
	if n := targetCalls.Load(); n != 0 {
		t.Errorf("redirect target called %d times, want 0", n)
	}
	if keySeen.Load() {
		t.Error("redirect target received the IPQS-KEY header")
	}
	if callerClient.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

func TestRequestEncoding(t *testing.T) {
	fake := startFake(t)
	c, _ := newTestClient(t, fake.URL(), Config{})

	value := "https://example.com/a b?x=1&ip=192.0.2.9#frag"
	params := Params{}
	for name, v := range map[string]string{"strictness": "1", "fast": "true", "timeout": "5"} {
		if err := params.Set(KindURL, name, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Lookup(context.Background(), Request{Kind: KindURL, Value: value, Params: params}); err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if _, err := c.Account(context.Background()); err != nil {
		t.Fatalf("Account: %v", err)
	}

	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if !r.KeyPresent || !r.KeyValid {
			t.Errorf("%s: IPQS-KEY header missing or wrong", r.Path)
		}
		if strings.Contains(r.Path+"?"+r.RawQuery, testKey) {
			t.Errorf("%s?%s contains the key", r.Path, r.RawQuery)
		}
		if r.Method != http.MethodGet {
			t.Errorf("%s: method %s, want GET", r.Path, r.Method)
		}
	}

	lookup := reqs[0]
	if lookup.Path != "/api/json/url" {
		t.Errorf("path = %q, want /api/json/url", lookup.Path)
	}
	want := url.Values{"url": {value}, "strictness": {"1"}, "fast": {"true"}, "timeout": {"5"}}
	if lookup.Query.Encode() != want.Encode() {
		t.Errorf("query = %v, want %v", lookup.Query, want)
	}
	if strings.Contains(lookup.RawQuery, "&ip=") || strings.Contains(lookup.RawQuery, "#") {
		t.Errorf("raw query %q does not escape the URL value", lookup.RawQuery)
	}
	if reqs[1].Path != "/api/json/account" || reqs[1].RawQuery != "" {
		t.Errorf("account request = %s?%s, want /api/json/account with no query", reqs[1].Path, reqs[1].RawQuery)
	}
}

func TestParamCannotReplaceIndicator(t *testing.T) {
	fake := startFake(t)
	c, _ := newTestClient(t, fake.URL(), Config{})

	_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1", Params: Params{"ip": "192.0.2.4"}})
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if got := fake.Requests()[0].Query["ip"]; len(got) != 1 || got[0] != "192.0.2.1" {
		t.Errorf("ip parameter = %v, want only the request's value", got)
	}
}

func TestInvalidRequest(t *testing.T) {
	fake := startFake(t)
	c, _ := newTestClient(t, fake.URL(), Config{})

	for _, req := range []Request{
		{Kind: "phone", Value: "15555550100"},
		{Kind: KindIP, Value: ""},
	} {
		if _, err := c.Lookup(context.Background(), req); err == nil {
			t.Errorf("Lookup(%+v) succeeded, want an error", req)
		}
	}
	if n := fake.TotalCalls(); n != 0 {
		t.Errorf("calls = %d, want 0", n)
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/"
	srv.Close()
	c, _ := newTestClient(t, base, Config{Retries: 1})

	_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
	assertNoKey(t, err)
	if KindOf(err) != ErrNetwork {
		t.Errorf("err = %v, want %s", err, ErrNetwork)
	}
	if _, ok := errors.AsType[*url.Error](err); !ok {
		t.Errorf("err = %v, want it to wrap the *url.Error", err)
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestKeyRedactedFromErrors(t *testing.T) {
	// A transport that echoes the key in its error, as a proxy or a
	// misconfigured transport might.
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy rejected key %s", r.Header.Get("IPQS-KEY"))
	})
	c, logs := newTestClient(t, "http://127.0.0.1:1/"+testKey+"/", Config{
		HTTPClient: &http.Client{Transport: transport},
		Retries:    -1,
	})

	_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
	if err == nil {
		t.Fatal("Lookup succeeded, want a network error")
	}
	assertNoKey(t, err)
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("err = %v, want the key replaced by [REDACTED]", err)
	}
	if _, ok := errors.AsType[*url.Error](err); !ok {
		t.Errorf("err = %v, want it to still wrap a *url.Error", err)
	}
	if !strings.Contains(logs.String(), "[REDACTED]") {
		t.Errorf("logs = %s, want the redacted error logged", logs)
	}
}

func TestKeyRedactedFromMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"success":false,"message":"Invalid or unauthorized key: %s"}`, r.Header.Get("IPQS-KEY"))
	}))
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL+"/", Config{})

	_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
	assertNoKey(t, err)
	if KindOf(err) != ErrInvalidKey {
		t.Errorf("err = %v, want %s", err, ErrInvalidKey)
	}
}

func TestConcurrentCallsReuseConnections(t *testing.T) {
	var opened atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"success":true,"message":"Success","fraud_score":0,"request_id":"r1"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL+"/", Config{})

	const workers, rounds = 16, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				ip := fmt.Sprintf("192.0.2.%d", w*rounds+i)
				if _, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: ip}); err != nil {
					t.Errorf("lookup %s: %v", ip, err)
				}
			}
		})
	}
	wg.Wait()

	// With 2 idle connections per host, most of the 320 calls would open a
	// connection of their own.
	if n := opened.Load(); n > 2*workers {
		t.Errorf("connections opened = %d for %d concurrent callers, want at most %d", n, workers, 2*workers)
	}
}

func TestRetryCheckStopsRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL+"/", Config{Retries: 3})

	tests := []struct {
		name      string
		allow     bool
		wantCalls int32
	}{
		{"retry refused", false, 1},
		{"retry allowed", true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			ctx := WithRetryCheck(context.Background(), func(error) bool { return tt.allow })
			_, err := c.Lookup(ctx, Request{Kind: KindIP, Value: "192.0.2.1"})
			if KindOf(err) != ErrServer {
				t.Errorf("KindOf(%v) = %q, want %q", err, KindOf(err), ErrServer)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("calls = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}
