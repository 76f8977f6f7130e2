package indicator

import (
	"testing"
)

// found is an extracted indicator in short form for table tests.
type found struct {
	kind    Kind
	value   string
	skipped string
}

func extractShort(text string) []found {
	var out []found
	for _, in := range Extract(text) {
		out = append(out, found{in.Kind, in.Value, in.Skipped})
	}
	return out
}

func checkExtract(t *testing.T, text string, want []found) {
	t.Helper()
	got := extractShort(text)
	if len(got) != len(want) {
		t.Fatalf("Extract(%q) = %v, want %v", text, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Extract(%q)[%d] = %v, want %v", text, i, got[i], want[i])
		}
	}
}

func TestExtractSlackMarkup(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []found
	}{
		{"typed host is domain", "<http://evil.example.com|evil.example.com>", []found{{KindDomain, "evil.example.com", ""}}},
		{"typed host and path is url", "<http://x.com/path|x.com/path>", []found{{KindURL, "http://x.com/path", ""}}},
		{"label names other domain", "<https://evil.example/x|paypal.com>", []found{
			{KindURL, "https://evil.example/x", SkipReservedName}, {KindDomain, "paypal.com", ""}}},
		{"label is prose", "<https://bad.example.net/a|click here>", []found{{KindURL, "https://bad.example.net/a", ""}}},
		{"mailto", "<mailto:a@b.com|a@b.com>", []found{{KindEmail, "a@b.com", ""}}},
		{"mentions and dates", "<@U024BE7LH> <@U1|bob> <#C024BE7LH|general> <!here> <!subteam^S1|@ops> <!date^1392734382^{date_short}|Feb 18, 2014 at 6:39 AM>", nil},
		{"entities unescaped after split", "<https://x.example.org/a?b=1&amp;c=2|x> &lt;1.2.3.4&gt;", []found{
			{KindURL, "https://x.example.org/a?b=1&c=2", ""}, {KindIP, "1.2.3.4", ""}}},
		{"slack file link left out", "<https://files.slack.com/files-pri/T1-F1/report.pdf|report.pdf>", nil},
		{"slack workspace link left out", "<https://acme.slack.com/archives/C1/p1|thread> and slack-edge.com", nil},
		{"code span", "run `curl hxxp://evil[.]example[.]com/x.sh`", []found{{KindURL, "http://evil.example.com/x.sh", ""}}},
		{"code block", "```\nGET /a HTTP/1.1\nHost: 45.9.148.123\n```", []found{{KindIP, "45.9.148.123", ""}}},
		{"literal angle bracket", "a < b and c > d at 8.8.8.8", []found{{KindIP, "8.8.8.8", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkExtract(t, tt.text, tt.want) })
	}
}

func TestExtractSkipReasons(t *testing.T) {
	tests := []struct {
		text   string
		reason string
	}{
		{"10.1.2.3", SkipPrivate},
		{"172.31.255.1", SkipPrivate},
		{"127.0.0.1", SkipLoopback},
		{"::1", SkipLoopback},
		{"169.254.10.1", SkipLinkLocal},
		{"fe80::1%eth0", SkipLinkLocal},
		{"100.127.0.1", SkipSharedAddress},
		{"239.1.2.3", SkipMulticast},
		{"ff02::1", SkipMulticast},
		{"0.1.2.3", SkipReserved},
		{"250.1.2.3", SkipReserved},
		{"255.255.255.255", SkipReserved},
		{"192.0.2.7", SkipDocumentation},
		{"198.51.100.7", SkipDocumentation},
		{"203.0.113.7", SkipDocumentation},
		{"2001:db8::7", SkipDocumentation},
		{"fd12:3456:789a:1::1", SkipUniqueLocal},
		{"::ffff:192.168.1.1", SkipPrivate},
		{"http://10.0.0.1/x", SkipPrivate},
		{"ssh://evil.com/x", SkipUnsupportedScheme},
		{"printer[.]local", SkipReservedName},
		{"8.8.8.8", ""},
		{"2a0e:1c80:1::5", ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := Extract(tt.text)
			if len(got) != 1 {
				t.Fatalf("Extract(%q) = %v, want one indicator", tt.text, got)
			}
			if got[0].Skipped != tt.reason {
				t.Errorf("Extract(%q) skipped %q, want %q", tt.text, got[0].Skipped, tt.reason)
			}
		})
	}
}

