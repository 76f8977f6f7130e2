package indicator

import (
	"strings"
	"testing"
)

// refangString undoes Defang and the other defang styles.
func refangString(s string) string {
	return string(joinSpelledOut(refangText([]byte(s))).text)
}

func FuzzExtract(f *testing.F) {
	seeds := []string{
		"hxxp://example[.]com/test",
		"<http://evil.example.com|evil.example.com> aka evil[.]example[.]com",
		"<mailto:a@b.com|a@b.com> <@U024BE7LH> <!date^1392734382^{date_short}|Feb 18>",
		"2001:db8::1%eth0 [2001:db8::2]:443 ::ffff:10.0.0.1 074.205.128.200:8010",
		"bob AT example dot com, user_58 (at) yahoo.com",
		"http://中国.中国/中国 banana.קום info@bücher.de pаypal.com",
		"http://foo.com/path_(more)/end) 'http://a.com/x','http://b.com/y'",
		"1.2.3.4.5 10.0.19045.1234 1.1.1.1/0 :cafe::bee:",
		"h__ps__sub.example[.]com/p http[:]//x.org meows://google[.]com",
		"http%3A%2F%2Fexample%2Ecom%2Fwhite%2Ehta",
		"http//0.http //0",
		"ex\u200Dample.com e\u200Cvil.com https://evil\u202E.com/moc.elgoog",
		"https://user:pass@evil.com/login 64:ff9b::a00:1 2002:a00:1::1",
		"1.2.3.4.0255 10.1.1.117.4222 my_http__client.go http://a.com/x/http//b",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, in := range Extract(text) {
			parsed, err := Parse(in.Kind, in.Value)
			if err != nil {
				t.Fatalf("Parse(%q, %q) of an extracted value: %v", in.Kind, in.Value, err)
			}
			if parsed.Kind != in.Kind || parsed.Value != in.Value {
				t.Fatalf("Parse(%q, %q) = %s %q, want the same kind and value", in.Kind, in.Value, parsed.Kind, parsed.Value)
			}
			if got := refangString(in.Display); comparable(in.Kind, got) != comparable(in.Kind, in.Value) {
				t.Fatalf("display %q refangs to %q, want %q", in.Display, got, in.Value)
			}
			if host := valueHost(in); host != unicodeHost(host) {
				t.Fatalf("value %q has a host in punycode, want Unicode", in.Value)
			}
			if strings.ContainsAny(in.Value, " \n\t") {
				t.Fatalf("value %q contains a blank", in.Value)
			}
		}
	})
}
