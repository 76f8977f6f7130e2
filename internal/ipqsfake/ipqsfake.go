// Package ipqsfake is a fake IPQualityScore JSON API for tests. It serves the
// ip, url, email and account endpoints on 127.0.0.1 from JSON fixtures
// embedded in the package, so tests in any package can use it.
//
// A request must carry the server's key in the IPQS-KEY header; a missing or
// wrong key gets HTTP 200 with error_invalid_key.json, as IPQS does. A
// missing indicator, or an email address without "@", gets the matching
// invalid-input error body. Only GET is served.
//
// Without an override, the response depends on the indicator:
//
//	ip:      an IPv4 address whose last octet is 4, or one given to
//	         WithBadIPs, gets ip_vpn_tor.json; any other value ip_clean.json.
//	url:     a value containing "phish" or "login" gets url_phishing.json,
//	         one containing "suspicious" url_suspicious.json, any other
//	         url_clean.json.
//	email:   a value starting with "throwaway" gets email_disposable.json,
//	         "honeypot" email_honeypot.json, "leaked"
//	         email_invalid_leaked.json, any other email_valid.json.
//	account: account.json.
//
// Matching ignores case. Every response built from a fixture that has a
// request_id gets a new one, unique per server, so tests can tell calls apart.
// The other fields, host and domain included, stay as in the fixture. Error bodies
// carry no request_id, because whether IPQS sends one there is unknown.
//
// Server.Respond overrides the response for one indicator, and SetFault and
// SetLatency change every response. Calls, TotalCalls and Requests report what
// the server received.
//
// The fixtures follow IPQS's response format. In error_invalid_url.json only
// the start of the message, "Invalid URL or domain", is known from IPQS.
package ipqsfake

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

//go:embed testdata/*.json
var fixtures embed.FS

// basePath is the API root that URL returns, as on ipqualityscore.com.
const basePath = "/api/json/"

// keyHeader is the header that carries the API key.
const keyHeader = "IPQS-KEY"

// Response is an override that Respond sets for one indicator. Fields combine: the
// server waits Delay, then responds with Status, and with Body, or else the
// fixture named Fixture, or else the default response for the indicator.
// Body is sent as is; a fixture gets a fresh request_id.
type Response struct {
	// Fixture names an embedded fixture, such as "url_phishing.json".
	Fixture string
	// Status is the HTTP status; 0 means 200. A status other than 200
	// without Body or Fixture gets its status text as a plain body.
	Status int
	// Body is a raw body.
	Body string
	// Delay is how long the server waits before responding. A request whose
	// client gives up ends the wait.
	Delay time.Duration
	// Times limits the override to the next Times calls for the indicator,
	// after which the default response applies again; 0 means every call.
	Times int
}

// Recorded is a request as the server received it.
type Recorded struct {
	Method string
	// Path is the URL path, such as "/api/json/ip".
	Path string
	// RawQuery is the query string as sent, and Query its decoded form.
	RawQuery string
	Query    url.Values
	// KeyPresent reports whether the request had an IPQS-KEY header, and
	// KeyValid whether it carried the server's key.
	KeyPresent bool
	KeyValid   bool
}

// Option configures a Server.
type Option func(*Server)

// WithBadIPs makes the server respond with ip_vpn_tor.json for each of ips, in
// addition to IPv4 addresses whose last octet is 4.
func WithBadIPs(ips ...string) Option {
	return func(s *Server) {
		for _, ip := range ips {
			s.badIPs[strings.ToLower(ip)] = true
		}
	}
}

// target is an indicator of a kind: ("ip", "192.0.2.4") or ("account", "").
type target struct {
	kind, value string
}

// override is a Response with the number of calls it still applies to; a
// negative count means every call.
type override struct {
	resp Response
	left int
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	key    string
	srv    *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu        sync.Mutex
	badIPs    map[string]bool
	overrides map[target]*override
	fault     int
	latency   time.Duration
	calls     map[target]int
	requests  []Recorded
	nextID    int
}