func TestExtractOrdinaryChat(t *testing.T) {
	texts := []string{
		"see setup.py, invoice.zip and main.go",
		"logger.info('started') then os.exit(1)",
		"Thanks for the notes.Team, please review.",
		"I'll meet you at the dot com party at 10:30",
		"e.g. this, i.e. that, etc. vs. a.m. p.m.",
		"upgraded to v1.2.3 then 1.2.3.4.5 and build 10.0.19045.1234",
		"the range 10.0.0.0/8 and 2001:db8::/32 are internal",
		"0x7f000001 and 2130706433 are not written addresses",
		"at 11:04:10 -0500 the cert 0f:e9:73:75:20:22 expired",
		"thanks :pray: :cafe::bee: :eyes::dead:",
		"npm i @babel/core@7.22.5",
		"javascript:alert(1) and data:text/html,hi",
	}
	for _, text := range texts {
		if got := Extract(text); len(got) != 0 {
			t.Errorf("Extract(%q) = %v, want nothing", text, got)
		}
	}
}

func TestExtractForms(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []found
	}{
		{"ipv6 bracket port", "[2001:db8::1]:8443", []found{{KindIP, "2001:db8::1", SkipDocumentation}}},
		{"ipv6 rfc 5952", "2A0E:1C80:0001:0000:0000:0000:0000:0005", []found{{KindIP, "2a0e:1c80:1::5", ""}}},
		{"ipv4 port", "8.8.4.4:53", []found{{KindIP, "8.8.4.4", ""}}},
		{"leading zeros decimal", "008.008.008.008", []found{{KindIP, "8.8.8.8", ""}}},
		{"defanged octets together", "8[.]8[.]8[.]8 and 9.9.9[.]9", []found{{KindIP, "8.8.8.8", ""}, {KindIP, "9.9.9.9", ""}}},
		{"host lower-cased port kept", "HTTPS://Evil.COM:8443/A/B", []found{{KindURL, "https://evil.com:8443/A/B", ""}}},
		{"trailing dot dropped", "https://evil.com./x", []found{{KindURL, "https://evil.com/x", ""}}},
		{"balanced parens kept", "(http://x.com/a_(b))", []found{{KindURL, "http://x.com/a_(b)", ""}}},
		{"emphasis stripped", "*evil.com* _evil.org_ ~bad.net~", []found{
			{KindDomain, "evil.com", ""}, {KindDomain, "evil.org", ""}, {KindDomain, "bad.net", ""}}},
		{"host not repeated as domain", "https://evil.com/a and evil.com", []found{
			{KindURL, "https://evil.com/a", ""}, {KindDomain, "evil.com", ""}}},
		{"idn nfc lower", "https://BÜCHER.de/x", []found{{KindURL, "https://bücher.de/x", ""}}},
		{"punycode equals unicode", "xn--bcher-kva.de and bücher.de", []found{{KindDomain, "xn--bcher-kva.de", ""}}},
		{"email case-insensitive", "Bob@Example.com bob@example.com", []found{{KindEmail, "Bob@example.com", ""}}},
		{"spaced at sign", "write to bob @ example.com", []found{{KindEmail, "bob@example.com", ""}}},
		{"defanged slashes", "hxxps:[/][/]x.example.net[/]a", []found{{KindURL, "https://x.example.net/a", ""}}},
		{"h**p scheme", "h**p://evil[.]org/x", []found{{KindURL, "http://evil.org/x", ""}}},
		{"scheme with bracketed separator", "https[://]evil.org/x", []found{{KindURL, "https://evil.org/x", ""}}},
		{"defanged unknown tld", "evil[.]zzzz", []found{{KindDomain, "evil.zzzz", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkExtract(t, tt.text, tt.want) })
	}
}
