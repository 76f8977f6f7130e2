// Package indicator extracts indicators of compromise (URLs, bare domains, IP
// addresses and email addresses) from chat text, including defanged forms and
// Slack's message markup. It does no I/O.
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
