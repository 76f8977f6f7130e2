package indicator

import "strings"

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
			if (sep == "__" || sep == "//") && (end >= len(in) || !isASCIIAlnum(in[end])) {
				continue
			}
			plain := !bracketed && sep == "://" && strings.EqualFold(string(in[i:i+len(w.word)]), w.scheme)
			return schemeMatch{n: end - start, scheme: w.scheme, plain: plain}, true
		}
	}
	return schemeMatch{}, false
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

func matchBracket(in []byte, i int) (bracketMatch, bool) {
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
	out := refanged{text: make([]byte, 0, len(in)), marked: make([]bool, 0, len(in))}
	var (
		halfBracket bool // a "[." opened a bracket that the next "]" closes
		hostMode    bool // inside the host of a URL with a scheme
		pctMode     bool // inside a percent-encoded URL
		pendingMark bool // the next byte written follows removed text
	)
	write := func(c byte, mark bool) {
		out.writeByte(c, mark || pendingMark)
		pendingMark = false
	}

	for i := 0; i < len(in); {
		c := in[i]

		if isSpace(c) {
			halfBracket, pctMode = false, false
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
				out.writeString(m.scheme+"://", !m.plain || pendingMark)
				pendingMark = false
				i += m.n
				pctMode = m.pct
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
		case '%':
			if pctMode && i+2 < len(in) {
				switch {
				case hasPrefixFold(in, i, "%2e"):
					write('.', true)
					i += 3
					continue
				case hasPrefixFold(in, i, "%2f"):
					write('/', true)
					i += 3
					continue
				case hasPrefixFold(in, i, "%3a"):
					write(':', true)
					i += 3
					continue
				}
			}
		}

		if hostMode && !isHostByte(c) && c != '.' && c != ':' && c != '[' && c != ']' && c != '@' {
			hostMode = false
		}
		if c == '"' || c == '\'' || c == '<' || c == '>' {
			pctMode = false
		}
		write(c, false)
		i++
	}
	return out
}

// isHostByte reports whether c can be part of a host name: ASCII letters,
// digits, '-', '_' and any byte of a multi-byte UTF-8 sequence.
func isHostByte(c byte) bool {
	return isASCIIAlnum(c) || c == '-' || c == '_' || c >= 0x80
}
