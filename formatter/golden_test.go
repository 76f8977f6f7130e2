package formatter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

func TestResultsGolden(t *testing.T) {
	timedOut := loadResult(t, "email_valid", ipqs.KindEmail, "user@example.com")
	timedOut.Email.TimedOut = true
	timedOut.Email.Valid = false

	cachedIP := loadResult(t, "ip_clean", ipqs.KindIP, "1.1.1.1")
	cachedIP.Cached = true
	cachedIP.FetchedAt = now.Add(-12 * time.Minute)

	tests := []struct {
		name string
		item Item
		// want are substrings the rendered JSON must contain.
		want []string
	}{
		{
			name: "ip_clean",
			item: Item{Indicator: ip("1.1.1.1"), Result: loadResult(t, "ip_clean", ipqs.KindIP, "1.1.1.1")},
			want: []string{"🟢 Clean", "fraud score 0/100", "No risk flags set", "AS13335", "`Cloudflare`", "`ZyrtsRLXTO`", "live lookup"},
		},
		{
			name: "ip_clean_cached",
			item: Item{Indicator: ip("1.1.1.1"), Result: cachedIP},
			want: []string{"cached 12 min ago"},
		},
		{
			name: "ip_vpn_tor",
			item: Item{Indicator: ip("185.220.101.4"), Result: loadResult(t, "ip_vpn_tor", ipqs.KindIP, "185.220.101.4")},
			want: []string{"🔴 Abusive", "fraud score 100/100", "VPN · Tor · bot · recent abuse · frequent abuser · high-risk attacks", "`et-7-0-41-4.edge4.honolulu4.level3[.]net`"},
		},
		{
			name: "url_phishing",
			item: Item{
				Indicator: urlIndicator(indicator.KindURL, "http://bit.example/abc123"),
				Result:    loadResult(t, "url_phishing", ipqs.KindURL, "http://bit.example/abc123"),
			},
			want: []string{"🔴 Malicious", "risk score 100/100", "phishing · suspicious · redirected", "`Sign in to your account`", "`hxxps://secure-login.example[.]net/account/verify`", "hxxp://bit[.]example/abc123"},
		},
		{
			name: "url_suspicious",
			item: Item{
				Indicator: urlIndicator(indicator.KindURL, "https://example.com"),
				Result:    loadResult(t, "url_suspicious", ipqs.KindURL, "https://example.com"),
			},
			want: []string{"🟠 Suspicious", "risk score 78/100", "suspicious · spamming", "Computers &amp; Internet"},
		},
		{
			name: "url_clean_domain",
			item: Item{
				Indicator: urlIndicator(indicator.KindDomain, "abc.com"),
				Result:    loadResult(t, "url_clean", ipqs.KindURL, "abc.com"),
			},
			want: []string{"🟢 Clean", "Domain lookup", "`abc[.]com`", "27 years ago"},
		},
		{
			name: "email_valid",
			item: Item{Indicator: email("user@example.com"), Result: loadResult(t, "email_valid", ipqs.KindEmail, "user@example.com")},
			want: []string{"🟢 Clean", "fraud score 0/100", "*Deliverability*\nhigh", "*SMTP score*\n3"},
		},
		{
			name: "email_invalid_leaked",
			item: Item{Indicator: email("user@example.com"), Result: loadResult(t, "email_invalid_leaked", ipqs.KindEmail, "user@example.com")},
			want: []string{"🔴 Risky", "invalid · honeypot · leaked · recent abuse · frequent complainer"},
		},
		{
			name: "email_timed_out",
			item: Item{Indicator: email("user@example.com"), Result: timedOut},
			want: []string{"🟡 Unverified", "validity is unreliable", "1 unverified"},
		},
		{
			name: "skipped_private_ip",
			item: Item{Indicator: indicator.Indicator{Kind: indicator.KindIP, Value: "10.0.0.1", Display: "10.0.0[.]1", Skipped: "private address"}},
			want: []string{"`10.0.0[.]1` — not looked up: private address", "1 skipped"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := Results([]Item{tt.item}, now)
			checkLimits(t, msg)
			checkGolden(t, "results_"+tt.name, msg)
			got := allText(msg)
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("rendered card lacks %q", want)
				}
			}
		})
	}
}

func TestResultsNoPersonalData(t *testing.T) {
	r := loadResult(t, "email_invalid_leaked", ipqs.KindEmail, "user@example.com")
	if !strings.Contains(string(r.Raw), "JANE") {
		t.Fatal("fixture lacks the personal data this test looks for")
	}

	got := string(encode(t, Results([]Item{{Indicator: email("user@example.com"), Result: r}}, now)))
	for _, personal := range []string{"JANE", "DOE", "JOHN", "15555550100", "15555550101", "123 Example St", "Springfield", "1959"} {
		if strings.Contains(got, personal) {
			t.Errorf("rendered card contains personal data %q", personal)
		}
	}
}

