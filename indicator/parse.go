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
// Skipped set rather than left out.
func Parse(k Kind, s string) (Indicator, error) {
	token := unwrapSlack(strings.TrimSpace(s))
	if token == "" {
		return Indicator{}, errors.New("no indicator given: add an IP address, domain, URL or email address")
	}

	in, err := parseKind(k, token)
	if err == nil {
		return in, nil
	}
	refanged := string(joinSpelledOut(refangText([]byte(token))).text)
	if refanged != token {
		if in, err2 := parseKind(k, refanged); err2 == nil {
			return in, nil
		}
	}
	return Indicator{}, err
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
		if scheme, _, ok := strings.Cut(s, ":"); ok && validScheme(strings.ToLower(scheme)) && !isHostPort(s) {
			return Indicator{}, fmt.Errorf("%q uses the %s: scheme, which cannot be looked up: use an http, https or ftp URL", s, strings.ToLower(scheme))
		}
		raw = "http://" + s
	}
	u, err := splitURL(raw, true)
	if err != nil {
		return Indicator{}, fmt.Errorf("%q is not a valid URL: use a form like https://example.com/path or example.com", s)
	}
	return u.indicator(), nil
}

// isHostPort reports whether s starts with host:port, as in
// example.com:8080/path.
func isHostPort(s string) bool {
	_, rest, _ := strings.Cut(s, ":")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	return parsePort(rest[:end])
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
