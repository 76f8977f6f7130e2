package indicator

import (
	"errors"
	"net/netip"
	"strings"
)

// supportedSchemes are the URL schemes IPQualityScore's URL scanner takes.
var supportedSchemes = map[string]bool{"http": true, "https": true, "ftp": true}

// urlParts is a URL split at the places normalisation touches.
type urlParts struct {
	scheme   string // lower-case, without "://"
	userinfo string // with its trailing "@", or ""
	host     string // normalised name, dotted IPv4, or IPv6 in brackets
	port     string // digits, or ""
	rest     string // path, query and fragment as written
	skipped  string
}

var (
	errNoHost     = errors.New("no host")
	errBadScheme  = errors.New("bad scheme")
	errBadPort    = errors.New("bad port")
	errBadHost    = errors.New("bad host")
	errNoAuthSep  = errors.New("no ://")
	errBadAddress = errors.New("bad address")
)

// splitURL parses raw, which must have the form scheme://authority[rest].
// anyTLD accepts host names whose top-level label is not a known TLD; it
// applies only to supported schemes. On error, u holds the parts read so
// far: with errBadPort, port is the rejected port, and with errBadHost or
// errBadAddress, host is the rejected host as written.
func splitURL(raw string, anyTLD bool) (urlParts, error) {
	var u urlParts
	sep := strings.Index(raw, "://")
	if sep < 0 {
		return u, errNoAuthSep
	}
	u.scheme = strings.ToLower(raw[:sep])
	if !validScheme(u.scheme) {
		return u, errBadScheme
	}
	supported := supportedSchemes[u.scheme]

	rest := raw[sep+3:]
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	authority, path := rest[:authEnd], rest[authEnd:]
	u.rest = path
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		u.userinfo, authority = authority[:at+1], authority[at+1:]
	}
	if authority == "" {
		return u, errNoHost
	}

	host := authority
	if host[0] == '[' {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			u.host = host
			return u, errBadAddress
		}
		after := host[end+1:]
		host = host[1:end]
		if after != "" {
			if after[0] != ':' || !parsePort(after[1:]) {
				u.port = strings.TrimPrefix(after, ":")
				return u, errBadPort
			}
			u.port = after[1:]
		}
		addr, ok := parseIPv6(strings.Replace(host, "%25", "%", 1))
		if !ok {
			u.host = host
			return u, errBadAddress
		}
		u.host = "[" + addr.WithZone("").String() + "]"
		u.skipped = ipSkipReason(addr)
	} else {
		if c := strings.LastIndexByte(host, ':'); c >= 0 {
			if !parsePort(host[c+1:]) {
				u.port = host[c+1:]
				return u, errBadPort
			}
			u.port = host[c+1:]
			host = host[:c]
		}
		if addr, ok := parseIPv4(host); ok {
			u.host = addr.String()
			u.skipped = ipSkipReason(addr)
		} else if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
			// The one single-label name taken in a URL, so that
			// http://localhost:8080/ is reported and skipped like 127.0.0.1.
			u.host = "localhost"
			u.skipped = SkipReservedName
		} else {
			name, ok := normalizeHost(host, anyTLD && supported)
			if !ok {
				u.host = host
				return u, errBadHost
			}
			u.host = name
			u.skipped = hostSkipReason(name)
			if isSlackHost(name) {
				u.skipped = SkipSlackHosted
			}
		}
	}
	if !supported {
		u.skipped = SkipUnsupportedScheme
	}
	return u, nil
}

func validScheme(s string) bool {
	if s == "" || len(s) > 32 || !isASCIILetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isASCIIAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// join returns the URL with host replaced by the given form of it.
func (u urlParts) join(host string) string {
	var b strings.Builder
	b.Grow(len(u.scheme) + len(u.userinfo) + len(host) + len(u.port) + len(u.rest) + 4)
	b.WriteString(u.scheme)
	b.WriteString("://")
	b.WriteString(u.userinfo)
	b.WriteString(host)
	if u.port != "" {
		b.WriteByte(':')
		b.WriteString(u.port)
	}
	b.WriteString(u.rest)
	return b.String()
}

func (u urlParts) indicator() Indicator {
	return Indicator{
		Kind:    KindURL,
		Value:   u.join(u.host),
		Display: Defang(u.join(displayHost(u.host))),
		Skipped: u.skipped,
	}
}

func newDomain(host string) Indicator {
	skipped := hostSkipReason(host)
	if isSlackHost(host) {
		skipped = SkipSlackHosted
	}
	return Indicator{
		Kind:    KindDomain,
		Value:   host,
		Display: Defang(displayHost(host)),
		Skipped: skipped,
	}
}

// newEmail builds an email indicator from a local part kept as written and
// a normalised domain.
func newEmail(local, domain string) Indicator {
	return Indicator{
		Kind:    KindEmail,
		Value:   local + "@" + domain,
		Display: Defang(local + "@" + displayHost(domain)),
		Skipped: hostSkipReason(domain),
	}
}

// validLocalPart reports whether s can be the local part of an address in
// chat: the RFC 5322 dot-atom characters that show up in practice.
func validLocalPart(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLocalByte(s[i]) {
			return false
		}
	}
	return true
}

