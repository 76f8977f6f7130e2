package indicator

import (
	"strconv"
	"strings"
)

// scanPlain finds IP addresses, email addresses, host names and
// scheme-less URLs in text[p:end], a part of a word without "://".
func (s *scanner) scanPlain(p, end int) {
	for i := p; i < end; {
		c := s.text[i]
		if (isHexDigit(c) || c == ':') && (i == p || !isHostByte(s.text[i-1]) && s.text[i-1] != ':' && s.text[i-1] != '.') {
			if next := s.scanIPv6(i, end); next > i {
				i = next
				continue
			}
		}
		if !isHostByte(c) && c != '.' && c != '+' {
			i++
			continue
		}

		r := i
		for r < end && (isHostByte(s.text[r]) || s.text[r] == '.' || s.text[r] == '+') {
			r++
		}
		if r < end && s.text[r] == '@' {
			i = s.scanEmail(p, i, r, end)
			continue
		}
		i = s.scanHost(i, r, end)
	}
}

// startsPath reports whether text[q] starts the path, query or fragment
// of a scheme-less URL: a '/', or a '?' or '#' followed by a host byte,
// so that a question mark ending a sentence does not count.
func (s *scanner) startsPath(q, end int) bool {
	switch s.text[q] {
	case '/':
		return true
	case '?', '#':
		return q+1 < end && isHostByte(s.text[q+1])
	}
	return false
}

// isTransportSuffix reports whether text[q:] is "/tcp" or "/udp" ending the
// token, in any case.
func isTransportSuffix(text []byte, q, end int) bool {
	if end-q < 4 || !hasPrefixFold(text, q, "/tcp") && !hasPrefixFold(text, q, "/udp") {
		return false
	}
	return q+4 == end || !isHostByte(text[q+4]) && text[q+4] != '/'
}

