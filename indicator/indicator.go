// Package indicator extracts indicators of compromise (URLs, bare domains, IP
// addresses and email addresses) from chat text, including defanged forms and
// Slack's message markup. It does no I/O.
//
// A URL is reported once, as a URL; its host is not also reported as a
// domain unless the name also appears on its own elsewhere in the message.
//
// Bare names are the main source of false positives in chat, so a name
// without a scheme, path or port is a domain only when:
//
//   - it was defanged (evil[.]com, evil(dot)com): then any top-level label
//     of two or more letters will do; or
//   - its top-level label is in xurls' TLD list (mvdan.cc/xurls/v2 TLDs and
//     PseudoTLDs) and the name does not read as code or prose: the TLD is
//     not one that chat mostly uses as a file extension (.zip, .py, .sh,
//     .md, .java, ...); it is not a call (name followed by '('); two-label
//     names do not start with a common identifier (logger.info, os.exit);
//     no label after the first is camelCase; the top-level label is not
//     mixed case (notes.Team is a sentence that lost its space); and the
//     name does not follow '/', '\', '@' or '$' (a path, a package@version
//     or a variable).
//
// Host names in URLs with a scheme and in email addresses skip the code and
// prose checks, because their context makes them names. A name that Slack
// linked as the user typed it (<http://x.com|x.com>) is checked like plain
// text.
package indicator

// Kind is the type of an indicator. Its string values are part of the
// output of "ipqsbot extract".
type Kind string

// The kinds of indicator.
const (
	KindURL    Kind = "url"
	KindDomain Kind = "domain"
	KindIP     Kind = "ip"
	KindEmail  Kind = "email"
)

// Indicator is one indicator found in a message.
type Indicator struct {
	// Kind is the indicator's type.
	Kind Kind `json:"kind"`
	// Value is the refanged, normalised form: lower-case scheme and host,
	// IPs without port or zone, IPv6 in RFC 5952 form, IDN hosts in Unicode.
	Value string `json:"value"`
	// Display is a defanged form that chat clients do not turn into a link.
	Display string `json:"display"`
	// Skipped is the reason the indicator is not sent to IPQualityScore, such
	// as a private address; it is empty when the indicator would be looked up.
	Skipped string `json:"skipped,omitempty"`
}
