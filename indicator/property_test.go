package indicator

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// generatedCase is a message built from one known indicator written in a
// random defang style and context.
type generatedCase struct {
	text string
	kind Kind
	want string
}

// Parts that generatedCases combines.
var (
	genHosts = []string{
		"evil-example.com", "login.secure-bank.net", "c2.bad-update.xyz",
		"mail.example.co.uk", "bücher-shop.de", "cdn.evil.io", "api.update.info",
		"Portal.Example.ORG",
	}
	genPaths   = []string{"", "/", "/a/b.php", "/x?id=1&y=2", "/wiki/Foo_(bar)", "/dl/setup.exe"}
	genIPs     = []string{"45.9.148.123", "185.220.101.4", "10.1.2.3", "91.215.85.17"}
	genLocals  = []string{"bob", "Jane.Doe", "ops+ir", "first_last"}
	genDots    = []string{".", "[.]", "(.)", "{.}", "[dot]", "(dot)", " [.] "}
	genAts     = []string{"@", "[@]", "(at)", "[at]", " @ ", "(@)"}
	genSchemes = map[string][]string{
		"http":  {"http://", "hxxp://", "hXXp://", "h**p://", "http[:]//", "http[://]", "meow://", "HTTP://"},
		"https": {"https://", "hxxps://", "hXXps://", "h**ps://", "https[:]//", "https[://]", "meows://"},
	}
	genWrappers = []string{
		"%s", "(%s)", "\"%s\"", "'%s'", "*%s*", "_%s_", "~%s~", "`%s`", "%s.", "%s,",
		"%s!", "%s?", "[%s]", "“%s”", "%s;", "%s:",
	}
	genSentences = []string{"%s", "see %s now", "IOC: %s", "blocked %s, thanks", "> %s\n> next", "1. %s\n2. other"}
)

// defangDots returns host with its dots written as dot, either all of them
// or only the last.
func defangDots(rng *rand.Rand, host, dot string) string {
	if rng.IntN(2) == 0 {
		return strings.ReplaceAll(host, ".", dot)
	}
	i := strings.LastIndexByte(host, '.')
	return host[:i] + dot + host[i+1:]
}

func pick[T any](rng *rand.Rand, list []T) T { return list[rng.IntN(len(list))] }

// generatedCases returns n messages with a random indicator each. The
// same seed gives the same messages.
func generatedCases(n int) []generatedCase {
	rng := rand.New(rand.NewPCG(7, 11))
	cases := make([]generatedCase, 0, n)
	for len(cases) < n {
		var c generatedCase
		host := pick(rng, genHosts)
		lowerHost := strings.ToLower(host)
		switch rng.IntN(4) {
		case 0:
			scheme := pick(rng, []string{"http", "https"})
			path := pick(rng, genPaths)
			c.text = pick(rng, genSchemes[scheme]) + defangDots(rng, host, pick(rng, genDots)) + path
			c.kind, c.want = KindURL, scheme+"://"+lowerHost+path
		case 1:
			dot := pick(rng, genDots[1:])
			c.text = defangDots(rng, host, dot)
			c.kind, c.want = KindDomain, lowerHost
		case 2:
			ip := pick(rng, genIPs)
			c.text = defangDots(rng, ip, pick(rng, genDots))
			c.kind, c.want = KindIP, ip
		case 3:
			local := pick(rng, genLocals)
			c.text = local + pick(rng, genAts) + defangDots(rng, host, pick(rng, genDots))
			c.kind, c.want = KindEmail, local+"@"+lowerHost
		}
		c.text = fmt.Sprintf(pick(rng, genSentences), fmt.Sprintf(pick(rng, genWrappers), c.text))
		cases = append(cases, c)
	}
	return cases
}

// TestExtractGenerated checks that each generated indicator is found, in
// whatever style and context it was written.
func TestExtractGenerated(t *testing.T) {
	for _, c := range generatedCases(2000) {
		found := false
		for _, in := range Extract(c.text) {
			if in.Kind == c.kind && comparable(in.Kind, in.Value) == comparable(c.kind, c.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("Extract(%q) = %v, want %s %q among them", c.text, Extract(c.text), c.kind, c.want)
		}
	}
}

// TestIndicatorRoundTrip checks, for every indicator extracted from the
// case files and from generated text, that refanging Display gives Value
// back, that Parse returns the same indicator for Value and for Display,
// and that Value is normalised.
func TestIndicatorRoundTrip(t *testing.T) {
	var texts []string
	for _, path := range []string{"testdata/extract.jsonl", "testdata/variants.jsonl"} {
		for _, c := range loadCases(t, path) {
			texts = append(texts, c.Text)
		}
	}
	for _, c := range generatedCases(2000) {
		texts = append(texts, c.text)
	}
	texts = append(texts, strings.Split(chatText(64<<10), "\n")...)

	count := 0
	for _, text := range texts {
		for _, in := range Extract(text) {
			checkRoundTrip(t, text, in)
			count++
		}
	}
	if count < 1000 {
		t.Errorf("checked %d indicators, want at least 1000", count)
	}
}

func checkRoundTrip(t *testing.T, text string, in Indicator) {
	t.Helper()
	want := comparable(in.Kind, in.Value)
	if got := refangString(in.Display); comparable(in.Kind, got) != want {
		t.Errorf("in %q: display %q refangs to %q, want %q", text, in.Display, got, in.Value)
	}

	parsed, err := Parse(in.Kind, in.Value)
	if err != nil {
		t.Errorf("in %q: Parse(%s, %q): %v", text, in.Kind, in.Value, err)
	} else if parsed != in {
		t.Errorf("in %q: Parse(%s, %q) = %+v, want %+v", text, in.Kind, in.Value, parsed, in)
	}

	parsed, err = Parse(in.Kind, in.Display)
	if err != nil {
		t.Errorf("in %q: Parse(%s, %q): %v", text, in.Kind, in.Display, err)
	} else if comparable(parsed.Kind, parsed.Value) != want {
		t.Errorf("in %q: Parse(%s, %q) = %q, want %q", text, in.Kind, in.Display, parsed.Value, in.Value)
	}

	if strings.ContainsAny(in.Value, " \t\n") {
		t.Errorf("in %q: value %q contains a blank", text, in.Value)
	}
	if host := valueHost(in); host != unicodeHost(host) {
		t.Errorf("in %q: value %q has host %q in punycode, want Unicode", text, in.Value, host)
	}
}

// valueHost returns the host name in the value of in, or "" for an IP.
func valueHost(in Indicator) string {
	switch in.Kind {
	case KindDomain:
		return in.Value
	case KindEmail:
		return in.Value[strings.LastIndexByte(in.Value, '@')+1:]
	case KindURL:
		if u, err := splitURL(in.Value, true); err == nil && !strings.HasPrefix(u.host, "[") {
			return u.host
		}
	}
	return ""
}
