package ipqsfake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "fake-key-0123456789"

// answer is the part of a response body that the tests compare.
type answer struct {
	Success   bool   `json:"success"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
	// These fields differ between the fixtures of one kind.
	FraudScore *int  `json:"fraud_score"`
	RiskScore  *int  `json:"risk_score"`
	Disposable *bool `json:"disposable"`
	Honeypot   *bool `json:"honeypot"`
	Leaked     *bool `json:"leaked"`
	Credits    *int  `json:"credits"`
}

// get sends a GET for kind with the indicator value and returns the status
// and the raw body.
func get(t *testing.T, s *Server, key, kind, value string) (int, []byte) {
	t.Helper()
	target := s.URL() + kind
	if kind != "account" {
		target += "?" + url.Values{kind: {value}}.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set(keyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func decode(t *testing.T, body []byte) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	return a
}

// fixtureAnswer returns the decoded embedded fixture name.
func fixtureAnswer(t *testing.T, name string) answer {
	t.Helper()
	body, err := Fixture(name)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, body)
}

func TestDefaultMapping(t *testing.T) {
	s := New(testKey, WithBadIPs("198.51.100.77"))
	t.Cleanup(s.Close)

	tests := []struct {
		kind, value, fixture string
	}{
		{"ip", "192.0.2.1", "ip_clean.json"},
		{"ip", "192.0.2.4", "ip_vpn_tor.json"},
		{"ip", "192.0.2.44", "ip_clean.json"},
		{"ip", "198.51.100.77", "ip_vpn_tor.json"},
		{"ip", "2001:db8::4", "ip_clean.json"},
		{"ip", "", "error_invalid_ip.json"},
		{"url", "https://example.com/", "url_clean.json"},
		{"url", "https://PHISH.example/", "url_phishing.json"},
		{"url", "http://example.net/login", "url_phishing.json"},
		{"url", "suspicious.example", "url_suspicious.json"},
		{"url", "", "error_invalid_url.json"},
		{"email", "user@example.com", "email_valid.json"},
		{"email", "Throwaway1@mail.example", "email_disposable.json"},
		{"email", "honeypot@example.com", "email_honeypot.json"},
		{"email", "leaked.user@example.com", "email_invalid_leaked.json"},
		{"email", "not-an-address", "error_invalid_email.json"},
		{"account", "", "account.json"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.value, func(t *testing.T) {
			status, body := get(t, s, testKey, tt.kind, tt.value)
			if status != http.StatusOK {
				t.Fatalf("status = %d, want 200", status)
			}
			got, want := decode(t, body), fixtureAnswer(t, tt.fixture)
			want.RequestID = got.RequestID
			if !equalJSON(got, want) {
				t.Errorf("answer = %+v, want %s: %+v", got, tt.fixture, want)
			}
		})
	}
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestRequestIDUnique(t *testing.T) {
	s := New(testKey)
	t.Cleanup(s.Close)

	recorded := fixtureAnswer(t, "ip_clean.json").RequestID
	seen := make(map[string]bool)
	for range 5 {
		_, body := get(t, s, testKey, "ip", "192.0.2.1")
		id := decode(t, body).RequestID
		if id == "" || id == recorded {
			t.Fatalf("request_id = %q, want a fresh one", id)
		}
		if seen[id] {
			t.Fatalf("request_id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestKeyChecked(t *testing.T) {
	s := New(testKey)
	t.Cleanup(s.Close)

	for _, key := range []string{"", "wrong-key"} {
		status, body := get(t, s, key, "ip", "192.0.2.1")
		got := decode(t, body)
		if status != http.StatusOK || got.Success || !strings.HasPrefix(got.Message, "Invalid or unauthorized key") {
			t.Errorf("key %q: status %d, body %s; want 200 with the invalid-key error", key, status, body)
		}
	}

	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(reqs))
	}
	if reqs[0].KeyPresent || reqs[0].KeyValid {
		t.Errorf("request without key recorded as %+v", reqs[0])
	}
	if !reqs[1].KeyPresent || reqs[1].KeyValid {
		t.Errorf("request with wrong key recorded as %+v", reqs[1])
	}
}

func TestRespondOverrides(t *testing.T) {
	s := New(testKey)
	t.Cleanup(s.Close)

	s.Respond("url", "https://a.example/", Response{Fixture: "url_phishing.json"})
	s.Respond("ip", "192.0.2.1", Response{Status: http.StatusInternalServerError, Times: 2})
	s.Respond("email", "user@example.com", Response{Body: `{"success":"True","odd":1}`})

	_, body := get(t, s, testKey, "url", "https://a.example/")
	if got := decode(t, body); got.RiskScore == nil || *got.RiskScore != 100 {
		t.Errorf("url override: body %s, want url_phishing.json", body)
	}

	for i := range 2 {
		if status, _ := get(t, s, testKey, "ip", "192.0.2.1"); status != http.StatusInternalServerError {
			t.Errorf("ip call %d: status %d, want 500", i+1, status)
		}
	}
	if status, _ := get(t, s, testKey, "ip", "192.0.2.1"); status != http.StatusOK {
		t.Errorf("ip call 3: status %d, want 200 after Times ran out", status)
	}

	if _, body := get(t, s, testKey, "email", "user@example.com"); string(body) != `{"success":"True","odd":1}` {
		t.Errorf("email body = %s, want the raw override", body)
	}

	if n := s.Calls("ip", "192.0.2.1"); n != 3 {
		t.Errorf("Calls(ip) = %d, want 3", n)
	}
	if n := s.TotalCalls(); n != 5 {
		t.Errorf("TotalCalls = %d, want 5", n)
	}
}

func TestFaultAndLatency(t *testing.T) {
	s := New(testKey)
	t.Cleanup(s.Close)

	s.SetFault(http.StatusServiceUnavailable)
	if status, _ := get(t, s, "", "ip", "192.0.2.1"); status != http.StatusServiceUnavailable {
		t.Errorf("fault: status %d, want 503 even without a key", status)
	}
	s.SetFault(0)

	s.SetLatency(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"ip?ip=192.0.2.1", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("request with latency answered before the client's deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the client's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("request took %v, want about 50ms", d)
	}
	s.SetLatency(0)

	if status, _ := get(t, s, testKey, "ip", "192.0.2.1"); status != http.StatusOK {
		t.Errorf("after fault and latency cleared: status %d, want 200", status)
	}
}

func TestRequestsRecorded(t *testing.T) {
	s := New(testKey)
	t.Cleanup(s.Close)

	value := "https://example.com/a?b=1&c=2"
	get(t, s, testKey, "url", value)
	if status, _ := get(t, s, testKey, "phone", "1"); status != http.StatusNotFound {
		t.Errorf("unknown endpoint: status %d, want 404", status)
	}

	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.Path != "/api/json/url" || !r.KeyPresent || !r.KeyValid {
		t.Errorf("recorded %+v", r)
	}
	if got := r.Query.Get("url"); got != value {
		t.Errorf("recorded url parameter %q, want %q", got, value)
	}
	if strings.Contains(r.RawQuery, "&c=2") {
		t.Errorf("raw query %q is not escaped", r.RawQuery)
	}

	// The copy is the caller's own.
	reqs[0].Query.Set("url", "changed")
	if got := s.Requests()[0].Query.Get("url"); got != value {
		t.Errorf("Requests returned shared state: url now %q", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(testKey)
	t.Cleanup(s.Close)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			// t.Fatal must not run outside the test's goroutine, so no get.
			req, _ := http.NewRequest(http.MethodGet, s.URL()+"ip?ip=192.0.2.1", nil)
			req.Header.Set(keyHeader, testKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s.Respond("ip", "192.0.2.9", Response{Fixture: "ip_vpn_tor.json"})
			_ = s.Requests()
		})
	}
	wg.Wait()
	if n := s.Calls("ip", "192.0.2.1"); n != 8 {
		t.Errorf("Calls = %d, want 8", n)
	}
}

func TestFixturesEmbedded(t *testing.T) {
	names := Fixtures()
	for _, want := range []string{"account.json", "ip_clean.json", "url_phishing.json", "email_valid.json", "error_invalid_key.json"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("Fixtures() = %v, missing %s", names, want)
		}
	}
	for _, n := range names {
		body, err := Fixture(n)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(body) {
			t.Errorf("fixture %s is not valid JSON", n)
		}
	}
}
