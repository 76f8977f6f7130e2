package indicator

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// refanged is text after refanging. marked[i] is true when text[i] was
// written by a defang pattern, so that a candidate can tell whether its
// author defanged it.
type refanged struct {
	text   []byte
	marked []bool
}

func (r *refanged) writeByte(c byte, mark bool) {
	r.text = append(r.text, c)
	r.marked = append(r.marked, mark)
}

func (r *refanged) writeString(s string, mark bool) {
	for i := 0; i < len(s); i++ {
		r.writeByte(s[i], mark)
	}
}

func (r *refanged) last() byte {
	if len(r.text) == 0 {
		return ' '
	}
	return r.text[len(r.text)-1]
}

func (r *refanged) lastNonBlank() byte {
	for i := len(r.text) - 1; i >= 0 && len(r.text)-i <= 3; i-- {
		if !isBlank(r.text[i]) {
			return r.text[i]
		}
	}
	return ' '
}

// trimSpaces drops the blanks at the end of the text.
func (r *refanged) trimSpaces() {
	for len(r.text) > 0 && isBlank(r.last()) {
		r.text = r.text[:len(r.text)-1]
		r.marked = r.marked[:len(r.marked)-1]
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// schemeWords maps the spellings of a scheme seen in defanged text to the
// scheme they stand for.
var schemeWords = []struct{ word, scheme string }{
	{"https", "https"}, {"http", "http"},
	{"hxxps", "https"}, {"hxxp", "http"},
	{"h**ps", "https"}, {"h**p", "http"},
	{"h++ps", "https"}, {"h++p", "http"},
	{"h__ps", "https"}, {"h__p", "http"},
	{"meows", "https"}, {"meow", "http"},
	{"ftp", "ftp"}, {"fxp", "ftp"}, {"ftx", "ftp"},
}

// schemeSeparators are the spellings of "://" in defanged text. "//" is a
// separator that lost its colon and "__" one written with underscores.
var schemeSeparators = []string{
	"://", "[://]", "[:]//", "(:)//", "{:}//", "[:/]/", ":[//]", ":[/][/]", "[:][/][/]", `:\/\/`, "//", "__",
}

const pctSeparator = "%3a%2f%2f"

// hasPrefixFold reports whether s[i:] starts with the lower-case prefix,
// ignoring ASCII case.
func hasPrefixFold(s []byte, i int, prefix string) bool {
	if len(s)-i < len(prefix) {
		return false
	}
	for j := 0; j < len(prefix); j++ {
		c := s[i+j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[j] {
			return false
		}
	}
	return true
}

// schemeMatch is a scheme, defanged or not, found in the input.
type schemeMatch struct {
	n      int    // input bytes consumed
	scheme string // canonical scheme
	plain  bool   // written as scheme://, nothing to refang
	pct    bool   // separator percent-encoded
}

// matchScheme finds a web scheme and its separator at in[i]: http://,
// hxxps[://], [https]://, h__ps__, meow://, http%3A%2F%2F and the like.
func matchScheme(in []byte, i int) (schemeMatch, bool) {
	if i > 0 && isASCIIAlnum(in[i-1]) {
		return schemeMatch{}, false
	}
	start := i
	bracketed := in[i] == '['
	if bracketed {
		i++
	}
	for _, w := range schemeWords {
		if !hasPrefixFold(in, i, w.word) {
			continue
		}
		j := i + len(w.word)
		if bracketed {
			if j >= len(in) || in[j] != ']' {
				continue
			}
			j++
		}
		if hasPrefixFold(in, j, pctSeparator) {
			return schemeMatch{n: j + len(pctSeparator) - start, scheme: w.scheme, pct: true}, true
		}
		for _, sep := range schemeSeparators {
			if !hasPrefixFold(in, j, sep) {
				continue
			}
			end := j + len(sep)
			if (sep == "__" || sep == "//") && (end >= len(in) || !isASCIIAlnum(in[end]) || !atWordStart(in, start)) {
				continue
			}
			plain := !bracketed && sep == "://" && strings.EqualFold(string(in[i:i+len(w.word)]), w.scheme)
			return schemeMatch{n: end - start, scheme: w.scheme, plain: plain}, true
		}
	}
	return schemeMatch{}, false
}

// atWordStart reports whether a URL can start at in[i]: at the start of
// the text or after a blank, a line break, an opening bracket or quote, an
// emphasis mark or punctuation that ends a word. A scheme whose separator
// lost its colon ("http//", "h__ps__") is refanged only there, never after
// a dot, a slash or a colon inside a URL.
func atWordStart(in []byte, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRune(in[:i])
	if r < utf8.RuneSelf {
		return isSpace(byte(r)) || strings.IndexByte("([{<>\"'`|*~,;!", byte(r)) >= 0
	}
	return !isHostRune(r)
}

// bracketKeywords are the tokens found inside defang brackets, longest
// first, with what they stand for.
var bracketKeywords = []struct{ word, value string }{
	{"://", "://"}, {"dot", "."}, {"at", "@"},
	{".", "."}, {"@", "@"}, {",", "."}, {":", ":"}, {"/", "/"}, {"-", "-"},
}

// bracketMatch is a defang token built from brackets around a keyword, such
// as "[.]", "(dot)", "{ at )" or "[dot".
type bracketMatch struct {
	n       int
	value   string
	closed  bool // brackets on both sides of the keyword
	spaced  bool // the token swallows blanks around it
	keyword string
}

// matchBracket reads the defang token at in[i]. The opening brackets must
// start at i: inside a longer run, as in "((((,))))", a match would leave
// the outer brackets around the dot and form a new token, "(.)", so that
// refanging twice would change the text again.
func matchBracket(in []byte, i int) (bracketMatch, bool) {
	if i > 0 && strings.IndexByte("[({", in[i-1]) >= 0 {
		return bracketMatch{}, false
	}
	j := i
	for j < len(in) && j-i < 3 && strings.IndexByte("[({", in[j]) >= 0 {
		j++
	}
	j = skipBlanks(in, j, 3)

	kw := -1
	for k, w := range bracketKeywords {
		if !hasPrefixFold(in, j, w.word) {
			continue
		}
		end := j + len(w.word)
		if isASCIILetter(w.word[0]) && end < len(in) && isASCIILetter(in[end]) {
			continue
		}
		kw = k
		break
	}
	if kw < 0 {
		return bracketMatch{}, false
	}
	word := bracketKeywords[kw].word
	j += len(word)
	afterWord := j
	j = skipBlanks(in, j, 3)

	closeStart := j
	for j < len(in) && j-closeStart < 3 && strings.IndexByte("])}", in[j]) >= 0 {
		j++
	}
	m := bracketMatch{value: bracketKeywords[kw].value, keyword: word}
	m.closed = j > closeStart
	if !m.closed {
		j = afterWord
	}
	m.n = j - i
	m.spaced = word == "." || word == "dot" || word == "@" || word == "at"
	return m, true
}

func skipBlanks(in []byte, j, limit int) int {
	for n := 0; j < len(in) && n < limit && isBlank(in[j]); n++ {
		j++
	}
	return j
}

func nextIsAlnum(in []byte, j int) bool { return j < len(in) && isASCIIAlnum(in[j]) }

// refangText undoes the unambiguous defang styles in in: schemes, bracketed
// dots, at signs, colons, slashes and dashes, half brackets, escaped dots,
// blanks that split a URL after its scheme, and percent-encoded URLs.
func refangText(in []byte) refanged {
	in, decoded := decodePercentURLs(in)
	isDecoded := func(start, end int) bool {
		return decoded != nil && slices.Contains(decoded[start:end], true)
	}

	out := refanged{text: make([]byte, 0, len(in)), marked: make([]bool, 0, len(in))}
	var (
		halfBracket bool // a "[." opened a bracket that the next "]" closes
		hostMode    bool // inside the host of a URL with a scheme
		pendingMark bool // the next byte written follows removed text
	)
	write := func(c byte, mark bool) {
		out.writeByte(c, mark || pendingMark)
		pendingMark = false
	}

	for i := 0; i < len(in); {
		c := in[i]

		if isSpace(c) {
			halfBracket = false
			if hostMode && isBlank(c) && isASCIIAlnum(out.last()) {
				j := skipBlanks(in, i, 3)
				if j+1 < len(in) && (in[j] == '.' && isASCIIAlnum(in[j+1]) || in[j] == '/' && !isSpace(in[j+1])) {
					pendingMark = true
					i = j
					continue
				}
			}
			hostMode = false
			write(c, false)
			i++
			continue
		}

		switch c {
		case 'h', 'H', 'f', 'F', 'm', 'M', '[':
			if m, ok := matchScheme(in, i); ok {
				out.writeString(m.scheme+"://", !m.plain || pendingMark || isDecoded(i, i+m.n))
				pendingMark = false
				i += m.n
				hostMode = true
				if j := skipBlanks(in, i, 3); j > i && nextIsAlnum(in, j) {
					pendingMark = true
					i = j
				}
				continue
			}
		}

		switch c {
		case '[', '(', '{':
			if m, ok := matchBracket(in, i); ok && m.closed {
				if m.spaced {
					out.trimSpaces()
					i = skipBlanks(in, i+m.n, 3)
				} else {
					i += m.n
				}
				out.writeString(m.value, true)
				continue
			} else if ok && m.value == "." && isASCIIAlnum(out.lastNonBlank()) {
				j := i + m.n
				if m.keyword == "dot" {
					j = skipBlanks(in, j, 3)
				}
				if nextIsAlnum(in, j) && (m.keyword == "dot" || j == i+2 && isASCIIAlnum(out.last())) {
					out.trimSpaces()
					out.writeString(".", true)
					halfBracket = m.keyword == "."
					i = j
					continue
				}
			}
		case '.':
			if i+2 < len(in) && isASCIIAlnum(out.last()) && isASCIIAlnum(in[i+2]) && (in[i+1] == ']' || in[i+1] == '[') {
				write('.', true)
				halfBracket = in[i+1] == '['
				i += 2
				continue
			}
		case ']':
			if i+3 < len(in) && in[i+1] == '.' && in[i+2] == '[' && isASCIIAlnum(out.last()) && isASCIIAlnum(in[i+3]) {
				write('.', true)
				i += 3
				continue
			}
			if halfBracket {
				halfBracket = false
				pendingMark = true
				i++
				continue
			}
		case '\\':
			if i+2 < len(in) && in[i+1] == '.' && isASCIIAlnum(out.last()) && isASCIIAlnum(in[i+2]) {
				write('.', true)
				i += 2
				continue
			}
		}

		if hostMode && !isHostByte(c) && c != '.' && c != ':' && c != '[' && c != ']' && c != '@' {
			hostMode = false
		}
		write(c, isDecoded(i, i+1))
		i++
	}
	return out
}

// percentEscapes are the escapes that decodePercentURLs decodes, with
// their bytes.
var percentEscapes = []struct {
	escape string
	c      byte
}{{"%2e", '.'}, {"%2f", '/'}, {"%3a", ':'}}

// decodeEscape returns the byte of the escape in percentEscapes that
// in[i:] starts with, ignoring case.
func decodeEscape(in []byte, i int) (byte, bool) {
	for _, p := range percentEscapes {
		if hasPrefixFold(in, i, p.escape) {
			return p.c, true
		}
	}
	return 0, false
}

// hasPercentSeparator reports whether in contains pctSeparator, ignoring
// case.
func hasPercentSeparator(in []byte) bool {
	for i := 0; i < len(in); i++ {
		if in[i] == '%' && hasPrefixFold(in, i, pctSeparator) {
			return true
		}
	}
	return false
}

// decodePercentURLs decodes %2E, %2F and %3A in each percent-encoded URL
// of in (http%3A%2F%2Fexample%2Ecom), from its scheme to the next blank,
// line break, quote or angle bracket. decoded[i] is true when out[i] came
// from an escape, and decoded is nil when nothing was decoded. It runs
// before the defang patterns are matched, so that a decoded byte forms a
// pattern with its neighbours just as a typed one does: refanging the
// result a second time changes nothing.
func decodePercentURLs(in []byte) (out []byte, decoded []bool) {
	if !hasPercentSeparator(in) {
		return in, nil
	}

	out = make([]byte, 0, len(in))
	decoded = make([]bool, 0, len(in))
	inURL := false
	for i := 0; i < len(in); {
		c := in[i]
		if !inURL && strings.IndexByte("hHfFmM[", c) >= 0 {
			if m, ok := matchScheme(in, i); ok && m.pct {
				inURL = true
			}
		}
		if isSpace(c) || strings.IndexByte("\"'<>", c) >= 0 {
			inURL = false
		}
		if inURL && c == '%' {
			if d, ok := decodeEscape(in, i); ok {
				out = append(out, d)
				decoded = append(decoded, true)
				i += 3
				continue
			}
		}
		out = append(out, c)
		decoded = append(decoded, false)
		i++
	}
	return out, decoded
}

// isHostByte reports whether c can be part of a host name: ASCII letters,
// digits, '-', '_' and any byte of a multi-byte UTF-8 sequence.
func isHostByte(c byte) bool {
	return isASCIIAlnum(c) || c == '-' || c == '_' || c >= 0x80
}
