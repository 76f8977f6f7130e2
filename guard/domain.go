package guard

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/ipqsbot/ipqsbot/indicator"
)

// The reasons SkipReason returns.
const (
	SkipInternal = "internal host name"
	SkipSlack    = "Slack-hosted link"
	SkipNever    = "listed in NEVER_LOOKUP_DOMAINS"
)

// internalDomains are names that only resolve inside a network: localhost
// (RFC 6761), .local (mDNS, RFC 6762), .internal (reserved for private use
// by ICANN in 2024), .home.arpa (RFC 8375), and .corp, .lan and
// .localdomain, which are common in private networks.
var internalDomains = []string{"localhost", "local", "internal", "corp", "lan", "home.arpa", "localdomain"}

// slackDomains serve Slack itself and files shared in Slack.
var slackDomains = []string{"slack.com", "slack-edge.com", "slack-files.com"}

// DomainPolicy decides which host names are never sent to IPQS.
type DomainPolicy struct {
	// Never are NEVER_LOOKUP_DOMAINS entries as ValidateDomain returns
	// them. Each also covers its subdomains.
	Never []string
}

// SkipReason returns why host must not be sent to IPQS, or "" when it may
// be. host may be in Unicode or punycode, in any case, with or without a
// trailing dot. Domains match on label boundaries, so notslack.com is not
// under slack.com. A name of one label, such as intranet, counts as
// internal. IP addresses return "", because the indicator package
// classifies those.
func (p DomainPolicy) SkipReason(host string) string {
	h := canonicalHost(host)
	if h == "" {
		return ""
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}

	if !strings.Contains(h, ".") || underAny(h, internalDomains) {
		return SkipInternal
	}
	if underAny(h, slackDomains) {
		return SkipSlack
	}
	for _, entry := range p.Never {
		if d := canonicalHost(trimWildcard(entry)); d != "" && under(h, d) {
			return SkipNever
		}
	}
	return ""
}

// ValidateDomain checks one NEVER_LOOKUP_DOMAINS entry and returns it
// lower-case, in NFC, without a leading "*." or "." and without a trailing
// dot. A leading "*." or "." means the same as none: the domain and its
// subdomains.
func ValidateDomain(s string) (string, error) {
	d := trimWildcard(strings.ToLower(strings.TrimSpace(s)))
	d = norm.NFC.String(strings.TrimSuffix(d, "."))

	if _, err := netip.ParseAddr(strings.Trim(d, "[]")); err == nil {
		return "", fmt.Errorf("invalid domain %q: an IP address is not a host name; want a host name such as example.com or *.example.com", s)
	}
	if !validHostName(d) {
		return "", fmt.Errorf("invalid domain %q: want a host name such as example.com or *.example.com", s)
	}
	if !strings.Contains(d, ".") {
		return "", fmt.Errorf("invalid domain %q: a top-level domain alone would match every name under it; want a domain such as example.com", s)
	}
	return d, nil
}

// Check returns ind with Skipped set when the policy keeps its host from
// IPQS. An indicator already skipped is returned unchanged.
func (p DomainPolicy) Check(ind indicator.Indicator) indicator.Indicator {
	if ind.Skipped == "" {
		if host := HostOf(ind); host != "" {
			ind.Skipped = p.SkipReason(host)
		}
	}
	return ind
}

// HostOf returns the host name of ind that the policy applies to: a URL's
// host, a domain, or an email's domain; "" for IP addresses.
func HostOf(ind indicator.Indicator) string {
	switch ind.Kind {
	case indicator.KindDomain:
		return ind.Value
	case indicator.KindEmail:
		_, domain, _ := strings.Cut(ind.Value, "@")
		return domain
	case indicator.KindURL:
		if u, err := url.Parse(ind.Value); err == nil {
			return u.Hostname()
		}
	}
	return ""
}

// validHostName reports whether d is a host name of at most 253 bytes in
// punycode. Its labels are 1 to 63 bytes of letters, digits, hyphens and
// underscores, or Unicode letters that punycode can encode, and neither start
// nor end with a hyphen.
func validHostName(d string) bool {
	if d == "" {
		return false
	}
	ascii, err := idna.Punycode.ToASCII(d)
	if err != nil || len(ascii) > 253 {
		return false
	}
	for label := range strings.SplitSeq(ascii, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func trimWildcard(s string) string {
	if t, ok := strings.CutPrefix(s, "*."); ok {
		return t
	}
	return strings.TrimPrefix(s, ".")
}

// fullStops are the dots that IDNA treats as label separators besides ".".
var fullStops = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")

// canonicalHost returns host lower-case, without brackets or a trailing
// dot, and in punycode, so that the Unicode and punycode forms of a name
// compare equal. A name that punycode cannot encode is kept in Unicode.
func canonicalHost(host string) string {
	h := strings.TrimSuffix(strings.Trim(strings.TrimSpace(host), "[]"), ".")
	h = strings.ToLower(h)
	if !isASCII(h) {
		h = norm.NFC.String(fullStops.Replace(h))
		h = strings.TrimSuffix(h, ".")
		if a, err := idna.Punycode.ToASCII(h); err == nil {
			h = a
		}
	}
	return h
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// under reports whether host is domain or one of its subdomains.
func under(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

func underAny(host string, domains []string) bool {
	for _, d := range domains {
		if under(host, d) {
			return true
		}
	}
	return false
}
