package formatter

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
	"github.com/slack-go/slack"
)

// maxFieldValue bounds a field value in runes. Slack allows 2,000 characters
// a field, but long page titles and URLs make cards tall on phones and eat
// into the size of the whole message.
const maxFieldValue = 120

// maxCardDisplay bounds the indicator shown in a card, in runes.
const maxCardDisplay = 300

// card returns the blocks of a full card for it: a header with the verdict,
// a section with the indicator in a code span, the score, flags and key
// facts, and a context line with the request id and the result's age. The
// indicator stays out of the header, which takes plain text only, so that
// it is always defanged and in a code span.
func card(it Item, now time.Time) []slack.Block {
	ind := it.Indicator
	shown := Code(truncate(ind.SafeDisplay(), maxCardDisplay))

	if it.Result == nil {
		text := shown + "\n" + Escape(ErrorText(it.Err))
		blocks := []slack.Block{
			header("⚠️ " + kindName(ind.Kind) + " lookup failed"),
			slack.NewSectionBlock(mrkdwn(text), nil, nil),
		}
		if id := errorRequestID(it.Err); id != "" {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn("request "+Code(id))))
		}
		return blocks
	}

	r := it.Result
	var fields []*slack.TextBlockObject
	for _, f := range facts(r) {
		fields = append(fields, mrkdwn("*"+f.label+"*\n"+f.value))
	}
	return []slack.Block{
		header(Label(Verdict(r)) + " · " + kindName(ind.Kind)),
		slack.NewSectionBlock(mrkdwn(shown+"\n"+summary(r)), fields, nil),
		slack.NewContextBlock("", mrkdwn(contextLine(it, now))),
	}
}

// header returns a header block with text. Emoji codes stay literal, so a
// ":name:" in the text does not turn into a picture.
func header(text string) *slack.HeaderBlock {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(plain(text), maxHeader), false, false))
}

// mrkdwn returns a mrkdwn text object for text that is already escaped.
// Verbatim stops Slack from turning bare URLs, channel names and mentions
// into links.
func mrkdwn(text string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, text, false, true)
}

// summary returns the section text of a card after the indicator: the
// score, the flags that are set and any caveat about the result.
func summary(r *ipqs.Result) string {
	var b strings.Builder
	if name, value := score(r); value.Valid {
		fmt.Fprintf(&b, "*%s %d/100*\n", name, value.Value)
	}

	if set := flags(r); len(set) > 0 {
		b.WriteString(strings.Join(set, " · "))
	} else if name, _ := score(r); name != "" {
		b.WriteString("No risk flags set")
	} else {
		b.WriteString("IPQualityScore returned no details for this lookup")
	}

	if r.Email != nil && r.Email.TimedOut {
		b.WriteString("\n_The mail server did not answer in time, so validity is unreliable._")
	}
	return b.String()
}

// fact is one labelled value of a card, with value ready for mrkdwn.
type fact struct {
	label string
	value string
}

// facts returns the key facts of r, leaving out empty and "N/A" values.
// Values that may contain a host, domain or URL are always code spans, so
// Slack does not link them. Other values become code spans only when they
// look like one. No personal data is shown: IPQS's names, phone numbers and
// addresses are not even decoded.
func facts(r *ipqs.Result) []fact {
	var list []fact
	text := func(label string, value ipqs.Text) {
		if v := present(value); v != "" {
			list = append(list, fact{label, inline(truncate(v, maxFieldValue))})
		}
	}
	code := func(label string, value ipqs.Text) {
		if v := present(value); v != "" {
			list = append(list, fact{label, Code(truncate(v, maxFieldValue))})
		}
	}
	// Host names and URLs of the scanned site are indicators too, so they
	// are defanged as well as kept in code spans.
	defanged := func(label string, value ipqs.Text) {
		if v := present(value); v != "" {
			list = append(list, fact{label, Code(truncate(indicator.Defang(v), maxFieldValue))})
		}
	}

	switch {
	case r.IP != nil:
		ip := r.IP
		text("Country", ip.CountryCode)
		code("ISP", ip.ISP)
		if ip.ASN.Valid {
			list = append(list, fact{"ASN", "AS" + strconv.FormatInt(ip.ASN.Value, 10)})
		}
		text("Connection", ip.ConnectionType)
		defanged("Host", ip.Host)
	case r.URL != nil:
		u := r.URL
		defanged("Domain", u.Domain)
		code("Server", u.Server)
		text("Category", u.Category)
		defanged("IP address", u.IPAddress)
		if u.StatusCode.Valid && u.StatusCode.Value != 0 {
			list = append(list, fact{"Page status", strconv.FormatInt(u.StatusCode.Value, 10)})
		}
		text("Domain age", u.DomainAge.Human)
		code("Page title", u.PageTitle)
		if u.Redirected {
			defanged("Final URL", u.FinalURL)
		}
	case r.Email != nil:
		e := r.Email
		text("Deliverability", e.Deliverability)
		if e.SMTPScore.Valid {
			list = append(list, fact{"SMTP score", strconv.FormatInt(e.SMTPScore.Value, 10)})
		}
		text("Domain trust", e.DomainTrust)
		defanged("Suggested domain", e.SuggestedDomain)
	}
	return list[:min(len(list), maxFields)]
}

// present returns v on one line, or "" when IPQS sent nothing or "N/A".
func present(v ipqs.Text) string {
	s := oneLine(string(v))
	if strings.EqualFold(s, "N/A") {
		return ""
	}
	return s
}

// contextLine returns the context of a card: the lookup, IPQS's request id
// and the result's age.
func contextLine(it Item, now time.Time) string {
	parts := []string{kindName(it.Indicator.Kind) + " lookup"}
	if id := it.Result.RequestID(); id != "" {
		parts = append(parts, "request "+Code(id))
	}
	parts = append(parts, age(it.Result, now))
	if it.Sent != "" {
		note := "sent " + Code(indicator.Defang(it.Sent))
		if len(it.Removed) > 0 {
			note += " without its " + wordList(it.Removed)
		}
		parts = append(parts, note)
	}
	if mixedScript(it.Indicator) {
		parts = append(parts, "shown in punycode: the name mixes scripts")
	}
	return strings.Join(parts, " · ")
}

// mixedScript reports whether the indicator's name is shown in punycode
// because it mixes scripts, which the indicator package does only then.
func mixedScript(ind indicator.Indicator) bool {
	return strings.Contains(ind.Display, "xn--") && !strings.Contains(strings.ToLower(ind.Value), "xn--")
}

// age returns "live lookup" for a result straight from IPQS, or how long
// ago a cached result was fetched, such as "cached 12 min ago".
func age(r *ipqs.Result, now time.Time) string {
	if !r.Cached {
		return "live lookup"
	}
	if r.FetchedAt.IsZero() {
		return "cached"
	}

	d := now.Sub(r.FetchedAt)
	switch {
	case d < time.Minute:
		return "cached just now"
	case d < time.Hour:
		return fmt.Sprintf("cached %d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("cached %d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("cached %d days ago", int(d/(24*time.Hour)))
}

// kindName returns the name of an indicator kind as shown to users.
func kindName(k indicator.Kind) string {
	switch k {
	case indicator.KindIP:
		return "IP"
	case indicator.KindURL:
		return "URL"
	case indicator.KindDomain:
		return "Domain"
	case indicator.KindEmail:
		return "Email"
	}
	return "Indicator"
}

// wordList joins words as in a sentence: "a", "a and b", "a, b and c".
func wordList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
