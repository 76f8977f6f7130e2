package formatter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// mrkdwnEscaper escapes the three characters that Slack's message markup
// reserves. Slack decodes the entities again when it renders the text.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape returns s with "&", "<" and ">" replaced by their HTML entities, so
// that Slack shows them as text instead of parsing links, mentions or
// special commands such as <!channel>. Escaping does not stop Slack from
// turning a bare URL or domain into a link: pass such text to Code.
func Escape(s string) string {
	return mrkdwnEscaper.Replace(s)
}

// backtickLookalike replaces a backtick inside a code span, where a backtick
// would end the span early.
const backtickLookalike = "ˋ"

// Code returns s as a one-line mrkdwn code span that Slack shows literally:
// no links, mentions, emoji codes or formatting. Backticks in s become "ˋ",
// line breaks and other control characters become spaces, and "&", "<" and
// ">" are escaped. Code returns "" when s holds nothing but spaces.
func Code(s string) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "`", backtickLookalike)
	return "`" + Escape(s) + "`"
}

// oneLine replaces control characters, including line breaks, with spaces,
// collapses runs of spaces and trims the result.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// plain returns s for a plain_text object: one line, with "<" and ">"
// replaced by look-alike angle quotes. Slack does not parse markup in
// plain_text, but the look-alikes keep the message free of anything that
// reads as markup to other tools and to tests.
func plain(s string) string {
	s = oneLine(s)
	return strings.NewReplacer("<", "‹", ">", "›").Replace(s)
}

// truncate shortens s to at most limit runes, ending a shortened string with
// "…".
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	runes := []rune(s)
	return string(runes[:limit-1]) + "…"
}

// quoted escapes s for mrkdwn and turns each double-quoted part into a code
// span, so that values quoted in error messages, which may be URLs or
// domains, do not become links. An unmatched quote is kept as text.
func quoted(s string) string {
	parts := strings.Split(s, `"`)
	var b strings.Builder
	for i, part := range parts {
		switch {
		case i%2 == 0:
			b.WriteString(Escape(part))
		case i == len(parts)-1:
			// The quote opening this part has no closing quote.
			b.WriteString(Escape(`"` + part))
		default:
			code := Code(part)
			if code == "" {
				code = Escape(`"` + part + `"`)
			}
			b.WriteString(code)
		}
	}
	return b.String()
}

// inline returns s on one line for mrkdwn outside a code span. Text that
// could be read as a URL, domain or email address, because it holds ".",
// ":", "/" or "@", becomes a code span so that Slack cannot link it; other
// text is escaped, with backticks replaced so that they cannot open a span.
func inline(s string) string {
	s = oneLine(s)
	if strings.ContainsAny(s, ".:/@") {
		return Code(s)
	}
	return Escape(strings.ReplaceAll(s, "`", backtickLookalike))
}
