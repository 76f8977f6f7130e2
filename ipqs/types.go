package ipqs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Kind names an IPQualityScore lookup API.
type Kind string

// The lookup APIs. A bare domain is scanned with KindURL.
const (
	KindIP    Kind = "ip"
	KindURL   Kind = "url"
	KindEmail Kind = "email"
)

// Request is one lookup.
type Request struct {
	Kind Kind
	// Value is the IP address, URL or email address sent to IPQS, in the form
	// IPQS should receive it (punycode hosts).
	Value string
	// Params are validated optional API parameters; nil means the defaults.
	Params Params
}

// Result is a successful lookup.
type Result struct {
	Kind  Kind
	Value string
	// Exactly one of IP, URL and Email is set, matching Kind.
	IP    *IPResult
	URL   *URLResult
	Email *EmailResult
	// Raw is the response body as received.
	Raw json.RawMessage
	// FetchedAt is when IPQS answered.
	FetchedAt time.Time
	// Cached reports whether the result came from a cache rather than IPQS.
	Cached bool
}

// RequestID returns the IPQS request_id of the result, or "".
func (r *Result) RequestID() string {
	switch {
	case r == nil:
		return ""
	case r.IP != nil:
		return r.IP.RequestID
	case r.URL != nil:
		return r.URL.RequestID
	case r.Email != nil:
		return r.Email.RequestID
	}
	return ""
}

// Bool decodes a JSON boolean that IPQS may also send as a string ("True",
// "false", "1") or null. Null and unknown strings decode as false.
type Bool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bool) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	s := strings.Trim(string(data), `"`)
	switch strings.ToLower(s) {
	case "true", "1", "yes":
		*b = true
	default:
		*b = false
	}
	return nil
}

// Int decodes a JSON number that IPQS may also send as a string, null or
// "N/A". Valid reports whether a number was present.
type Int struct {
	Value int64
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		*n = Int{}
		return nil
	}
	*n = Int{Value: int64(f), Valid: true}
	return nil
}

// MarshalJSON implements json.Marshaler; an absent number encodes as null.
func (n Int) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, n.Value, 10), nil
}

// Float decodes a JSON number that IPQS may also send as a string, null or
// "N/A". Valid reports whether a number was present.
type Float struct {
	Value float64
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Float) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(data)), `"`)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		*n = Float{}
		return nil
	}
	*n = Float{Value: f, Valid: true}
	return nil
}

// MarshalJSON implements json.Marshaler; an absent number encodes as null.
func (n Float) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, n.Value, 'g', -1, 64), nil
}

// Text decodes a JSON string that may arrive as a number, boolean or null.
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*t = Text(s)
		return nil
	}
	if string(bytes.TrimSpace(data)) == "null" {
		*t = ""
		return nil
	}
	*t = Text(bytes.TrimSpace(data))
	return nil
}

// Timestamp is IPQS's {human, timestamp, iso} date object.
type Timestamp struct {
	Human     Text `json:"human"`
	Timestamp Int  `json:"timestamp"`
	ISO       Text `json:"iso"`
}

// IPResult is the IP reputation API's answer. Fields absent from a response
// keep their zero values.
type IPResult struct {
	Success           Bool   `json:"success"`
	Message           Text   `json:"message"`
	RequestID         string `json:"request_id"`
	FraudScore        Int    `json:"fraud_score"`
	CountryCode       Text   `json:"country_code"`
	Region            Text   `json:"region"`
	City              Text   `json:"city"`
	ISP               Text   `json:"ISP"`
	ASN               Int    `json:"ASN"`
	Organization      Text   `json:"organization"`
	Host              Text   `json:"host"`
	ConnectionType    Text   `json:"connection_type"`
	AbuseVelocity     Text   `json:"abuse_velocity"`
	Timezone          Text   `json:"timezone"`
	Latitude          Float  `json:"latitude"`
	Longitude         Float  `json:"longitude"`
	IsCrawler         Bool   `json:"is_crawler"`
	Mobile            Bool   `json:"mobile"`
	Proxy             Bool   `json:"proxy"`
	VPN               Bool   `json:"vpn"`
	Tor               Bool   `json:"tor"`
	ActiveVPN         Bool   `json:"active_vpn"`
	ActiveTor         Bool   `json:"active_tor"`
	RecentAbuse       Bool   `json:"recent_abuse"`
	BotStatus         Bool   `json:"bot_status"`
	SharedConnection  Bool   `json:"shared_connection"`
	DynamicConnection Bool   `json:"dynamic_connection"`
	FrequentAbuser    Bool   `json:"frequent_abuser"`
	HighRiskAttacks   Bool   `json:"high_risk_attacks"`
	SecurityScanner   Bool   `json:"security_scanner"`
	TrustedNetwork    Bool   `json:"trusted_network"`
	AbuseEvents       []Text `json:"abuse_events"`
}