// New starts a fake that accepts key. Close it when done, for example with
// t.Cleanup(srv.Close).
func New(key string, opts ...Option) *Server {
	s := &Server{
		key:       key,
		closed:    make(chan struct{}),
		badIPs:    make(map[string]bool),
		overrides: make(map[target]*override),
		calls:     make(map[target]int),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL returns the API base URL, ending in "/", such as
// "http://127.0.0.1:1234/api/json/".
func (s *Server) URL() string { return s.srv.URL + basePath }

// Close ends pending delays and shuts the server down, waiting for requests
// in flight.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	s.srv.Close()
}

// Respond sets the response for value looked up with kind ("ip", "url",
// "email", or "account" with an empty value), replacing an earlier one. The
// value must match the query parameter exactly as decoded.
func (s *Server) Respond(kind, value string, r Response) {
	left := r.Times
	if left <= 0 {
		left = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides[target{kind, value}] = &override{resp: r, left: left}
}

// SetFault makes every request get an empty response with HTTP status, before
// the key is checked, as an outage would. 0 ends the fault.
func (s *Server) SetFault(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = status
}

// SetLatency delays every response by d; 0 ends the delay. A Response's Delay
// adds to it.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Calls returns how many requests the server received for value looked up
// with kind, whatever the response was.
func (s *Server) Calls(kind, value string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[target{kind, value}]
}

// TotalCalls returns how many requests the server received, unknown paths
// included.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns a copy of every request received, oldest first.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recorded, len(s.requests))
	for i, r := range s.requests {
		r.Query = cloneValues(r.Query)
		out[i] = r
	}
	return out
}

// Fixture returns the embedded fixture name, such as "ip_clean.json", as
// recorded, with its original request_id.
func Fixture(name string) ([]byte, error) {
	return fixtures.ReadFile("testdata/" + name)
}

// Fixtures returns the names of the embedded fixtures, sorted.
func Fixtures() []string {
	entries, err := fs.ReadDir(fixtures, "testdata")
	if err != nil {
		panic(fmt.Sprintf("ipqsfake: read embedded fixtures: %v", err))
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// serve handles one request: it records the request, waits, then responds
// with the fault, the invalid-key error, an override or the default
// response, in that order.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	keyValues := r.Header.Values(keyHeader)
	keyValid := len(keyValues) == 1 && keyValues[0] == s.key
	query := r.URL.Query()
	kind, known := strings.CutPrefix(r.URL.Path, basePath)
	known = known && slices.Contains([]string{"ip", "url", "email", "account"}, kind)
	tgt := target{kind: kind}
	if kind != "account" {
		tgt.value = query.Get(kind)
	}

	s.mu.Lock()
	s.requests = append(s.requests, Recorded{
		Method:     r.Method,
		Path:       r.URL.Path,
		RawQuery:   r.URL.RawQuery,
		Query:      cloneValues(query),
		KeyPresent: len(keyValues) > 0,
		KeyValid:   keyValid,
	})
	if known {
		s.calls[tgt]++
	}
	fault, latency := s.fault, s.latency
	var resp Response
	if o := s.overrides[tgt]; o != nil && known {
		resp = o.resp
		if o.left > 0 {
			o.left--
			if o.left == 0 {
				delete(s.overrides, tgt)
			}
		}
	}
	s.mu.Unlock()

	if !s.wait(r, latency+resp.Delay) {
		return
	}

	switch {
	case !known:
		http.NotFound(w, r)
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	case fault != 0:
		w.WriteHeader(fault)
	case !keyValid:
		s.writeFixture(w, http.StatusOK, "error_invalid_key.json")
	case resp.Body != "":
		writeBody(w, status(resp.Status), []byte(resp.Body))
	case resp.Fixture != "":
		s.writeFixture(w, status(resp.Status), resp.Fixture)
	case resp.Status != 0 && resp.Status != http.StatusOK:
		http.Error(w, http.StatusText(resp.Status), resp.Status)
	default:
		s.writeFixture(w, http.StatusOK, s.defaultFixture(tgt))
	}
}

// wait sleeps for d and reports whether the request should still be
// served: false when the client left or the server is closing.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return false
	}
}

// defaultFixture returns the fixture that t gets without an override.
func (s *Server) defaultFixture(t target) string {
	value := strings.ToLower(t.value)
	switch t.kind {
	case "ip":
		switch {
		case value == "":
			return "error_invalid_ip.json"
		case s.isBadIP(value):
			return "ip_vpn_tor.json"
		}
		return "ip_clean.json"
	case "url":
		switch {
		case value == "":
			return "error_invalid_url.json"
		case strings.Contains(value, "phish"), strings.Contains(value, "login"):
			return "url_phishing.json"
		case strings.Contains(value, "suspicious"):
			return "url_suspicious.json"
		}
		return "url_clean.json"
	case "email":
		switch {
		case !strings.Contains(value, "@"):
			return "error_invalid_email.json"
		case strings.HasPrefix(value, "throwaway"):
			return "email_disposable.json"
		case strings.HasPrefix(value, "honeypot"):
			return "email_honeypot.json"
		case strings.HasPrefix(value, "leaked"):
			return "email_invalid_leaked.json"
		}
		return "email_valid.json"
	}
	return "account.json"
}

// isBadIP reports whether ip gets the VPN and Tor response.
func (s *Server) isBadIP(ip string) bool {
	s.mu.Lock()
	listed := s.badIPs[ip]
	s.mu.Unlock()
	if listed {
		return true
	}
	addr, err := netip.ParseAddr(ip)
	return err == nil && addr.Is4() && addr.As4()[3] == 4
}

// requestIDField matches the request_id member of a fixture.
var requestIDField = regexp.MustCompile(`"request_id"\s*:\s*"[^"]*"`)

// writeFixture sends the fixture name with a fresh request_id. An unknown
// name is a test's mistake and gets HTTP 500 naming it.
func (s *Server) writeFixture(w http.ResponseWriter, status int, name string) {
	body, err := Fixture(name)
	if err != nil {
		http.Error(w, fmt.Sprintf("ipqsfake: unknown fixture %q", name), http.StatusInternalServerError)
		return
	}

	if requestIDField.Match(body) {
		s.mu.Lock()
		s.nextID++
		id := fmt.Sprintf("Fk%08d", s.nextID)
		s.mu.Unlock()
		body = requestIDField.ReplaceAll(body, []byte(`"request_id": "`+id+`"`))
	}
	writeBody(w, status, bytes.TrimSpace(body))
}

// writeBody sends body as JSON with status.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// status returns code, or 200 for 0.
func status(code int) int {
	if code == 0 {
		return http.StatusOK
	}
	return code
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
