// Package indicator extracts indicators of compromise (URLs, bare domains, IP
// addresses and email addresses) from chat text, including defanged forms and
// Slack's message markup. It does no I/O.
//
// A URL is reported once, as a URL; its host is not also reported as a
// domain unless the name also appears on its own elsewhere in the message.
// Defanged and plain forms of one indicator are one indicator.
//
// # Bare domains
//
// Bare names are the main source of false positives in chat. So a name
// written without a scheme is taken only when it is very likely a host
// name, whether it stands alone or has a port, path or query
// (evil.com:8080, evil.com/login):
//
//   - A defanged name (evil[.]com, evil(dot)com, evil[.com) is always taken.
//     Its top-level label only needs two or more letters, or punycode.
//   - A plain name needs a top-level label in xurls' TLD list
//     (mvdan.cc/xurls/v2 TLDs and PseudoTLDs), and must not read as a file
//     name, code or prose by any of the checks below.
//
// The checks on plain names:
//
//   - The TLD is not one that chat mostly uses as a file extension or local
//     name: .zip .mov .py .sh .pl .rs .md .java .cc .so .ps .tf .cab, the
//     field .name, and the pseudo-TLDs .exit .local .localhost .bit. So
//     report.pdf (no such TLD), setup.py and invoice.zip are not domains.
//     Common real TLDs that double as extensions or member names (.info,
//     .io, .ai, .app, .in, .id, .email) are not on this list: such names
//     are judged by their shape.
//   - It is not a call: no '(' follows (logger.info("x"), df.head()).
//   - A two-label name does not start with a common identifier (logger,
//     console, self, os, sys and the like: logger.info, os.exit), with a
//     build file stem (Makefile.in, configure.ac, Dockerfile.dev), or with
//     a variable such as user, item or event before a TLD that is also a
//     member name (user.email, item.id, event.date). Safari.app, a
//     capitalised word before .app, is a macOS application.
//   - The label before the TLD holds no '_', which a registrable name
//     cannot have (my_logger.info).
//   - It is not a reverse-DNS or dotted code path: three or more labels
//     starting with com, org, net, io, edu or gov (com.example.Foo), no
//     camelCase label after the first (NetworkClient.java's
//     org.apache.kafka.clients.NetworkClient), and no "prototype" label.
//   - The top-level label is not mixed case, unless a path follows:
//     notes.Team is a sentence that lost its space, Example.Org/Login is a
//     URL.
//   - The name does not follow '/', '\', '@' or '$' (a path, a
//     package@version or a variable).
//
// Upper case does not reject a name whose top-level label is in one case:
// BAR.com and example.com are domains.
// Host names in URLs with a scheme and in email addresses skip these
// checks, because their context makes them names. A name that Slack linked
// as the user typed it (<http://setup.py|setup.py>) is checked like plain
// text.
//
// # Other rules
//
// Trailing '.', ',', ';', ':', '!', '?', quotes and closing brackets
// without an opening one end an indicator, while balanced parentheses in a
// URL are kept. Markdown emphasis (*bold*, _italic_, ~strike~) is removed.
//
// IPv4 addresses are dotted quads; leading zeros are decimal (074 is 74),
// and hex, integer and five-part forms (1.2.3.4.5, 10.0.19045.1234) are not
// addresses. CIDR ranges are not indicators. IPv6 addresses are reported
// in RFC 5952 form without zone or port.
//
// A Value has a lower-case scheme and host, the port as written and no
// trailing dot on the host; a scheme-less URL gets "http://". Host names
// are in Unicode (lower-case, NFC) even when written in punycode, while
// [Indicator.LookupValue] sends punycode and Display shows punycode for a
// name that mixes scripts. An email keeps the case of its local part.
//
// Links to Slack's own hosts (slack.com and its subdomains, slack-edge.com,
// slack-files.com, slack-redir.net) are never reported by [Extract].
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
	// IPs without port or zone, IPv6 in RFC 5952 form, IDN hosts in Unicode
	// even when written in punycode.
	Value string `json:"value"`
	// Display is a defanged form that chat clients do not turn into a link.
	Display string `json:"display"`
	// Skipped is the reason the indicator is not sent to IPQualityScore, such
	// as a private address. It is empty when the indicator would be looked up.
	Skipped string `json:"skipped,omitempty"`
}
