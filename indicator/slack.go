package indicator

import (
	"bytes"
	"strings"
)

// linkMarker replaces, in the flattened text, a Slack link whose
// indicators were decided from the link itself. Input control bytes are
// blanked first, so the marker cannot come from the message.
const linkMarker = 0

// flattened is a message with Slack's markup resolved: text to scan, and
// for each linkMarker in it, in order, the indicators of that link.
type flattened struct {
	text  []byte
	links [][]Indicator
}

var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// flattenSlack resolves Slack's mrkdwn tokens in text. Mentions, channel
// links, special mentions and dates become blanks. A link <url|label> is
// replaced by what the user typed when Slack made the link from typed text
// (the label is the URL, maybe without its scheme); otherwise the URL is
// taken as written and the label is kept as text to scan. Entities are
// unescaped after the tokens are split.
func flattenSlack(text string) flattened {
	var f flattened
	f.text = make([]byte, 0, len(text))
	for len(text) > 0 {
		open := strings.IndexByte(text, '<')
		if open < 0 {
			f.appendText(text)
			break
		}
		f.appendText(text[:open])
		text = text[open:]

		end := strings.IndexAny(text[1:], "<>") + 1
		if end == 0 {
			f.appendText(text)
			break
		}
		if text[end] == '<' || !isSlackToken(text[1:end]) {
			f.appendText(text[:1])
			text = text[1:]
			continue
		}
		f.appendToken(text[1:end])
		text = text[end+1:]
	}
	return f
}

// appendText copies plain message text, unescaped, with control bytes
// turned into blanks.
func (f *flattened) appendText(s string) {
	if strings.IndexByte(s, '&') >= 0 {
		s = unescaper.Replace(s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' && c != '\n' && c != '\t' {
			c = ' '
		}
		f.text = append(f.text, c)
	}
}

// isSlackToken reports whether the text between '<' and '>' is Slack
// markup rather than a literal '<' from pasted text such as HTML: a mention,
// or a URL without blanks before an optional "|label".
func isSlackToken(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '@' || s[0] == '#' || s[0] == '!' {
		return !strings.ContainsAny(s, " \n\t") || strings.IndexByte(s, '|') >= 0
	}
	target, _, _ := strings.Cut(s, "|")
	if strings.ContainsAny(target, " \n\t<") {
		return false
	}
	colon := strings.IndexByte(target, ':')
	return colon > 0 && validScheme(strings.ToLower(target[:colon]))
}

func (f *flattened) appendToken(s string) {
	if s[0] == '@' || s[0] == '#' || s[0] == '!' {
		f.text = append(f.text, ' ')
		return
	}
	target, label, hasLabel := strings.Cut(s, "|")
	target = unescaper.Replace(target)
	label = unescaper.Replace(label)

	if strings.HasPrefix(strings.ToLower(target), "mailto:") {
		f.appendMailto(target[len("mailto:"):], label, hasLabel)
		return
	}

	u, err := splitURL(target, true)
	if err == nil && u.skipped == SkipSlackHosted {
		f.text = append(f.text, ' ')
		return
	}
	typed := typedForm(target, label, hasLabel)
	switch {
	case typed != "" && f.endsWithSchemeSeparator():
		// The user typed a defanged scheme and Slack linked the rest, as in
		// "hxxps://<http://x.com/a|x.com/a>": the typed text is the URL.
		f.appendText(typed)
	case typed != "" && !strings.ContainsAny(typed, "/?#:"):
		// Slack linked a bare host name the user typed.
		f.appendText(" " + typed + " ")
	default:
		var found []Indicator
		if err == nil {
			found = append(found, u.indicator())
		}
		f.appendLink(found)
		if hasLabel && typed == "" {
			f.appendText(" " + label + " ")
		}
	}
}

// typedForm returns the label when it is the link's URL as the user typed
// it, with or without the scheme and ignoring case, and "" otherwise.
func typedForm(target, label string, hasLabel bool) string {
	if !hasLabel {
		return ""
	}
	if strings.EqualFold(label, target) {
		return label
	}
	sep := strings.Index(target, "://")
	if sep < 0 {
		return ""
	}
	rest := target[sep+3:]
	if strings.EqualFold(label, rest) {
		return label
	}
	// Slack may add a slash to a typed host: <http://x.com/|x.com>.
	if strings.IndexByte(label, '/') < 0 && strings.EqualFold(label+"/", rest) {
		return label
	}
	return ""
}

func (f *flattened) appendMailto(address, label string, hasLabel bool) {
	address, _, _ = strings.Cut(address, "?")
	var found []Indicator
	if in, err := parseEmail(address); err == nil {
		found = append(found, in)
	}
	f.appendLink(found)
	if hasLabel && label != address {
		f.appendText(" " + label + " ")
	}
}

func (f *flattened) appendLink(found []Indicator) {
	f.text = append(f.text, ' ', linkMarker, ' ')
	f.links = append(f.links, found)
}

// endsWithSchemeSeparator reports whether the text so far ends in a
// scheme separator such as "://", "[://]" or "__".
func (f *flattened) endsWithSchemeSeparator() bool {
	for _, suffix := range []string{"//", "//]", "__"} {
		if bytes.HasSuffix(f.text, []byte(suffix)) {
			return true
		}
	}
	return false
}
