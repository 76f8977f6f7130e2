package indicator

import (
	"net/netip"
	"strconv"
	"strings"
)

// maxOctetDigits bounds an octet with leading zeros: three digits padded
// with one more zero, as in the octal-looking 0177.
const maxOctetDigits = 4

// parseIPv4 reads a dotted-quad IPv4 address. Unlike netip it accepts
// leading zeros and reads such octets as decimal (074 and 0177 are 74 and
// 177), because that is how zero-padded logs and analysts mean them. It
// rejects hex and integer forms.
func parseIPv4(s string) (netip.Addr, bool) {
	var octets [4]byte
	for i := range 4 {
		end := strings.IndexByte(s, '.')
		if i == 3 {
			end = len(s)
		} else if end < 0 {
			return netip.Addr{}, false
		}
		part := s[:end]
		if part == "" || len(part) > maxOctetDigits || len(part) == maxOctetDigits && part[0] != '0' {
			return netip.Addr{}, false
		}
		n := 0
		for j := 0; j < len(part); j++ {
			if !isDigit(part[j]) {
				return netip.Addr{}, false
			}
			n = n*10 + int(part[j]-'0')
		}
		if n > 255 {
			return netip.Addr{}, false
		}
		octets[i] = byte(n)
		if i < 3 {
			s = s[end+1:]
		}
	}
	return netip.AddrFrom4(octets), true
}

// parseIPv6 reads an IPv6 address, dropping a %zone. It requires a digit
// somewhere so that words made of hex letters (cafe::bee) are not taken.
func parseIPv6(s string) (netip.Addr, bool) {
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	if strings.Count(s, ":") < 2 || !strings.ContainsAny(s, "0123456789") {
		return netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is6() {
		return netip.Addr{}, false
	}
	return addr, true
}

// parsePort reports whether s is a TCP or UDP port number: one to five
// decimal digits with a value up to 65535.
func parsePort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	n, err := strconv.Atoi(s)
	return err == nil && n <= 65535
}

func newIP(addr netip.Addr) Indicator {
	value := addr.WithZone("").String()
	return Indicator{
		Kind:    KindIP,
		Value:   value,
		Display: Defang(value),
		Skipped: ipSkipReason(addr),
	}
}
