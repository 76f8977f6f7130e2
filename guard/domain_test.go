package guard

import (
	"strings"
	"testing"

	"github.com/ipqsbot/ipqsbot/indicator"
)

func TestSkipReason(t *testing.T) {
	policy := DomainPolicy{Never: []string{"example.org", "*.corp-partner.com", ".vendor.io", "bücher.de", "xn--fiqs8s"}}
	tests := []struct {
		host string
		want string
	}{
		{"evil.example.com", ""},
		{"localhost", SkipInternal},
		{"localhost.", SkipInternal},
		{"app.localhost", SkipInternal},
		{"printer.local", SkipInternal},
		{"db.internal", SkipInternal},
		{"wiki.corp", SkipInternal},
		{"nas.lan", SkipInternal},
		{"router.home.arpa", SkipInternal},
		{"intranet", SkipInternal},
		{"PRINTER.LOCAL", SkipInternal},
		{"local.example.com", ""},
		{"corp.example.com", ""},
		{"notlocal", SkipInternal},
		{"mylan.com", ""},
		{"home.arpa.example.com", ""},
		{"slack.com", SkipSlack},
		{"app.slack.com", SkipSlack},
		{"files.slack.com", SkipSlack},
		{"a.slack-edge.com", SkipSlack},
		{"slack-files.com", SkipSlack},
		{"files.slack-files.com", SkipSlack},
		{"notslack.com", ""},
		{"slack.com.evil.net", ""},
		{"slack.co", ""},
		{"my-slack-edge.com", ""},
		{"Slack.COM.", SkipSlack},
		{"example.org", SkipNever},
		{"mail.example.org", SkipNever},
		{"badexample.org", ""},
		{"example.org.uk", ""},
		{"corp-partner.com", SkipNever},
		{"x.corp-partner.com", SkipNever},
		{"vendor.io", SkipNever},
		{"api.vendor.io", SkipNever},
		{"bücher.de", SkipNever},
		{"shop.xn--bcher-kva.de", SkipNever},
		{"XN--BCHER-KVA.DE", SkipNever},
		{"büchers.de", ""},
		{"例子.中国", SkipNever},
		{"例子.xn--fiqs8s", SkipNever},
		{"203.0.113.9", ""},
		{"2001:db8::1", ""},
		{"[2001:db8::1]", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := policy.SkipReason(tt.host); got != tt.want {
			t.Errorf("SkipReason(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestSkipReasonEmptyPolicy(t *testing.T) {
	var policy DomainPolicy
	if got := policy.SkipReason("example.org"); got != "" {
		t.Errorf("SkipReason with no NEVER_LOOKUP_DOMAINS = %q, want empty", got)
	}
	if got := policy.SkipReason("slack.com"); got != SkipSlack {
		t.Errorf("SkipReason(slack.com) = %q, want %q", got, SkipSlack)
	}
}

func TestValidateDomain(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"example.com", "example.com"},
		{"Example.COM", "example.com"},
		{"example.com.", "example.com"},
		{"*.example.com", "example.com"},
		{".example.com", "example.com"},
		{"  mail.example.com ", "mail.example.com"},
		{"bücher.de", "bücher.de"},
		{"xn--bcher-kva.de", "xn--bcher-kva.de"},
		{"_dmarc.example.com", "_dmarc.example.com"},
		{"a-b.c-d.example", "a-b.c-d.example"},
	}
	for _, tt := range tests {
		got, err := ValidateDomain(tt.in)
		if err != nil {
			t.Errorf("ValidateDomain(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ValidateDomain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidateDomainInvalid(t *testing.T) {
	long := strings.Repeat("a", 64) + ".com"
	tooLong := strings.Repeat("abcdefghi.", 26) + "com"
	for _, in := range []string{
		"", "*", "*.", ".", "..", "https://example.com", "example.com/path", "example.com:443",
		"user@example.com", "exa mple.com", "-example.com", "example-.com", "example..com",
		"*.*.example.com", "ex*ample.com", "corp", "com", long, tooLong, "10.0.0.1", "[2001:db8::1]", "2001:db8::1",
	} {
		_, err := ValidateDomain(in)
		if err == nil {
			t.Errorf("ValidateDomain(%q) succeeded, want an error", in)
			continue
		}
		if !strings.Contains(err.Error(), "example.com") {
			t.Errorf("ValidateDomain(%q) error %q does not show a valid form", in, err)
		}
	}
}

func TestValidatedDomainsMatch(t *testing.T) {
	for _, entry := range []string{"*.Example.ORG.", ".example.org", "example.org"} {
		d, err := ValidateDomain(entry)
		if err != nil {
			t.Fatal(err)
		}
		policy := DomainPolicy{Never: []string{d}}
		if got := policy.SkipReason("www.example.org"); got != SkipNever {
			t.Errorf("entry %q: SkipReason(www.example.org) = %q, want %q", entry, got, SkipNever)
		}
	}
}

func TestDomainPolicyCheck(t *testing.T) {
	p := DomainPolicy{Never: []string{"corp.example.com"}}
	tests := []struct {
		ind  indicator.Indicator
		want string
	}{
		{indicator.Indicator{Kind: indicator.KindURL, Value: "https://wiki.corp.example.com/x"}, SkipNever},
		{indicator.Indicator{Kind: indicator.KindDomain, Value: "db.internal"}, SkipInternal},
		{indicator.Indicator{Kind: indicator.KindEmail, Value: "a@files.slack.com"}, SkipSlack},
		{indicator.Indicator{Kind: indicator.KindURL, Value: "https://evil.example.net/"}, ""},
		{indicator.Indicator{Kind: indicator.KindIP, Value: "10.0.0.1", Skipped: "private address"}, "private address"},
		{indicator.Indicator{Kind: indicator.KindIP, Value: "185.220.101.4"}, ""},
	}
	for _, tt := range tests {
		if got := p.Check(tt.ind).Skipped; got != tt.want {
			t.Errorf("Check(%s %q).Skipped = %q, want %q", tt.ind.Kind, tt.ind.Value, got, tt.want)
		}
	}
}
