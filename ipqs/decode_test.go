package ipqs

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serveBody starts a server that responds to every request with body and
// returns a client for it.
func serveBody(t *testing.T, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL+"/", Config{})
	return c
}

func TestDecodeTolerant(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r *IPResult)
	}{
		{"success string True", `{"success":"True","fraud_score":12}`, func(t *testing.T, r *IPResult) {
			if !r.Success || r.FraudScore != (Int{Value: 12, Valid: true}) {
				t.Errorf("IP = %+v, want success and fraud_score 12", r)
			}
		}},
		{"null ASN", `{"success":true,"ASN":null,"ISP":"Example"}`, func(t *testing.T, r *IPResult) {
			if r.ASN.Valid || r.ISP != "Example" {
				t.Errorf("ASN = %+v, ISP = %q; want no ASN and ISP Example", r.ASN, r.ISP)
			}
		}},
		{"N/A latitude", `{"success":true,"latitude":"N/A","longitude":"N/A","city":"N/A"}`, func(t *testing.T, r *IPResult) {
			if r.Latitude.Valid || r.Longitude.Valid {
				t.Errorf("latitude %+v, longitude %+v; want both absent", r.Latitude, r.Longitude)
			}
		}},
		{"unknown fields", `{"success":true,"new_field":{"a":[1,2]},"zip_code":"N/A","vpn":true}`, func(t *testing.T, r *IPResult) {
			if !r.VPN {
				t.Errorf("VPN = false, want true despite unknown fields")
			}
		}},
		{"numbers as strings", `{"success":true,"fraud_score":"88","ASN":"3356","latitude":"21.5"}`, func(t *testing.T, r *IPResult) {
			if r.FraudScore.Value != 88 || r.ASN.Value != 3356 || r.Latitude.Value != 21.5 {
				t.Errorf("IP = %+v, want numbers decoded from strings", r)
			}
		}},
		{"field of unexpected type", `{"success":true,"request_id":12345,"abuse_events":"none","fraud_score":90}`, func(t *testing.T, r *IPResult) {
			if r.FraudScore.Value != 90 || r.RequestID != "" || r.AbuseEvents != nil {
				t.Errorf("IP = %+v, want the mismatched fields left empty and the rest decoded", r)
			}
		}},
		{"empty object members", `{"success":true,"host":null,"abuse_events":null}`, func(t *testing.T, r *IPResult) {
			if r.Host != "" || r.AbuseEvents != nil {
				t.Errorf("IP = %+v, want empty host and abuse events", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serveBody(t, tt.body)
			r, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if string(r.Raw) != tt.body {
				t.Errorf("Raw = %s, want the body as received", r.Raw)
			}
			tt.check(t, r.IP)
		})
	}
}

func TestDecodeFailures(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		want        ErrorKind
		wantMessage string
	}{
		{"success string False", `{"success":"False","message":"Invalid or unauthorized key. Check it."}`, ErrInvalidKey, "Invalid or unauthorized key. Check it."},
		{"unknown message", `{"success":false,"message":"Something new happened."}`, ErrAPI, "Something new happened."},
		{"no message", `{"success":false}`, ErrAPI, ""},
		{"no success field", `{"fraud_score":0}`, ErrBadResponse, ""},
		{"not JSON", `<html>maintenance</html>`, ErrBadResponse, ""},
		{"JSON array", `[{"success":true}]`, ErrBadResponse, ""},
		{"empty body", ``, ErrBadResponse, ""},
		{"truncated", `{"success":true,"fraud_score":`, ErrBadResponse, ""},
		{"larger than the limit", `{"success":true,"pad":"` + strings.Repeat("a", maxBodySize) + `"}`, ErrBadResponse, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serveBody(t, tt.body)
			_, err := c.Lookup(context.Background(), Request{Kind: KindIP, Value: "192.0.2.1"})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if e.Kind != tt.want {
				t.Errorf("Kind = %q, want %q (err %v)", e.Kind, tt.want, err)
			}
			if e.Message != tt.wantMessage {
				t.Errorf("Message = %q, want %q", e.Message, tt.wantMessage)
			}
			if e.Temporary() {
				t.Errorf("error %v is temporary, want it final", err)
			}
		})
	}
}

func TestErrorRequestID(t *testing.T) {
	c := serveBody(t, `{"success":false,"message":"You have insufficient credits to make this query.","request_id":"Abc123"}`)

	_, err := c.Lookup(context.Background(), Request{Kind: KindEmail, Value: "user@example.com"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want an *Error", err)
	}
	if e.Kind != ErrInsufficientCredits || e.RequestID != "Abc123" || e.Op != "email" || e.Value != "user@example.com" {
		t.Errorf("error = %+v, want insufficient credits with request_id Abc123 for the email", e)
	}
	want := `ipqs: email "user@example.com": insufficient_credits: status 200: You have insufficient credits to make this query.`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestMessageKind(t *testing.T) {
	tests := []struct {
		msg  string
		want ErrorKind
	}{
		{"Invalid or unauthorized key. Please check the API key and try again.", ErrInvalidKey},
		{"You have insufficient credits to make this query.", ErrInsufficientCredits},
		{"You have exceeded your request quota of 200 per day.", ErrQuotaExceeded},
		{"Invalid IPv4 address, IPv6 address or hostname.", ErrInvalidInput},
		{"Invalid email address.", ErrInvalidInput},
		{"Invalid URL or domain.", ErrInvalidInput},
		{" Invalid email address.", ErrInvalidInput},
		{"invalid email address.", ErrAPI},
		{"", ErrAPI},
		{"Your account is suspended.", ErrAPI},
	}
	for _, tt := range tests {
		if got := messageKind(tt.msg); got != tt.want {
			t.Errorf("messageKind(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