func isLocalByte(c byte) bool {
	return isASCIIAlnum(c) || strings.IndexByte("._%+-'", c) >= 0
}

// LookupValue returns the form sent to IPQualityScore: host names in
// punycode, IPv4-mapped IPv6 addresses as IPv4, and URLs without their
// userinfo (user:password@), so that credentials in a URL are not sent to
// IPQualityScore.
func (in Indicator) LookupValue() string {
	switch in.Kind {
	case KindIP:
		addr, err := netip.ParseAddr(in.Value)
		if err != nil {
			return in.Value
		}
		return addr.Unmap().String()
	case KindDomain:
		return asciiHost(in.Value)
	case KindEmail:
		at := strings.LastIndexByte(in.Value, '@')
		if at < 0 {
			return in.Value
		}
		return in.Value[:at+1] + asciiHost(in.Value[at+1:])
	case KindURL:
		u, err := splitURL(in.Value, true)
		if err != nil {
			return redactUserinfo(in.Value, "")
		}
		u.userinfo = ""
		return u.join(asciiHost(u.host))
	}
	return in.Value
}

// redactedUserinfo is the text that replaces the userinfo of a URL in logs
// and replies.
const redactedUserinfo = "REDACTED@"

// Redacted returns Value with the userinfo of a URL replaced by
// "REDACTED@", for logs. Other kinds are returned unchanged.
func (in Indicator) Redacted() string {
	if in.Kind != KindURL {
		return in.Value
	}
	return redactUserinfo(in.Value, redactedUserinfo)
}

// SafeDisplay returns Display with the userinfo of a URL replaced by
// "REDACTED@", for replies. Other kinds are returned unchanged.
func (in Indicator) SafeDisplay() string {
	if in.Kind != KindURL {
		return in.Display
	}
	return redactUserinfo(in.Display, redactedUserinfo)
}

// redactUserinfo returns the URL s, defanged or not, with the userinfo in
// its authority (up to the last '@' before the first '/', '?' or '#')
// replaced by replacement.
func redactUserinfo(s, replacement string) string {
	sep := strings.Index(s, "://")
	if sep < 0 {
		return s
	}
	start := sep + 3
	authEnd := strings.IndexAny(s[start:], "/?#")
	if authEnd < 0 {
		authEnd = len(s) - start
	}
	at := strings.LastIndexByte(s[start:start+authEnd], '@')
	if at < 0 {
		return s
	}
	return s[:start] + replacement + s[start+at+1:]
}

// Defang returns s in a form chat clients do not turn into a link: an
// http or ftp scheme becomes hxxp or fxp, the last dot of the host becomes
// "[.]" and an email's "@" becomes "[@]". Other text passes through, and s
// is returned unchanged when it already contains "[.]".
func Defang(s string) string {
	if strings.Contains(s, "[.]") {
		return s
	}
	if sep := strings.Index(s, "://"); sep > 0 {
		scheme := strings.ToLower(s[:sep])
		switch {
		case scheme == "http" || scheme == "https":
			scheme = "hxxp" + scheme[4:]
		case scheme == "ftp":
			scheme = "fxp"
		default:
			scheme = s[:sep]
		}
		rest := s[sep+3:]
		authEnd := strings.IndexAny(rest, "/?#")
		if authEnd < 0 {
			authEnd = len(rest)
		}
		return scheme + "://" + defangLastDot(rest[:authEnd]) + rest[authEnd:]
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		return s[:at] + "[@]" + defangLastDot(s[at+1:])
	}
	return defangLastDot(s)
}

func defangLastDot(s string) string {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return s
	}
	return s[:i] + "[.]" + s[i+1:]
}
