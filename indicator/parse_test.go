package indicator

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		kind    Kind
		in      string
		want    Kind
		value   string
		skipped string
	}{
		{KindIP, "203.0.113.7", KindIP, "203.0.113.7", SkipDocumentation},
		{KindIP, "8.8.8[.]8", KindIP, "8.8.8.8", ""},
		{KindIP, " 8.8.8.8:53 ", KindIP, "8.8.8.8", ""},
		{KindIP, "074.205.128.200", KindIP, "74.205.128.200", ""},
		{KindIP, "[2001:DB8::1]:443", KindIP, "2001:db8::1", SkipDocumentation},
		{KindIP, "fe80::1%eth0", KindIP, "fe80::1", SkipLinkLocal},
		{KindIP, "2001:db8[:]85a3::1", KindIP, "2001:db8:85a3::1", SkipDocumentation},
		{KindURL, "evil.com", KindURL, "http://evil.com", ""},
		{KindURL, "hxxps://evil[.]com/a?b=1", KindURL, "https://evil.com/a?b=1", ""},
		{KindURL, "<http://evil.com/x|evil.com/x>", KindURL, "http://evil.com/x", ""},
		{KindURL, "<https://evil.com/x>", KindURL, "https://evil.com/x", ""},
		{KindURL, "evil.com:8080/x", KindURL, "http://evil.com:8080/x", ""},
		{KindURL, "https://files.slack.com/files-pri/T1-F1/a.pdf", KindURL, "https://files.slack.com/files-pri/T1-F1/a.pdf", SkipSlackHosted},
		{KindURL, "sftp://evil.com/x", KindURL, "sftp://evil.com/x", SkipUnsupportedScheme},
		{KindEmail, "<mailto:Jane.Doe@EXAMPLE.com|Jane.Doe@EXAMPLE.com>", KindEmail, "Jane.Doe@example.com", ""},
		{KindEmail, "bob[@]example[.]com", KindEmail, "bob@example.com", ""},
		{KindEmail, "bob AT example dot com", KindEmail, "bob@example.com", ""},
		{KindDomain, "Evil[.]Example[.]NET", KindDomain, "evil.example.net", ""},
		{KindDomain, "<http://evil.com|evil.com>", KindDomain, "evil.com", ""},
		{KindDomain, "setup.py", KindDomain, "setup.py", ""},
		{"", "1.2.3.4", KindIP, "1.2.3.4", ""},
		{"", "evil[.]com", KindDomain, "evil.com", ""},
		{"", "a@b.com", KindEmail, "a@b.com", ""},
		{"", "evil.com/x", KindURL, "http://evil.com/x", ""},
		{"", "<http://evil.com|evil.com>", KindDomain, "evil.com", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+" "+tt.in, func(t *testing.T) {
			got, err := Parse(tt.kind, tt.in)
			if err != nil {
				t.Fatalf("Parse(%q, %q): %v", tt.kind, tt.in, err)
			}
			if got.Kind != tt.want {
				t.Errorf("kind = %q, want %q", got.Kind, tt.want)
			}
			if got.Value != tt.value {
				t.Errorf("value = %q, want %q", got.Value, tt.value)
			}
			if got.Skipped != tt.skipped {
				t.Errorf("skipped = %q, want %q", got.Skipped, tt.skipped)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		kind Kind
		in   string
		want string
	}{
		{KindIP, "not-an-ip", `"not-an-ip" is not an IP address: use a form like 203.0.113.7 or 2001:db8::1`},
		{KindIP, "300.1.1.1", "is not an IP address"},
		{KindIP, "0x7f000001", "is not an IP address"},
		{KindIP, "10.0.0.0/8", "is a network range"},
		{KindURL, "javascript:alert(1)", "uses the javascript: scheme"},
		{KindURL, "http://", "has no host"},
		{KindEmail, "foo@bar", "is not an email address"},
		{KindEmail, "no-at-sign.com", "is not an email address"},
		{KindDomain, "localhost", "is not a domain name"},
		{KindDomain, "1.2.3.4", "is an IP address, not a domain"},
		{"", "hello", "is not an IP address, domain, URL or email address"},
		{"", "   ", "no indicator given"},
		{"phone", "555", "is not a kind of indicator"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+" "+tt.in, func(t *testing.T) {
			_, err := Parse(tt.kind, tt.in)
			if err == nil {
				t.Fatalf("Parse(%q, %q) succeeded, want an error containing %q", tt.kind, tt.in, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q, %q) error = %q, want it to contain %q", tt.kind, tt.in, err, tt.want)
			}
		})
	}
}

func TestDefang(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://evil.com/x", "hxxps://evil[.]com/x"},
		{"http://a.b.evil.com:8080/x.y", "hxxp://a.b.evil[.]com:8080/x.y"},
		{"ftp://evil.com", "fxp://evil[.]com"},
		{"ssh://evil.com", "ssh://evil[.]com"},
		{"1.2.3.4", "1.2.3[.]4"},
		{"a@b.com", "a[@]b[.]com"},
		{"evil.com", "evil[.]com"},
		{"2001:db8::1", "2001:db8::1"},
		{"evil[.]com", "evil[.]com"},
	}
	for _, tt := range tests {
		if got := Defang(tt.in); got != tt.want {
			t.Errorf("Defang(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got, want := refangString(Defang(tt.in)), refangString(tt.in); got != want {
			t.Errorf("refanging Defang(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

func TestDisplayMixedScripts(t *testing.T) {
	tests := []struct{ text, display string }{
		{"pаypal.com", "xn--pypal-4ve[.]com"},
		{"bücher.de", "bücher[.]de"},
		{"http://пример.рф/x", "hxxp://пример[.]рф/x"},
	}
	for _, tt := range tests {
		got := Extract(tt.text)
		if len(got) != 1 {
			t.Fatalf("Extract(%q) = %v, want one indicator", tt.text, got)
		}
		if got[0].Display != tt.display {
			t.Errorf("Extract(%q) display = %q, want %q", tt.text, got[0].Display, tt.display)
		}
	}
}

func TestLookupValue(t *testing.T) {
	tests := []struct {
		in   Indicator
		want string
	}{
		{Indicator{Kind: KindDomain, Value: "bücher.de"}, "xn--bcher-kva.de"},
		{Indicator{Kind: KindDomain, Value: "evil.com"}, "evil.com"},
		{Indicator{Kind: KindURL, Value: "http://中国.中国/中国"}, "http://xn--fiqs8s.xn--fiqs8s/中国"},
		{Indicator{Kind: KindURL, Value: "https://user@пример.рф:8443/a"}, "https://xn--e1afmkfd.xn--p1ai:8443/a"},
		{Indicator{Kind: KindURL, Value: "https://user:pass@evil.com/login"}, "https://evil.com/login"},
		{Indicator{Kind: KindEmail, Value: "Info@bücher.de"}, "Info@xn--bcher-kva.de"},
		{Indicator{Kind: KindIP, Value: "::ffff:1.2.3.4"}, "1.2.3.4"},
		{Indicator{Kind: KindIP, Value: "2001:db8::1"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		if got := tt.in.LookupValue(); got != tt.want {
			t.Errorf("%v.LookupValue() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseInvisibleCharacters(t *testing.T) {
	tests := []struct {
		kind  Kind
		in    string
		value string
	}{
		{KindDomain, "ex\u200Dample.com", "example.com"},
		{"", "e\u200Cvil.com", "evil.com"},
		{KindURL, "https://evil\u202E.com/x", "https://evil.com/x"},
		{KindIP, "\uFEFF8.8.8.8\u200B", "8.8.8.8"},
		{KindEmail, "bob@exam\u00ADple.org", "bob@example.org"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.kind, tt.in)
		if err != nil {
			t.Errorf("Parse(%q, %q): %v", tt.kind, tt.in, err)
			continue
		}
		if got.Value != tt.value {
			t.Errorf("Parse(%q, %q) value = %q, want %q", tt.kind, tt.in, got.Value, tt.value)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"ftp://x", `"ftp://x" has an invalid host "x": use a host name such as example.com or an IP address`},
		{"http://", `"http://" has no host: use a form like https://example.com/path`},
		{"https://user@/x", `"https://user@/x" has no host`},
		{"http://evil.com:99999/x", `"http://evil.com:99999/x" has an invalid port "99999": use a port number from 0 to 65535`},
		{"evil.com:99999/x", `"evil.com:99999/x" has an invalid port "99999"`},
		{"http://evil.com:-1/x", `"http://evil.com:-1/x" has an invalid port "-1"`},
		{"http://[2001:db8::1]:+80/x", `has an invalid port "+80"`},
		{"http://[2001:db8::zz]/x", `"http://[2001:db8::zz]/x" has an invalid IPv6 address in brackets: use a form like http://[2001:db8::1]/path`},
		{"1http://evil.com", `"1http://evil.com" has an invalid scheme "1http": use an http, https or ftp URL`},
		{"://evil.com", `"://evil.com" has no scheme before "://": use an http, https or ftp URL`},
		{"javascript:alert(1)", `"javascript:alert(1)" uses the javascript: scheme, which is not supported: use an http, https or ftp URL`},
		{"mailto:a@b.com", `"mailto:a@b.com" uses the mailto: scheme, which is not supported`},
	}
	for _, tt := range tests {
		_, err := Parse(KindURL, tt.in)
		if err == nil {
			t.Errorf("Parse(url, %q) succeeded, want an error containing %q", tt.in, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(url, %q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestURLUserinfo(t *testing.T) {
	tests := []struct {
		text        string
		value       string
		lookup      string
		redacted    string
		safeDisplay string
	}{
		{
			"https://user:pass@evil.com/login",
			"https://user:pass@evil.com/login",
			"https://evil.com/login",
			"https://REDACTED@evil.com/login",
			"hxxps://REDACTED@evil[.]com/login",
		},
		{
			"hxxp://admin@evil[.]com:8080/a?b=c@d",
			"http://admin@evil.com:8080/a?b=c@d",
			"http://evil.com:8080/a?b=c@d",
			"http://REDACTED@evil.com:8080/a?b=c@d",
			"hxxp://REDACTED@evil[.]com:8080/a?b=c@d",
		},
		{
			"ftp://a.b:c@d@пример.рф/x",
			"ftp://a.b:c@d@пример.рф/x",
			"ftp://xn--e1afmkfd.xn--p1ai/x",
			"ftp://REDACTED@пример.рф/x",
			"fxp://REDACTED@пример[.]рф/x",
		},
		{
			"https://evil.com/a@b",
			"https://evil.com/a@b",
			"https://evil.com/a@b",
			"https://evil.com/a@b",
			"hxxps://evil[.]com/a@b",
		},
	}
	for _, tt := range tests {
		got := Extract(tt.text)
		if len(got) != 1 || got[0].Kind != KindURL {
			t.Fatalf("Extract(%q) = %v, want one URL", tt.text, got)
		}
		in := got[0]
		if in.Value != tt.value {
			t.Errorf("Extract(%q) value = %q, want %q", tt.text, in.Value, tt.value)
		}
		if got := in.LookupValue(); got != tt.lookup {
			t.Errorf("LookupValue() of %q = %q, want %q", tt.text, got, tt.lookup)
		}
		if got := in.Redacted(); got != tt.redacted {
			t.Errorf("Redacted() of %q = %q, want %q", tt.text, got, tt.redacted)
		}
		if got := in.SafeDisplay(); got != tt.safeDisplay {
			t.Errorf("SafeDisplay() of %q = %q, want %q", tt.text, got, tt.safeDisplay)
		}
		if got := refangString(in.Display); got != in.Value {
			t.Errorf("display %q of %q refangs to %q, want %q", in.Display, tt.text, got, in.Value)
		}
	}
}

func TestRedactedOtherKinds(t *testing.T) {
	for _, in := range []Indicator{
		{Kind: KindEmail, Value: "bob@evil.com", Display: "bob[@]evil[.]com"},
		{Kind: KindDomain, Value: "evil.com", Display: "evil[.]com"},
		{Kind: KindIP, Value: "8.8.8.8", Display: "8.8.8[.]8"},
	} {
		if got := in.Redacted(); got != in.Value {
			t.Errorf("%v.Redacted() = %q, want the value", in, got)
		}
		if got := in.SafeDisplay(); got != in.Display {
			t.Errorf("%v.SafeDisplay() = %q, want the display form", in, got)
		}
	}
}

func TestDisplayRefangsToValue(t *testing.T) {
	texts := []string{
		"http//0.http //0",
		"https//a.example.org.https //b",
		"http://evil.com/x/http//y",
		"http://evil.com/h__ps__y",
		"http%3A%2F%2F0%2.ac%2F0(%2E0",
		"http%3A%2F%2Fevil.com%2F0%2E]0",
	}
	for _, text := range texts {
		for _, in := range Extract(text) {
			if got := refangString(in.Display); got != in.Value {
				t.Errorf("Extract(%q): display %q refangs to %q, want %q", text, in.Display, got, in.Value)
			}
		}
	}
}

func TestSupportedSchemeList(t *testing.T) {
	names := strings.FieldsFunc(supportedSchemeList, func(r rune) bool { return r == ',' || r == ' ' })
	names = slices.DeleteFunc(names, func(s string) bool { return s == "or" })
	if len(names) != len(supportedSchemes) {
		t.Errorf("supportedSchemeList %q names %d schemes, want %d", supportedSchemeList, len(names), len(supportedSchemes))
	}
	for _, name := range names {
		if !supportedSchemes[name] {
			t.Errorf("supportedSchemeList names %q, which is not in supportedSchemes", name)
		}
	}
}