// errorKinds lists every ipqs.ErrorKind.
var errorKinds = []ipqs.ErrorKind{
	ipqs.ErrInvalidKey, ipqs.ErrInsufficientCredits, ipqs.ErrQuotaExceeded,
	ipqs.ErrInvalidInput, ipqs.ErrAPI, ipqs.ErrRateLimited, ipqs.ErrServer,
	ipqs.ErrTimeout, ipqs.ErrNetwork, ipqs.ErrBadResponse,
}

func TestResultsErrorGolden(t *testing.T) {
	for _, kind := range errorKinds {
		t.Run(string(kind), func(t *testing.T) {
			err := fmt.Errorf("lookup: %w", &ipqs.Error{
				Kind:      kind,
				Op:        "ip",
				Value:     "203.0.113.9",
				Status:    503,
				Message:   "internal detail key=SECRETKEY",
				RequestID: "Zz0Err0001",
				Err:       errors.New("dial tcp 10.1.2.3:443: connection refused"),
			})
			msg := Results([]Item{{Indicator: ip("203.0.113.9"), Err: err}}, now)
			checkLimits(t, msg)
			got := string(checkGolden(t, "error_"+string(kind), msg))

			if !strings.Contains(got, Escape(ErrorText(err))) {
				t.Errorf("card lacks the error text %q", ErrorText(err))
			}
			if !strings.Contains(got, "`Zz0Err0001`") {
				t.Error("card lacks the request id")
			}
			for _, internal := range []string{"SECRETKEY", "dial tcp", "10.1.2.3", "503", string(kind)} {
				if strings.Contains(got, internal) {
					t.Errorf("card contains internal detail %q", internal)
				}
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	seen := make(map[string]ipqs.ErrorKind)
	for _, kind := range errorKinds {
		text := ErrorText(&ipqs.Error{Kind: kind, Op: "url"})
		if text == "" {
			t.Errorf("%s: empty text", kind)
		}
		if !strings.HasSuffix(text, ".") {
			t.Errorf("%s: text %q is not a full sentence", kind, text)
		}
		if other, ok := seen[text]; ok && !sameAdvice(kind, other) {
			t.Errorf("%s and %s share the text %q", kind, other, text)
		}
		seen[text] = kind
	}

	tests := []struct {
		err  error
		want string
	}{
		{&ipqs.Error{Kind: ipqs.ErrInvalidKey}, "IPQS_API_KEY"},
		{&ipqs.Error{Kind: ipqs.ErrInsufficientCredits}, "out of credits"},
		{&ipqs.Error{Kind: ipqs.ErrRateLimited}, "Try again in a minute"},
		{&ipqs.Error{Kind: ipqs.ErrInvalidInput, Op: "ip"}, "valid IP address"},
		{&ipqs.Error{Kind: ipqs.ErrInvalidInput, Op: "url"}, "valid URL or domain"},
		{&ipqs.Error{Kind: ipqs.ErrInvalidInput, Op: "email"}, "valid email address"},
		{&ipqs.Error{Kind: ipqs.ErrTimeout}, "not answering"},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), "not answering"},
		{context.Canceled, "stopped before it finished"},
		{errors.New("secret internal failure"), "The lookup failed."},
		{nil, "no result"},
	}
	for _, tt := range tests {
		if got := ErrorText(tt.err); !strings.Contains(got, tt.want) {
			t.Errorf("ErrorText(%v) = %q, want it to contain %q", tt.err, got, tt.want)
		}
	}
	if got := ErrorText(errors.New("secret internal failure")); strings.Contains(got, "secret") {
		t.Errorf("ErrorText leaks the error message: %q", got)
	}
}

// sameAdvice reports whether two error kinds deliberately share one text.
func sameAdvice(a, b ipqs.ErrorKind) bool {
	unavailable := map[ipqs.ErrorKind]bool{ipqs.ErrServer: true, ipqs.ErrTimeout: true, ipqs.ErrNetwork: true}
	return unavailable[a] && unavailable[b]
}

func TestResultsMixedGolden(t *testing.T) {
	items := []Item{
		{Indicator: urlIndicator(indicator.KindURL, "http://bit.example/abc123"), Result: loadResult(t, "url_phishing", ipqs.KindURL, "http://bit.example/abc123")},
		{Indicator: ip("1.1.1.1"), Result: loadResult(t, "ip_clean", ipqs.KindIP, "1.1.1.1")},
		{Indicator: email("throwaway123@tempmail.example"), Result: loadResult(t, "email_disposable", ipqs.KindEmail, "throwaway123@tempmail.example")},
		{Indicator: ip("203.0.113.9"), Err: &ipqs.Error{Kind: ipqs.ErrRateLimited, Op: "ip"}},
		{Indicator: indicator.Indicator{Kind: indicator.KindIP, Value: "192.168.1.1", Display: "192.168.1[.]1", Skipped: "private address"}},
		{Indicator: indicator.Indicator{Kind: indicator.KindDomain, Value: "localhost.localdomain", Display: "localhost[.]localdomain", Skipped: "reserved domain"}},
	}
	msg := Results(items, now)
	checkLimits(t, msg)
	checkGolden(t, "results_mixed", msg)

	want := "ipqsbot: 6 indicators — 1 malicious, 1 risky, 1 clean, 1 failed, 2 skipped"
	if msg.Text != want {
		t.Errorf("Text = %q, want %q", msg.Text, want)
	}
	if got := countHeaders(msg); got != 4 {
		t.Errorf("message has %d cards, want 4", got)
	}
}

func TestUsageGolden(t *testing.T) {
	msg := Usage()
	checkLimits(t, msg)
	checkGolden(t, "usage", msg)
	got := allText(msg)

	for _, want := range []string{
		"`/ipqs 185.220.101.4`",
		"`/ipqs hxxps://login-example[.]com/x`",
		"`/ipqs user@example.com`",
		"`/ipqs ip ADDR [params]`",
		"`/ipqs url URL [params]`",
		"`/ipqs email ADDR [params]`",
		"`/ipqs status`",
		"`/ipqs help`",
		"mention @ipqs",
		"DM",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	for _, kind := range []ipqs.Kind{ipqs.KindIP, ipqs.KindURL, ipqs.KindEmail} {
		for _, spec := range ipqs.Specs(kind) {
			if !strings.Contains(got, Code(spec.Form())) {
				t.Errorf("usage lacks the %s parameter %s", kind, spec.Form())
			}
		}
	}
	for _, text := range texts(msg) {
		if strings.Contains(outsideCode(text.Text), "example.com") {
			t.Errorf("usage shows a domain outside a code span: %q", text.Text)
		}
	}
}

func TestStatusGolden(t *testing.T) {
	msg := Status(loadAccount(t), nil, now)
	checkLimits(t, msg)
	checkGolden(t, "status", msg)
	got := allText(msg)
	for _, want := range []string{"Connected", "*Credits left*\n4,999,762", "*Lookups used*\n92", "*URL lookups*\n60", "`a0GjTtGwvr`", "2026-01-04 12:00 UTC"} {
		if !strings.Contains(got, want) {
			t.Errorf("status lacks %q", want)
		}
	}
	if want := "ipqsbot: IPQualityScore is reachable, 4,999,762 credits left"; msg.Text != want {
		t.Errorf("Text = %q, want %q", msg.Text, want)
	}
}

func TestStatusErrorGolden(t *testing.T) {
	err := &ipqs.Error{Kind: ipqs.ErrInvalidKey, Op: "account", Message: "Invalid or unauthorized key"}
	msg := Status(nil, err, now)
	checkLimits(t, msg)
	got := string(checkGolden(t, "status_error", msg))
	if !strings.Contains(got, "IPQS_API_KEY") {
		t.Error("status error lacks the advice for an invalid key")
	}
	if strings.Contains(got, "Connected") {
		t.Error("status error claims a connection")
	}
	if strings.Contains(got, "unauthorized") {
		t.Error("status error shows IPQS's raw message")
	}
}

func TestProblemGolden(t *testing.T) {
	msg := Problem(`invalid value "9" for strictness`, `use a whole number from 0 to 3, for example "strictness=1"`)
	checkLimits(t, msg)
	got := string(checkGolden(t, "problem", msg))
	for _, want := range []string{"⚠️ *invalid value `9` for strictness*", "`strictness=1`"} {
		if !strings.Contains(got, want) {
			t.Errorf("problem lacks %q", want)
		}
	}
}

func TestProblemHostile(t *testing.T) {
	msg := Problem(`unknown indicator "<https://evil.com|x> <!channel>"`, `try "<@U123>" & retry`)
	checkLimits(t, msg)
	got := string(encode(t, msg))
	for _, bad := range []string{"<!", "<@", "<http"} {
		if strings.Contains(got, bad) {
			t.Errorf("problem contains %q:\n%s", bad, got)
		}
	}
	for _, text := range texts(msg) {
		if strings.Contains(outsideCode(text.Text), "evil") {
			t.Errorf("quoted value outside a code span: %q", text.Text)
		}
	}
	if strings.Contains(outsideCode(msg.Text), "evil") {
		t.Errorf("notification text shows a quoted value outside a code span: %q", msg.Text)
	}
}

func TestProblemEmpty(t *testing.T) {
	msg := Problem("", "")
	checkLimits(t, msg)
	if !strings.Contains(texts(msg)[0].Text, "Something went wrong") {
		t.Errorf("empty problem text = %q", texts(msg)[0].Text)
	}
}

// countHeaders returns the number of header blocks, one per full card.
func countHeaders(msg Message) int {
	n := 0
	for _, text := range texts(msg) {
		if text.Type == "plain_text" {
			n++
		}
	}
	return n
}