// URLResult is the malicious URL scanner's answer. Page fields such as
// PageTitle and Server come from the scanned site and are untrusted.
type URLResult struct {
	Success      Bool      `json:"success"`
	Message      Text      `json:"message"`
	RequestID    string    `json:"request_id"`
	RiskScore    Int       `json:"risk_score"`
	Unsafe       Bool      `json:"unsafe"`
	Domain       Text      `json:"domain"`
	RootDomain   Text      `json:"root_domain"`
	IPAddress    Text      `json:"ip_address"`
	Server       Text      `json:"server"`
	ContentType  Text      `json:"content_type"`
	StatusCode   Int       `json:"status_code"`
	PageSize     Int       `json:"page_size"`
	DomainRank   Int       `json:"domain_rank"`
	DNSValid     Bool      `json:"dns_valid"`
	Parking      Bool      `json:"parking"`
	Spamming     Bool      `json:"spamming"`
	Malware      Bool      `json:"malware"`
	Phishing     Bool      `json:"phishing"`
	Suspicious   Bool      `json:"suspicious"`
	Adult        Bool      `json:"adult"`
	Redirected   Bool      `json:"redirected"`
	RiskyTLD     Bool      `json:"risky_tld"`
	CountryCode  Text      `json:"country_code"`
	Category     Text      `json:"category"`
	DomainAge    Timestamp `json:"domain_age"`
	DomainTrust  Text      `json:"domain_trust"`
	PageTitle    Text      `json:"page_title"`
	FinalURL     Text      `json:"final_url"`
	ScannedURL   Text      `json:"scanned_url"`
	LanguageCode Text      `json:"language_code"`
}

// EmailResult is the email validation API's answer. Personal data that IPQS
// may return (names, phone numbers, identity data) is deliberately not
// decoded, so it cannot reach a reply; Result.Raw still holds it.
type EmailResult struct {
	Success            Bool      `json:"success"`
	Message            Text      `json:"message"`
	RequestID          string    `json:"request_id"`
	Valid              Bool      `json:"valid"`
	Disposable         Bool      `json:"disposable"`
	SMTPScore          Int       `json:"smtp_score"`
	OverallScore       Int       `json:"overall_score"`
	FraudScore         Int       `json:"fraud_score"`
	Deliverability     Text      `json:"deliverability"`
	Generic            Bool      `json:"generic"`
	Common             Bool      `json:"common"`
	DNSValid           Bool      `json:"dns_valid"`
	Honeypot           Bool      `json:"honeypot"`
	FrequentComplainer Bool      `json:"frequent_complainer"`
	SpamTrapScore      Text      `json:"spam_trap_score"`
	CatchAll           Bool      `json:"catch_all"`
	TimedOut           Bool      `json:"timed_out"`
	Suspect            Bool      `json:"suspect"`
	RecentAbuse        Bool      `json:"recent_abuse"`
	Leaked             Bool      `json:"leaked"`
	SuggestedDomain    Text      `json:"suggested_domain"`
	DomainAge          Timestamp `json:"domain_age"`
	FirstSeen          Timestamp `json:"first_seen"`
	DomainTrust        Text      `json:"domain_trust"`
	DomainVelocity     Text      `json:"domain_velocity"`
	RiskyTLD           Bool      `json:"risky_tld"`
	SPFRecord          Bool      `json:"spf_record"`
	DMARCRecord        Bool      `json:"dmarc_record"`
}

// Account is the account endpoint's answer: credits left and usage counters.
type Account struct {
	Success     Bool   `json:"success"`
	Message     Text   `json:"message"`
	RequestID   string `json:"request_id"`
	Credits     Int    `json:"credits"`
	Usage       Int    `json:"usage"`
	ProxyUsage  Int    `json:"proxy_usage"`
	EmailUsage  Int    `json:"email_usage"`
	URLUsage    Int    `json:"url_usage"`
	PhoneUsage  Int    `json:"phone_usage"`
	CountryCode Text   `json:"country_code"`
}