func isHexDigit(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanIPv6 reads an IPv6 address at text[i], with an optional zone and,
// when bracketed, port. It returns where the address ends, or i when there
// is none; a CIDR range is skipped without being added.
func (s *scanner) scanIPv6(i, end int) int {
	j := i
	for j < end && j-i <= 64 && (isHexDigit(s.text[j]) || s.text[j] == ':' || s.text[j] == '.') {
		j++
	}
	if j-i > 64 || j < end && isHostByte(s.text[j]) {
		return i
	}
	addrEnd := j
	for addrEnd > i && s.text[addrEnd-1] == '.' {
		addrEnd--
	}
	span := string(s.text[i:addrEnd])
	if strings.HasSuffix(span, ":") && !strings.HasSuffix(span, "::") {
		return i
	}
	addr, ok := parseIPv6(span)
	if !ok || isHexPairs(span) {
		return i
	}

	next := addrEnd
	if addrEnd == j && next < end && s.text[next] == '%' {
		next++
		for next < end && (isASCIIAlnum(s.text[next]) || s.text[next] == '_' || s.text[next] == '-') {
			next++
		}
	}
	if i > 0 && s.text[i-1] == '[' && next < end && s.text[next] == ']' {
		next++
		if next+1 < end && s.text[next] == ':' && isDigit(s.text[next+1]) {
			next = digitsEnd(s.text, next+1, end)
		}
	}
	if cidrEnd, ok := s.cidrSuffix(next, end); ok {
		return cidrEnd
	}
	s.add(newIP(addr))
	return next
}

// isHexPairs reports whether s is eight groups of exactly two hex digits,
// as in an EUI-64 or a key fingerprint (12:34:56:78:9a:bc:de:f0). Such a
// string parses as IPv6, but an address written out in full has wider
// groups somewhere.
func isHexPairs(s string) bool {
	groups := strings.Split(s, ":")
	if len(groups) != 8 {
		return false
	}
	for _, g := range groups {
		if len(g) != 2 {
			return false
		}
	}
	return true
}

func digitsEnd(text []byte, j, end int) int {
	for j < end && isDigit(text[j]) {
		j++
	}
	return j
}

// cidrSuffix reports whether text[j:] is a prefix length such as "/24"
// that ends the token, and where it ends.
func (s *scanner) cidrSuffix(j, end int) (int, bool) {
	if j+1 >= end || s.text[j] != '/' || !isDigit(s.text[j+1]) {
		return 0, false
	}
	d := digitsEnd(s.text, j+1, end)
	if d-j-1 > 3 || d < end && (isHostByte(s.text[d]) || strings.IndexByte("/.?#=&%", s.text[d]) >= 0) {
		return 0, false
	}
	return d, true
}

// scanEmail reads the address whose local part is text[i:at]. It returns
// where scanning goes on: after the domain whether or not the address is
// valid, so that the domain of a rejected address is not taken alone.
func (s *scanner) scanEmail(p, i, at, end int) int {
	e := at + 1
	for e < end && (isHostByte(s.text[e]) || s.text[e] == '.') {
		e++
	}
	domainEnd := e
	for domainEnd > at+1 && strings.IndexByte(".-_", s.text[domainEnd-1]) >= 0 {
		domainEnd--
	}

	i = s.extendLocalPart(p, i)
	if s.text[i] == '_' && domainEnd < e && s.text[domainEnd] == '_' && (i == p || !isHostByte(s.text[i-1])) {
		// _user@example.com_ is an address in italics.
		i++
	}
	local := string(s.text[i:at])
	if !validLocalPart(local) || !s.localStartOK(p, i) {
		return e
	}
	domain, ok := normalizeHost(string(s.text[at+1:domainEnd]), s.defanged(i, domainEnd))
	if !ok {
		return e
	}
	s.add(newEmail(local, domain))
	return e
}

// extendLocalPart returns where the local part that the scan started at
// text[i] begins when apostrophes join it to the word before, as in
// o'brien@example.com.
func (s *scanner) extendLocalPart(p, i int) int {
	for i-2 >= p && s.text[i-1] == '\'' && isASCIIAlnum(s.text[i-2]) {
		j := i - 1
		for j > p && i-j < 64 && (isASCIIAlnum(s.text[j-1]) || strings.IndexByte("._%+-", s.text[j-1]) >= 0) {
			j--
		}
		i = j
	}
	return i
}

// localStartOK reports whether a local part starting at text[i] begins a
// token rather than ending a longer one: "iv**-sm***12@mail.ru" is a
// redacted address, not 12@mail.ru. A single '*' or '~' opening the word is
// emphasis or strike-through.
func (s *scanner) localStartOK(p, i int) bool {
	if i == p {
		return true
	}
	prev := s.text[i-1]
	if prev == '*' || prev == '~' {
		return i-1 == p || !isHostByte(s.text[i-2]) && s.text[i-2] != prev
	}
	return strings.IndexByte("#$!&^~%", prev) < 0
}

// scanHost reads the run text[i:r] of host bytes and dots as an IPv4
// address or a host name, with an optional port and path, and returns
// where scanning goes on.
func (s *scanner) scanHost(i, r, end int) int {
	start, stop := i, r
	for start < stop && strings.IndexByte(".-+", s.text[start]) >= 0 {
		start++
	}
	for stop > start && strings.IndexByte(".-", s.text[stop-1]) >= 0 {
		stop--
	}
	for stop > start && s.text[stop-1] == '_' {
		// A top-level label cannot end in '_': it closes italics, as in
		// "_ops@example.com_" or "_see example.com_".
		stop--
	}
	if start < stop && s.text[start] == '_' && s.text[stop-1] == '_' {
		for start < stop && s.text[start] == '_' {
			start++
		}
		for stop > start && s.text[stop-1] == '_' {
			stop--
		}
	}
	for start < stop && s.text[start] == '_' {
		start++
	}
	raw := string(s.text[start:stop])
	if raw == "" || strings.IndexByte(raw, '.') < 0 || strings.IndexByte(raw, '+') >= 0 {
		return r
	}
	if i > 0 && strings.IndexByte("/\\@$", s.text[i-1]) >= 0 {
		return r
	}

	q, port := stop, ""
	if stop == r && q+1 < end && s.text[q] == ':' && isDigit(s.text[q+1]) {
		d := digitsEnd(s.text, q+1, end)
		if parsePort(string(s.text[q+1 : d])) {
			port, q = string(s.text[q+1:d]), d
		}
	}
	hasPath := (stop == r || port != "") && q < end && s.startsPath(q, end)
	if port != "" && hasPath && isTransportSuffix(s.text, q, end) {
		// 8.8.8.8:53/udp names a port and protocol, not a path.
		hasPath = false
	}

	if isAllDigitsOrDots(raw) {
		return s.scanIPv4(raw, start, r, q, end, port, hasPath)
	}

	defanged := s.defanged(i, q)
	host, ok := normalizeHost(raw, defanged)
	if !ok {
		return r
	}
	var next byte = ' '
	if stop < end {
		next = s.text[stop]
	}
	if !defanged && !plausiblePlainHost(raw, host, next) {
		return r
	}

	switch {
	case hasPath:
		return s.addSchemeless(start, q, end)
	case port != "":
		s.addURL("http://"+host+":"+port, defanged)
		return q
	}
	s.add(newDomain(host))
	return r
}

// scanIPv4 handles a run of digits and dots: a dotted quad, or the
// address and port of BSD netstat (a fifth part from 256 to 65535, which
// cannot be an octet). Five or more parts are otherwise a version string
// such as 1.2.3.4.5 or 10.0.19045.1234, not an address.
func (s *scanner) scanIPv4(raw string, start, r, q, end int, port string, hasPath bool) int {
	parts := strings.SplitN(raw, ".", 6)
	switch {
	case len(parts) == 4:
	case len(parts) == 5 && isNetstatPort(parts[4]):
		raw = strings.Join(parts[:4], ".")
		port, hasPath = "", false
		q = r
	default:
		return r
	}
	addr, ok := parseIPv4(raw)
	if !ok {
		return r
	}
	if port == "" && hasPath {
		if cidrEnd, ok := s.cidrSuffix(q, end); ok {
			return cidrEnd
		}
	}
	if hasPath {
		return s.addSchemeless(start, q, end)
	}
	s.add(newIP(addr))
	if port != "" {
		return q
	}
	return r
}

// isNetstatPort reports whether s is the port that BSD netstat appends to
// an IPv4 address after a dot: a port number above 255, so that it cannot
// be read as a fifth octet of a version string.
func isNetstatPort(s string) bool {
	if !parsePort(s) {
		return false
	}
	n, _ := strconv.Atoi(s)
	return n > 255
}

// addSchemeless adds the URL that starts with the host at text[start] and
// has its path at text[q], with "http://" in front, and returns its end.
func (s *scanner) addSchemeless(start, q, end int) int {
	urlEnd := trimURLEnd(s.text, start, s.pathEnd(q, end, false))
	s.addURL("http://"+string(s.text[start:urlEnd]), true)
	return urlEnd
}

func (s *scanner) addURL(raw string, anyTLD bool) {
	if u, err := splitURL(raw, anyTLD); err == nil {
		s.add(u.indicator())
	}
}
