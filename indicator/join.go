package indicator

import (
	"strings"
	"unicode/utf8"
)

// joinSpelledOut undoes the defang styles that use blanks, which are
// ambiguous in prose: "a AT b.com", "a @ b.com" and "b dot com". Each is
// joined only where the result is an email address, a host name with a known
// TLD, or the dotted quad of an IPv4 address.
func joinSpelledOut(r refanged) refanged {
	in := r.text
	out := refanged{text: make([]byte, 0, len(in)), marked: make([]bool, 0, len(in))}
	for i := 0; i < len(in); {
		if !isBlank(in[i]) || len(out.text) == 0 {
			out.writeByte(in[i], r.marked[i])
			i++
			continue
		}

		j := skipAllBlanks(in, i)
		switch {
		case hasWordAt(in, j, "dot", true):
			k := skipAllBlanks(in, j+3)
			if k > j+3 && joinsDot(lastWord(out.text), in, k) {
				out.writeByte('.', true)
				i = k
				continue
			}
		case hasWordAt(in, j, "AT", false) || j < len(in) && in[j] == '@':
			n := 2
			if in[j] == '@' {
				n = 1
			}
			k := skipAllBlanks(in, j+n)
			if k > j+n && validLocalPart(trimOpening(lastWord(out.text))) && joinsDomain(in, k) {
				out.writeByte('@', true)
				i = k
				continue
			}
		}
		if out.last() == '@' && j < len(in) && !isSpace(in[j]) {
			if word := trimOpening(lastWord(out.text)); len(word) > 1 && validLocalPart(word[:len(word)-1]) && joinsDomain(in, j) {
				i = j
				continue
			}
		}
		out.writeByte(in[i], r.marked[i])
		i++
	}
	return out
}

// lastWord returns the bytes after the last blank or line break of text.
func lastWord(text []byte) string {
	i := len(text)
	for i > 0 && !isSpace(text[i-1]) && len(text)-i < 256 {
		i--
	}
	return string(text[i:])
}

// trimOpening returns word without the brackets, quotes and emphasis marks
// that open it, as in "(bob" or "*bob".
func trimOpening(word string) string {
	for word != "" {
		r, size := utf8.DecodeRuneInString(word)
		if r < utf8.RuneSelf && strings.IndexByte("*~`([{\"'<|", byte(r)) < 0 || r >= utf8.RuneSelf && isHostRune(r) {
			break
		}
		word = word[size:]
	}
	return word
}

func skipAllBlanks(in []byte, j int) int {
	for j < len(in) && isBlank(in[j]) {
		j++
	}
	return j
}

// hasWordAt reports whether in[j:] starts with word followed by a blank,
// comparing ASCII case-insensitively when fold is set.
func hasWordAt(in []byte, j int, word string, fold bool) bool {
	end := j + len(word)
	if end >= len(in) || !isBlank(in[end]) {
		return false
	}
	if fold {
		return hasPrefixFold(in, j, word)
	}
	return string(in[j:end]) == word
}

// joinsDot reports whether "word dot next" is meant as "word.next": word
// already holds an '@', a dot or a scheme, and next is a known TLD, or both
// sides are parts of a dotted quad.
func joinsDot(word string, in []byte, k int) bool {
	if word == "" || !isASCIIAlnum(word[len(word)-1]) {
		return false
	}
	end := k
	for end < len(in) && isASCIIAlnum(in[end]) {
		end++
	}
	next := string(in[k:end])
	if next == "" {
		return false
	}
	if isAllDigitsOrDots(word) && isAllDigitsOrDots(next) {
		return true
	}
	hasSeparator := false
	for i := 0; i < len(word); i++ {
		if word[i] == '@' || word[i] == '.' {
			hasSeparator = true
		}
	}
	// "http://evil dot com" follows a scheme, which makes it a host too.
	hasSeparator = hasSeparator || strings.Contains(word, "://")
	return hasSeparator && isKnownTLD(lowerASCII(next))
}

// joinsDomain reports whether in[k:] starts with a host name that has a
// known TLD, written plainly or as "name dot tld".
func joinsDomain(in []byte, k int) bool {
	end := k
	for end < len(in) {
		r, size := utf8.DecodeRune(in[end:])
		if r != '.' && !isHostRune(r) {
			break
		}
		end += size
	}
	host := strings.TrimRight(string(in[k:end]), "._-")
	if _, ok := normalizeHost(host, false); ok {
		return true
	}
	j := skipAllBlanks(in, end)
	if host == "" || j == end || !hasWordAt(in, j, "dot", true) {
		return false
	}
	return joinsDot("@"+host, in, skipAllBlanks(in, j+3))
}

func isAllDigitsOrDots(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return s != ""
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
