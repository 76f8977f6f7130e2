package formatter

import (
	"strings"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// The verdicts that Verdict returns. They are stable, lower-case words fit
// for audit logs.
const (
	VerdictMalicious  = "malicious"  // URL: risk score 100 with phishing or malware
	VerdictAbusive    = "abusive"    // IP: fraud score 90 or more
	VerdictRisky      = "risky"      // email: fraud score 90 or more
	VerdictHighRisk   = "high-risk"  // IP: 85 or more; URL: 90 or more
	VerdictSuspicious = "suspicious" // IP and URL: 75 or more; email: 80 or more; URL marked unsafe
	VerdictInvalid    = "invalid"    // email: not a valid address
	VerdictUnverified = "unverified" // email: IPQS timed out, so validity is unknown
	VerdictClean      = "clean"      // below every risk band
	VerdictUnknown    = "unknown"    // no result or no score
)

// Score bands from IPQualityScore's documentation.
const (
	ipAbusive       = 90
	ipHighRisk      = 85
	ipSuspicious    = 75
	urlMalicious    = 100
	urlHighRisk     = 90
	urlSuspicious   = 75
	emailRisky      = 90
	emailSuspicious = 80
)

// Verdict returns the one-word assessment of r, one of the Verdict
// constants. It returns VerdictUnknown for a nil result, a result without
// details for its kind, or a result without a score.
func Verdict(r *ipqs.Result) string {
	switch {
	case r == nil:
		return VerdictUnknown
	case r.IP != nil:
		return ipVerdict(r.IP)
	case r.URL != nil:
		return urlVerdict(r.URL)
	case r.Email != nil:
		return emailVerdict(r.Email)
	}
	return VerdictUnknown
}

func ipVerdict(ip *ipqs.IPResult) string {
	if !ip.FraudScore.Valid {
		return VerdictUnknown
	}
	switch score := ip.FraudScore.Value; {
	case score >= ipAbusive:
		return VerdictAbusive
	case score >= ipHighRisk:
		return VerdictHighRisk
	case score >= ipSuspicious:
		return VerdictSuspicious
	}
	return VerdictClean
}

func urlVerdict(u *ipqs.URLResult) string {
	if !u.RiskScore.Valid {
		if u.Unsafe {
			return VerdictSuspicious
		}
		return VerdictUnknown
	}
	switch score := u.RiskScore.Value; {
	case score >= urlMalicious && bool(u.Phishing || u.Malware):
		return VerdictMalicious
	case score >= urlHighRisk:
		return VerdictHighRisk
	case score >= urlSuspicious:
		return VerdictSuspicious
	case bool(u.Unsafe):
		// IPQS marks a site unsafe for phishing, malware, spamming or abuse
		// even when the score stays below the suspicious band.
		return VerdictSuspicious
	}
	return VerdictClean
}

// emailVerdict ranks the fraud score above validity: an invalid address with
// a high fraud score is still reported as risky.
func emailVerdict(e *ipqs.EmailResult) string {
	if e.FraudScore.Valid {
		switch score := e.FraudScore.Value; {
		case score >= emailRisky:
			return VerdictRisky
		case score >= emailSuspicious:
			return VerdictSuspicious
		}
	}

	valid, timedOut := bool(e.Valid), bool(e.TimedOut)
	switch {
	case timedOut && !valid:
		return VerdictUnverified
	case !valid:
		return VerdictInvalid
	case !e.FraudScore.Valid:
		return VerdictUnknown
	}
	return VerdictClean
}

// Emoji returns the colored circle shown next to verdict.
func Emoji(verdict string) string {
	switch verdict {
	case VerdictMalicious, VerdictAbusive, VerdictRisky, VerdictHighRisk:
		return "🔴"
	case VerdictSuspicious:
		return "🟠"
	case VerdictInvalid, VerdictUnverified:
		return "🟡"
	case VerdictClean:
		return "🟢"
	}
	return "⚪"
}

// Label returns verdict as shown on a card: its emoji and the verdict with
// a capital letter and spaces, such as "🔴 High risk".
func Label(verdict string) string {
	words := strings.ReplaceAll(verdict, "-", " ")
	if words == "" {
		words = VerdictUnknown
	}
	return Emoji(verdict) + " " + strings.ToUpper(words[:1]) + words[1:]
}

// score returns the name and value of the score that decides r's verdict.
func score(r *ipqs.Result) (name string, value ipqs.Int) {
	switch {
	case r == nil:
		return "", ipqs.Int{}
	case r.IP != nil:
		return "fraud score", r.IP.FraudScore
	case r.URL != nil:
		return "risk score", r.URL.RiskScore
	case r.Email != nil:
		return "fraud score", r.Email.FraudScore
	}
	return "", ipqs.Int{}
}

// flags returns the risk flags set in r as short lower-case words, most
// serious first. Proxy is listed only when neither VPN nor Tor is, because
// IPQS sets proxy whenever either of them is set.
func flags(r *ipqs.Result) []string {
	var set []string
	add := func(on ipqs.Bool, word string) {
		if on {
			set = append(set, word)
		}
	}

	switch {
	case r == nil:
	case r.IP != nil:
		ip := r.IP
		add(ip.VPN, "VPN")
		add(ip.Tor, "Tor")
		add(ip.Proxy && !ip.VPN && !ip.Tor, "proxy")
		add(ip.BotStatus, "bot")
		add(ip.RecentAbuse, "recent abuse")
		add(ip.FrequentAbuser, "frequent abuser")
		add(ip.HighRiskAttacks, "high-risk attacks")
		add(ip.IsCrawler, "crawler")
		add(ip.Mobile, "mobile")
	case r.URL != nil:
		u := r.URL
		add(u.Phishing, "phishing")
		add(u.Malware, "malware")
		add(u.Suspicious, "suspicious")
		add(u.Spamming, "spamming")
		add(u.Parking, "parking")
		add(u.Adult, "adult")
		add(u.Redirected, "redirected")
		add(u.RiskyTLD, "risky TLD")
		// NOTE: a response without dns_valid decodes as false, so it is
		// shown as "DNS invalid" too.
		add(!u.DNSValid, "DNS invalid")
	case r.Email != nil:
		e := r.Email
		add(!e.Valid && !e.TimedOut, "invalid")
		add(e.Disposable, "disposable")
		add(e.Honeypot, "honeypot")
		add(e.Leaked, "leaked")
		add(e.RecentAbuse, "recent abuse")
		add(e.FrequentComplainer, "frequent complainer")
		add(e.CatchAll, "catch-all")
		add(e.Suspect, "suspect")
	}
	return set
}
