package indicator

import "net/netip"

// Reasons an extracted indicator is not sent to IPQualityScore. They are the
// values of Indicator.Skipped.
const (
	SkipPrivate           = "private address"
	SkipLoopback          = "loopback address"
	SkipLinkLocal         = "link-local address"
	SkipSharedAddress     = "shared address space (CGNAT)"
	SkipMulticast         = "multicast address"
	SkipReserved          = "reserved address"
	SkipDocumentation     = "documentation address"
	SkipUniqueLocal       = "unique local address"
	SkipReservedName      = "reserved domain name"
	SkipSlackHosted       = "Slack-hosted link"
	SkipUnsupportedScheme = "unsupported scheme"
)

// ipRange maps an address block to the reason its addresses are skipped.
type ipRange struct {
	prefix netip.Prefix
	reason string
}

// specialRanges lists the IANA special-purpose blocks (RFC 6890 and its
// updates), for which a reputation lookup returns nothing useful.
// The first matching entry wins, so narrower blocks come first.
var specialRanges = []ipRange{
	{netip.MustParsePrefix("255.255.255.255/32"), SkipReserved},
	{netip.MustParsePrefix("0.0.0.0/8"), SkipReserved},
	{netip.MustParsePrefix("10.0.0.0/8"), SkipPrivate},
	{netip.MustParsePrefix("100.64.0.0/10"), SkipSharedAddress},
	{netip.MustParsePrefix("127.0.0.0/8"), SkipLoopback},
	{netip.MustParsePrefix("169.254.0.0/16"), SkipLinkLocal},
	{netip.MustParsePrefix("172.16.0.0/12"), SkipPrivate},
	{netip.MustParsePrefix("192.0.0.0/24"), SkipReserved},
	{netip.MustParsePrefix("192.0.2.0/24"), SkipDocumentation},
	{netip.MustParsePrefix("192.168.0.0/16"), SkipPrivate},
	{netip.MustParsePrefix("198.18.0.0/15"), SkipReserved},
	{netip.MustParsePrefix("198.51.100.0/24"), SkipDocumentation},
	{netip.MustParsePrefix("203.0.113.0/24"), SkipDocumentation},
	{netip.MustParsePrefix("224.0.0.0/4"), SkipMulticast},
	{netip.MustParsePrefix("240.0.0.0/4"), SkipReserved},
	{netip.MustParsePrefix("::/128"), SkipReserved},
	{netip.MustParsePrefix("::1/128"), SkipLoopback},
	{netip.MustParsePrefix("100::/64"), SkipReserved},
	{netip.MustParsePrefix("2001:db8::/32"), SkipDocumentation},
	{netip.MustParsePrefix("3fff::/20"), SkipDocumentation},
	{netip.MustParsePrefix("fc00::/7"), SkipUniqueLocal},
	{netip.MustParsePrefix("fe80::/10"), SkipLinkLocal},
	{netip.MustParsePrefix("ff00::/8"), SkipMulticast},
}

// Prefixes of IPv6 transition mechanisms.
var (
	// nat64Prefix is the well-known NAT64 prefix (RFC 6052): the last 32
	// bits are the IPv4 address.
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	// nat64LocalPrefix is the NAT64 prefix for local use (RFC 8215).
	nat64LocalPrefix = netip.MustParsePrefix("64:ff9b:1::/48")
	// sixToFourPrefix is 6to4 (RFC 3056): bits 16 to 47 are the IPv4
	// address.
	sixToFourPrefix = netip.MustParsePrefix("2002::/16")
	// teredoPrefix is Teredo (RFC 4380), a tunnelling prefix whose
	// addresses name a relay and a NAT rather than a host.
	teredoPrefix = netip.MustParsePrefix("2001::/32")
)

// ipSkipReason returns why addr is not looked up, or "" for a public
// address. An IPv6 address that embeds an IPv4 address (IPv4-mapped, NAT64
// with the well-known prefix, 6to4) is judged by that IPv4 address as well.
// The local-use NAT64 prefix and Teredo are reserved.
func ipSkipReason(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		octets := addr.As16()
		switch {
		case nat64Prefix.Contains(addr):
			if reason := ipSkipReason(netip.AddrFrom4([4]byte(octets[12:16]))); reason != "" {
				return reason
			}
		case sixToFourPrefix.Contains(addr):
			if reason := ipSkipReason(netip.AddrFrom4([4]byte(octets[2:6]))); reason != "" {
				return reason
			}
		case nat64LocalPrefix.Contains(addr), teredoPrefix.Contains(addr):
			return SkipReserved
		}
	}
	for _, r := range specialRanges {
		if r.prefix.Contains(addr) {
			return r.reason
		}
	}
	return ""
}

// reservedTLDs are the special-use names of RFC 2606 and RFC 6761 plus
// mDNS's .local: no public registry answers for them.
var reservedTLDs = map[string]bool{
	"test": true, "example": true, "invalid": true, "localhost": true, "local": true,
}

// hostSkipReason returns why a host name is not looked up, or "".
func hostSkipReason(host string) string {
	if host == "localhost" || reservedTLDs[lastLabel(host)] {
		return SkipReservedName
	}
	return ""
}

// isSlackHost reports whether host serves Slack's own files or workspaces,
// which must not be sent to a third party.
func isSlackHost(host string) bool {
	for _, domain := range []string{"slack.com", "slack-edge.com", "slack-files.com", "slack-redir.net"} {
		if host == domain || hasLabelSuffix(host, domain) {
			return true
		}
	}
	return false
}

// hasLabelSuffix reports whether host ends in "."+domain.
func hasLabelSuffix(host, domain string) bool {
	return len(host) > len(domain) && host[len(host)-len(domain)-1] == '.' && host[len(host)-len(domain):] == domain
}
