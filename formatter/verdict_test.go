package formatter

import (
	"slices"
	"testing"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

func score100(n int64) ipqs.Int { return ipqs.Int{Value: n, Valid: true} }

func TestVerdictIP(t *testing.T) {
	tests := []struct {
		score ipqs.Int
		want  string
	}{
		{score100(100), VerdictAbusive},
		{score100(90), VerdictAbusive},
		{score100(89), VerdictHighRisk},
		{score100(85), VerdictHighRisk},
		{score100(84), VerdictSuspicious},
		{score100(75), VerdictSuspicious},
		{score100(74), VerdictClean},
		{score100(0), VerdictClean},
		{ipqs.Int{}, VerdictUnknown},
	}
	for _, tt := range tests {
		r := &ipqs.Result{Kind: ipqs.KindIP, IP: &ipqs.IPResult{FraudScore: tt.score}}
		if got := Verdict(r); got != tt.want {
			t.Errorf("IP fraud score %+v: Verdict = %q, want %q", tt.score, got, tt.want)
		}
	}
}

func TestVerdictURL(t *testing.T) {
	tests := []struct {
		name string
		url  ipqs.URLResult
		want string
	}{
		{"phishing 100", ipqs.URLResult{RiskScore: score100(100), Phishing: true}, VerdictMalicious},
		{"malware 100", ipqs.URLResult{RiskScore: score100(100), Malware: true}, VerdictMalicious},
		{"100 unconfirmed", ipqs.URLResult{RiskScore: score100(100)}, VerdictHighRisk},
		{"phishing 99", ipqs.URLResult{RiskScore: score100(99), Phishing: true}, VerdictHighRisk},
		{"90", ipqs.URLResult{RiskScore: score100(90)}, VerdictHighRisk},
		{"89", ipqs.URLResult{RiskScore: score100(89)}, VerdictSuspicious},
		{"75", ipqs.URLResult{RiskScore: score100(75)}, VerdictSuspicious},
		{"74", ipqs.URLResult{RiskScore: score100(74)}, VerdictClean},
		{"unsafe 10", ipqs.URLResult{RiskScore: score100(10), Unsafe: true}, VerdictSuspicious},
		{"unsafe without score", ipqs.URLResult{Unsafe: true}, VerdictSuspicious},
		{"no score", ipqs.URLResult{}, VerdictUnknown},
	}
	for _, tt := range tests {
		r := &ipqs.Result{Kind: ipqs.KindURL, URL: &tt.url}
		if got := Verdict(r); got != tt.want {
			t.Errorf("%s: Verdict = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVerdictEmail(t *testing.T) {
	tests := []struct {
		name  string
		email ipqs.EmailResult
		want  string
	}{
		{"90", ipqs.EmailResult{FraudScore: score100(90), Valid: true}, VerdictRisky},
		{"invalid 95", ipqs.EmailResult{FraudScore: score100(95)}, VerdictRisky},
		{"89", ipqs.EmailResult{FraudScore: score100(89), Valid: true}, VerdictSuspicious},
		{"80", ipqs.EmailResult{FraudScore: score100(80), Valid: true}, VerdictSuspicious},
		{"79", ipqs.EmailResult{FraudScore: score100(79), Valid: true}, VerdictClean},
		{"invalid 0", ipqs.EmailResult{FraudScore: score100(0)}, VerdictInvalid},
		{"timed out", ipqs.EmailResult{FraudScore: score100(0), TimedOut: true}, VerdictUnverified},
		{"valid without score", ipqs.EmailResult{Valid: true}, VerdictUnknown},
	}
	for _, tt := range tests {
		r := &ipqs.Result{Kind: ipqs.KindEmail, Email: &tt.email}
		if got := Verdict(r); got != tt.want {
			t.Errorf("%s: Verdict = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVerdictNoDetails(t *testing.T) {
	for _, r := range []*ipqs.Result{nil, {Kind: ipqs.KindIP}} {
		if got := Verdict(r); got != VerdictUnknown {
			t.Errorf("Verdict(%+v) = %q, want %q", r, got, VerdictUnknown)
		}
	}
}

func TestLabel(t *testing.T) {
	tests := map[string]string{
		VerdictMalicious:  "🔴 Malicious",
		VerdictHighRisk:   "🔴 High risk",
		VerdictSuspicious: "🟠 Suspicious",
		VerdictInvalid:    "🟡 Invalid",
		VerdictClean:      "🟢 Clean",
		VerdictUnknown:    "⚪ Unknown",
		"":                "⚪ Unknown",
	}
	for verdict, want := range tests {
		if got := Label(verdict); got != want {
			t.Errorf("Label(%q) = %q, want %q", verdict, got, want)
		}
	}
}

func TestFlagsProxy(t *testing.T) {
	tests := []struct {
		name string
		ip   ipqs.IPResult
		want []string
	}{
		{"proxy only", ipqs.IPResult{Proxy: true}, []string{"proxy"}},
		{"vpn", ipqs.IPResult{Proxy: true, VPN: true}, []string{"VPN"}},
		{"tor", ipqs.IPResult{Proxy: true, Tor: true}, []string{"Tor"}},
		{"none", ipqs.IPResult{}, nil},
		{"crawler mobile", ipqs.IPResult{IsCrawler: true, Mobile: true}, []string{"crawler", "mobile"}},
	}
	for _, tt := range tests {
		got := flags(&ipqs.Result{Kind: ipqs.KindIP, IP: &tt.ip})
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: flags = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFlagsURL(t *testing.T) {
	u := ipqs.URLResult{Malware: true, Parking: true, Adult: true, RiskyTLD: true, DNSValid: false}
	want := []string{"malware", "parking", "adult", "risky TLD", "DNS invalid"}
	if got := flags(&ipqs.Result{Kind: ipqs.KindURL, URL: &u}); !slices.Equal(got, want) {
		t.Errorf("flags = %q, want %q", got, want)
	}
}

func TestFlagsEmailTimedOut(t *testing.T) {
	e := ipqs.EmailResult{TimedOut: true}
	if got := flags(&ipqs.Result{Kind: ipqs.KindEmail, Email: &e}); slices.Contains(got, "invalid") {
		t.Errorf("flags of a timed-out check = %q, want no %q", got, "invalid")
	}
}
