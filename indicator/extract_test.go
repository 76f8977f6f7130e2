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
		{"punycode equals unicode", "xn--bcher-kva.de and bücher.de", []found{{KindDomain, "bücher.de", ""}}},
		{"punycode value in unicode", "hxxps://xn--e1afmkfd[.]xn--p1ai/login", []found{{KindURL, "https://пример.рф/login", ""}}},
		{"email case-insensitive", "Bob@Example.com bob@example.com", []found{{KindEmail, "Bob@example.com", ""}}},
		{"spaced at sign", "write to bob @ example.com", []found{{KindEmail, "bob@example.com", ""}}},
		{"defanged slashes", "hxxps:[/][/]x.example.net[/]a", []found{{KindURL, "https://x.example.net/a", ""}}},
		{"h**p scheme", "h**p://evil[.]org/x", []found{{KindURL, "http://evil.org/x", ""}}},
		{"scheme with bracketed separator", "https[://]evil.org/x", []found{{KindURL, "https://evil.org/x", ""}}},
		{"defanged unknown tld", "evil[.]zzzz", []found{{KindDomain, "evil.zzzz", ""}}},
		{"nfc after lower-casing", "T\u0344.AC", []found{{KindDomain, "\u1e97\u0301.ac", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkExtract(t, tt.text, tt.want) })
	}
}

func TestExtractInvisibleCharacters(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []found
	}{
		{"zero-width joiner", "ex\u200Dample.com", []found{{KindDomain, "example.com", ""}}},
		{"zero-width non-joiner", "e\u200Cvil.com", []found{{KindDomain, "evil.com", ""}}},
		{"zero-width space", "evil\u200B.com", []found{{KindDomain, "evil.com", ""}}},
		{"word joiner", "ev\u2060il.com", []found{{KindDomain, "evil.com", ""}}},
		{"byte order mark", "\uFEFFevil.com", []found{{KindDomain, "evil.com", ""}}},
		{"soft hyphen", "evil\u00ADsite.com", []found{{KindDomain, "evilsite.com", ""}}},
		{"right-to-left override", "https://evil\u202E.com/moc.elgoog", []found{{KindURL, "https://evil.com/moc.elgoog", ""}}},
		{"bidi isolate", "\u2067evil.com\u2069", []found{{KindDomain, "evil.com", ""}}},
		{"marks in ip", "8.8\u200E.8.\u200F8", []found{{KindIP, "8.8.8.8", ""}}},
		{"marks in email", "bob@ex\u200Bample.org", []found{{KindEmail, "bob@example.org", ""}}},
		{"marks in defanged scheme", "hx\u200Dxps://evil[.]org/x", []found{{KindURL, "https://evil.org/x", ""}}},
		{"visible text kept", "naïve café at bücher.de", []found{{KindDomain, "bücher.de", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkExtract(t, tt.text, tt.want) })
	}
}

func TestRemoveInvisibleInvalidUTF8(t *testing.T) {
	in := "a\xff\u200Bb\xe2\x80"
	if got, want := removeInvisible(in), "a\xffb\xe2\x80"; got != want {
		t.Errorf("removeInvisible(%q) = %q, want %q", in, got, want)
	}
}

func TestExtractEmbeddedIPv4(t *testing.T) {
	tests := []struct {
		text   string
		reason string
	}{
		{"64:ff9b::a00:1", SkipPrivate},
		{"64:ff9b::10.0.0.1", SkipPrivate},
		{"64:ff9b::7f00:1", SkipLoopback},
		{"64:ff9b::808:808", ""},
		{"64:ff9b:1::808:808", SkipReserved},
		{"2002:a00:1::1", SkipPrivate},
		{"2002:c0a8:101::1", SkipPrivate},
		{"2002:c000:204::1", SkipDocumentation},
		{"2002:808:808::1", ""},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", SkipReserved},
		{"2001:db8::1", SkipDocumentation},
		{"http://[64:ff9b::a00:1]/x", SkipPrivate},
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

func TestExtractVersionStrings(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []found
	}{
		{"five parts", "agent 1.2.3.4.5 ok", nil},
		{"fifth part with leading zeros", "agent 1.2.3.4.0255 ok", nil},
		{"fifth part zero-padded port", "agent 1.2.3.4.00080 ok", nil},
		{"fifth part 255", "1.2.3.4.255", nil},
		{"six parts", "1.2.3.4.5.6", nil},
		{"six parts with big one", "1.2.3.4.5.300", nil},
		{"windows build", "10.0.19045.1234", nil},
		{"defanged five parts", "1[.]2[.]3[.]4[.]5", nil},
		{"fifth part not a port", "1.2.3.4.70000", nil},
		{"netstat address and port", "10.1.1.117.4222", []found{{KindIP, "10.1.1.117", SkipPrivate}}},
		{"netstat three-digit port", "93.184.216.34.443", []found{{KindIP, "93.184.216.34", ""}}},
		{"plain address after version", "1.2.3.4.5 then 8.8.8.8", []found{{KindIP, "8.8.8.8", ""}}},
		{"octal-looking octet read as decimal", "from 0177.0.0.1", []found{{KindIP, "177.0.0.1", ""}}},
		{"four digits without a leading zero", "from 1177.0.0.1", nil},
		{"five digits with leading zeros", "from 00177.0.0.1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkExtract(t, tt.text, tt.want) })
	}
}

func TestExtractSchemeWithoutColon(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []found
	}{
		{"at start", "http//evil.com/x", []found{{KindURL, "http://evil.com/x", ""}}},
		{"after blank", "see https//evil.com/x", []found{{KindURL, "https://evil.com/x", ""}}},
		{"in parentheses", "(hxxp//evil.com/x)", []found{{KindURL, "http://evil.com/x", ""}}},
		{"underscores at start", "h__ps__evil.com/x", []found{{KindURL, "https://evil.com/x", ""}}},
		{"inside path", "http://a.example.com/x/http//b", []found{{KindURL, "http://a.example.com/x/http//b", ""}}},
		{"after dot", "http//0.http //0", []found{{KindURL, "http://0.http//0", ""}}},
		{"after dot no blank", "https://evil.com.http//x", []found{{KindURL, "https://evil.com.http//x", ""}}},
		{"in query", "https://evil.com/r?u=http//x.org", []found{{KindURL, "https://evil.com/r?u=http//x.org", ""}}},
		{"in identifier", "my_http__client.go", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkExtract(t, tt.text, tt.want) })
	}
}

func TestExtractPercentEncodedURL(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []found
	}{
		{"whole url", "http%3A%2F%2Fexample%2Ecom%2Fwhite%2Ehta", []found{{KindURL, "http://example.com/white.hta", ""}}},
		{"decoded dot after bracket", "http%3A%2F%2Fevil.com%2F0(%2E0", []found{{KindURL, "http://evil.com/0.0", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkExtract(t, tt.text, tt.want) })
	}
}
