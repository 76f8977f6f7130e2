package indicator

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Parse reads s, one token a user gave explicitly, as an indicator of kind
// k, or detects the kind when k is "". It accepts defanged forms and Slack's
// link markup (<http://x|x>, <mailto:a@b|a@b>). For KindURL a scheme-less
// host or host/path gets "http://". The error text is a sentence fit to
// show the user.
//
// Parse does not apply Extract's guesses about chat: an explicit token may
// end in any TLD-shaped label, and Slack-hosted links are returned with
// Skipped set rather than left out. Like Extract, it removes invisible
// format characters first.
func Parse(k Kind, s string) (Indicator, error) {
	token := unwrapSlack(strings.TrimSpace(removeInvisible(s)))
	if token == "" {
		return Indicator{}, errors.New("no indicator given: add an IP address, domain, URL or email address")
	}

	in, err := parseKind(k, token)
	if err == nil && in.Skipped != SkipUnsupportedScheme {
		return in, nil
	}
	// The refanged form is tried when the token is invalid as written, and
	// also when it is a URL with an unsupported scheme, because
	// hxxp://[2001:db8::1]/ is valid with the scheme "hxxp".
	refanged := string(joinSpelledOut(refangText([]byte(token))).text)
	if refanged != token {
		if in2, err2 := parseKind(k, refanged); err2 == nil && (err != nil || in2.Skipped != SkipUnsupportedScheme) {
			return in2, nil
		}
	}
	return in, err
}

func parseKind(k Kind, s string) (Indicator, error) {
	switch k {
	case KindIP:
		return parseIP(s)
	case KindURL:
		return parseURL(s)
	case KindEmail:
		return parseEmail(s)
	case KindDomain:
		return parseDomain(s)
	case "":
		return detect(s)
	}
	return Indicator{}, fmt.Errorf("%q is not a kind of indicator: use ip, url, domain or email", string(k))
}

// unwrapSlack returns the token inside Slack link markup. That is the label
// when Slack linked what the user typed, the address of a mailto link, and
// the link target otherwise.
func unwrapSlack(s string) string {
	if len(s) < 2 || s[0] != '<' || s[len(s)-1] != '>' || !isSlackToken(s[1:len(s)-1]) {
		return s
	}
	target, label, hasLabel := strings.Cut(s[1:len(s)-1], "|")
	target = unescaper.Replace(target)
	label = unescaper.Replace(label)
	if strings.HasPrefix(strings.ToLower(target), "mailto:") {
		address, _, _ := strings.Cut(target[len("mailto:"):], "?")
		return address
	}
	if typed := typedForm(target, label, hasLabel); typed != "" {
		return typed
	}
	return target
}

func detect(s string) (Indicator, error) {
	if in, err := parseIP(s); err == nil {
		return in, nil
	}
	switch {
	case strings.Contains(s, "://") || strings.ContainsAny(s, "/?#"):
		return parseURL(s)
	case strings.Contains(s, "@"):
		return parseEmail(s)
	}
	if in, err := parseDomain(s); err == nil {
		return in, nil
	}
	if strings.Contains(s, ":") {
		if in, err := parseURL(s); err == nil {
			return in, nil
		}
	}
	return Indicator{}, fmt.Errorf("%q is not an IP address, domain, URL or email address: use a form like 203.0.113.7, example.com, https://example.com/path or user@example.com", s)
}

func parseIP(s string) (Indicator, error) {
	invalid := fmt.Errorf("%q is not an IP address: use a form like 203.0.113.7 or 2001:db8::1", s)
	host := s
	if strings.Contains(host, "/") {
		if _, err := netip.ParsePrefix(host); err == nil {
			return Indicator{}, fmt.Errorf("%q is a network range, not an address: give one address, such as the first one in the range", s)
		}
		return Indicator{}, invalid
	}
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return Indicator{}, invalid
		}
		if after := host[end+1:]; after != "" && (after[0] != ':' || !parsePort(after[1:])) {
			return Indicator{}, invalid
		}
		host = host[1:end]
	} else if strings.Count(host, ":") == 1 {
		c := strings.IndexByte(host, ':')
		if !parsePort(host[c+1:]) {
			return Indicator{}, invalid
		}
		host = host[:c]
	}
	if addr, ok := parseIPv4(host); ok {
		return newIP(addr), nil
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !addr.Is6() {
		return Indicator{}, invalid
	}
	return newIP(addr), nil
}

func parseURL(s string) (Indicator, error) {
	raw := s
	if !strings.Contains(s, "://") {
		if scheme, rest, ok := strings.Cut(s, ":"); ok && validScheme(strings.ToLower(scheme)) && !startsWithPort(rest) {
			return Indicator{}, fmt.Errorf("%q uses the %s: scheme, which is not supported: use an %s URL such as https://example.com/path", s, strings.ToLower(scheme), supportedSchemeList)
		}
		raw = "http://" + s
	}
	u, err := splitURL(raw, true)
	if err != nil {
		return Indicator{}, urlErrorMessage(s, u, err)
	}
	return u.indicator(), nil
}

// supportedSchemeList names supportedSchemes for error messages.
const supportedSchemeList = "http, https or ftp"

// urlErrorMessage turns an error of splitURL for the URL s into a sentence
// that names the invalid part of s.
func urlErrorMessage(s string, u urlParts, err error) error {
	switch {
	case errors.Is(err, errBadScheme) && u.scheme == "":
		return fmt.Errorf("%q has no scheme before \"://\": use an %s URL such as https://example.com/path", s, supportedSchemeList)
	case errors.Is(err, errBadScheme):
		return fmt.Errorf("%q has an invalid scheme %q: use an %s URL such as https://example.com/path", s, u.scheme, supportedSchemeList)
	case errors.Is(err, errNoHost):
		return fmt.Errorf("%q has no host: use a form like https://example.com/path", s)
	case errors.Is(err, errBadPort):
		return fmt.Errorf("%q has an invalid port %q: use a port number from 0 to 65535", s, u.port)
	case errors.Is(err, errBadAddress):
		return fmt.Errorf("%q has an invalid IPv6 address in brackets: use a form like http://[2001:db8::1]/path", s)
	case errors.Is(err, errBadHost):
		return fmt.Errorf("%q has an invalid host %q: use a host name such as example.com or an IP address", s, u.host)
	}
	return fmt.Errorf("%q is not a valid URL: use a form like https://example.com/path or example.com", s)
}

// startsWithPort reports whether s, the text after the first colon of a
// token without "://", starts with digits that end at '/', '?', '#' or the
// end: the port of host:port, in range or not.
func startsWithPort(s string) bool {
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	for i := 0; i < end; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return end > 0
}

func parseEmail(s string) (Indicator, error) {
	invalid := fmt.Errorf("%q is not an email address: use a form like user@example.com", s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 || !validLocalPart(s[:at]) {
		return Indicator{}, invalid
	}
	domain, ok := normalizeHost(s[at+1:], true)
	if !ok {
		return Indicator{}, invalid
	}
	return newEmail(s[:at], domain), nil
}

func parseDomain(s string) (Indicator, error) {
	if _, ok := parseIPv4(s); ok {
		return Indicator{}, fmt.Errorf("%q is an IP address, not a domain: look it up as an IP address", s)
	}
	host, ok := normalizeHost(s, true)
	if !ok {
		return Indicator{}, fmt.Errorf("%q is not a domain name: use a form like example.com", s)
	}
	return newDomain(host), nil
}
