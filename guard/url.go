package guard

import (
	"net/url"
	"strings"
)

// The parts StripURL names as removed.
const (
	RemovedCredentials = "credentials"
	RemovedQuery       = "query"
	RemovedFragment    = "fragment"
)

// StripURL returns raw as unasked enrichment sends it to IPQS: scheme, host,
// port and path only. removed names the non-empty parts it dropped, in the
// order credentials, query, fragment, so a card can show what was sent. A
// URL that net/url cannot parse is cut by hand at "?", "#" and the last "@"
// of its authority.
func StripURL(raw string) (sent string, removed []string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" && u.Opaque == "" {
		return stripByHand(raw)
	}

	if u.User != nil {
		removed = append(removed, RemovedCredentials)
	}
	if u.RawQuery != "" {
		removed = append(removed, RemovedQuery)
	}
	if u.Fragment != "" {
		removed = append(removed, RemovedFragment)
	}

	if u.Opaque != "" {
		return u.Scheme + ":" + u.Opaque, removed
	}
	// u.Host keeps the port and the brackets of an IPv6 address.
	return u.Scheme + "://" + u.Host + u.EscapedPath(), removed
}

// stripByHand removes the fragment, query and user information of a URL
// that net/url rejects, such as one with a space in its credentials.
func stripByHand(raw string) (string, []string) {
	s := raw
	var credentials, query, fragment bool

	if i := strings.IndexByte(s, '#'); i >= 0 {
		fragment = i < len(s)-1
		s = s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		query = i < len(s)-1
		s = s[:i]
	}

	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + len("://")
	} else if strings.HasPrefix(s, "//") {
		start = len("//")
	}
	end := len(s)
	if i := strings.IndexByte(s[start:], '/'); i >= 0 {
		end = start + i
	}
	if at := strings.LastIndexByte(s[start:end], '@'); at >= 0 {
		credentials = true
		s = s[:start] + s[start+at+1:]
	}

	var removed []string
	if credentials {
		removed = append(removed, RemovedCredentials)
	}
	if query {
		removed = append(removed, RemovedQuery)
	}
	if fragment {
		removed = append(removed, RemovedFragment)
	}
	return s, removed
}
