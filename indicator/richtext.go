package indicator

import "strings"

// Link is a link element of a message's rich_text blocks: its target and
// the text shown for it, which may be empty.
type Link struct {
	URL  string
	Text string
}

// linkMarkup escapes the characters that would end Slack's <url|label>
// markup early.
var (
	linkURLMarkup   = strings.NewReplacer(">", "%3E", "|", "%7C", "<", "%3C", "\n", "")
	linkLabelMarkup = strings.NewReplacer(">", " ", "|", " ", "<", " ", "\n", " ")
)

// ExtractMessage returns the indicators of a message event: those of its
// text, as Extract finds them, followed by those of the link elements of its
// rich_text blocks that the text lacks. Each link is read as the
// <url|label> markup Slack puts in the text, so a label that names another
// domain is reported too.
func ExtractMessage(text string, links []Link) []Indicator {
	if len(links) == 0 {
		return Extract(text)
	}

	var b strings.Builder
	b.WriteString(text)
	for _, l := range links {
		if l.URL == "" {
			continue
		}
		b.WriteString("\n<")
		b.WriteString(linkURLMarkup.Replace(l.URL))
		if label := strings.TrimSpace(linkLabelMarkup.Replace(l.Text)); label != "" {
			b.WriteString("|")
			b.WriteString(label)
		}
		b.WriteString(">")
	}
	return Extract(b.String())
}
