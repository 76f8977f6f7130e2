package indicator

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Extract returns the indicators in text, in order of first appearance and
// without duplicates. The text is a Slack message as delivered (mrkdwn with
// &amp;, &lt; and &gt; escaped) or plain pasted text. Indicators that must
// not be looked up, such as private addresses, are included with Skipped
// set. Links to Slack's own files and workspaces are left out. Invisible
// format characters, such as zero-width joiners and bidi controls, are
// removed first, so they cannot split or reorder an indicator.
//
// Extract runs in time linear in len(text): it refangs the text in one
// pass, joins the spelled-out forms in a second, and scans the result once
// for candidates that it then validates.
func Extract(text string) []Indicator {
	f := flattenSlack(removeInvisible(text))
	r := joinSpelledOut(refangText(f.text))

	s := scanner{
		text:    r.text,
		defangs: make([]int32, len(r.marked)+1),
		links:   f.links,
		seen:    make(map[string]bool),
	}
	for i, marked := range r.marked {
		s.defangs[i+1] = s.defangs[i]
		if marked {
			s.defangs[i+1]++
		}
	}
	s.scan()
	return s.found
}

// scanner finds candidates in refanged text and keeps the valid ones.
type scanner struct {
	text     []byte
	defangs  []int32 // defangs[i] is the number of refanged bytes before text[i]
	links    [][]Indicator
	nextLink int
	found    []Indicator
	seen     map[string]bool
}

// defanged reports whether any byte of text[start:end] came from a defang
// pattern.
func (s *scanner) defanged(start, end int) bool {
	return s.defangs[end] > s.defangs[start]
}

func (s *scanner) add(in Indicator) {
	if in.Skipped == SkipSlackHosted {
		return
	}
	key := dedupKey(in)
	if s.seen[key] {
		return
	}
	s.seen[key] = true
	s.found = append(s.found, in)
}

// dedupKey returns the identity of an indicator: Unicode and punycode hosts
// are equal and email addresses compare case-insensitively.
func dedupKey(in Indicator) string {
	key := in.LookupValue()
	if in.Kind == KindEmail || in.Kind == KindDomain {
		key = strings.ToLower(key)
	}
	return string(in.Kind) + " " + key
}

// isWordDelimiter reports whether the rune at text[i] ends a word, and its
// size. Words end at blanks, line breaks, angle brackets, double quotes,
// backticks, pipes, link markers and any non-ASCII rune that cannot be part
// of a host name, such as curly quotes and dashes.
func (s *scanner) isWordDelimiter(i int) (bool, int) {
	c := s.text[i]
	if c < utf8.RuneSelf {
		return isSpace(c) || strings.IndexByte("<>\"`|", c) >= 0 || c == linkMarker, 1
	}
	r, size := utf8.DecodeRune(s.text[i:])
	return !isHostRune(r), size
}

func (s *scanner) scan() {
	for i := 0; i < len(s.text); {
		if s.text[i] == linkMarker && s.nextLink < len(s.links) {
			for _, in := range s.links[s.nextLink] {
				s.add(in)
			}
			s.nextLink++
			i++
			continue
		}
		if delim, size := s.isWordDelimiter(i); delim {
			i += size
			continue
		}
		end := i
		for end < len(s.text) {
			delim, size := s.isWordDelimiter(end)
			if delim {
				break
			}
			end += size
		}
		s.scanWord(i, end)
		i = end
	}
}

// scanWord finds the indicators in text[start:end], a run of bytes
// without word delimiters: URLs with a scheme first, then whatever lies
// between them.
func (s *scanner) scanWord(start, end int) {
	p := start
	for p < end {
		k := bytes.Index(s.text[p:end], []byte("://"))
		if k < 0 {
			s.scanPlain(p, end)
			return
		}
		k += p

		schemeStart := k
		for schemeStart > p && k-schemeStart < 32 && isASCIILetter(s.text[schemeStart-1]) {
			schemeStart--
		}
		s.scanPlain(p, schemeStart)
		p = k + 3
		if schemeStart < k {
			if urlEnd, ok := s.scanURL(schemeStart, k, end); ok {
				p = urlEnd
			}
		}
	}
}

// scanURL reads the URL whose scheme starts at start and whose "://" is at
// sep, adds it when valid and returns where it ends.
func (s *scanner) scanURL(start, sep, end int) (int, bool) {
	a := sep + 3
	for a < end && (isHostByte(s.text[a]) || strings.IndexByte(".:@[]%", s.text[a]) >= 0) {
		a++
	}
	if _, err := splitURL(s.urlText(start, sep, trimURLEnd(s.text, start, a)), true); err != nil {
		return 0, false
	}

	urlEnd := a
	if a < end && strings.IndexByte("/?#", s.text[a]) >= 0 {
		quoted := start > 0 && s.text[start-1] == '\''
		urlEnd = s.pathEnd(a, end, quoted)
	}
	urlEnd = trimURLEnd(s.text, start, urlEnd)

	u, err := splitURL(s.urlText(start, sep, urlEnd), true)
	if err != nil {
		return 0, false
	}
	s.add(u.indicator())
	return urlEnd, true
}

// urlText returns text[start:end], the URL whose "://" is at sep, with a
// defang spelling of its scheme replaced by the scheme. Refanging leaves
// such a scheme when a letter or digit is glued to its front ("0meow://"),
// and the URL's value must not depend on that neighbour.
func (s *scanner) urlText(start, sep, end int) string {
	scheme := lowerASCII(string(s.text[start:sep]))
	for _, w := range schemeWords {
		if w.word == scheme {
			return w.scheme + string(s.text[sep:end])
		}
	}
	return string(s.text[start:end])
}

// pathEnd returns where the path that starts at a ends. A comma ends it
// when no '/', '=', '&' or '%' follows in the word (a CSV field or a list)
// or when a scheme follows. A URL that follows a single quote ends at the
// next one.
func (s *scanner) pathEnd(a, end int, quoted bool) int {
	if quoted {
		if q := bytes.IndexByte(s.text[a:end], '\''); q >= 0 {
			end = a + q
		}
	}
	lastStrong := -1
	for j := a; j < end; j++ {
		if strings.IndexByte("/=&%", s.text[j]) >= 0 {
			lastStrong = j
		}
	}
	for j := a; j < end; j++ {
		if s.text[j] == ',' && (j > lastStrong || startsWithScheme(s.text, j+1)) {
			return j
		}
	}
	return end
}

func startsWithScheme(text []byte, i int) bool {
	for _, scheme := range []string{"http://", "https://", "ftp://"} {
		if hasPrefixFold(text, i, scheme) {
			return true
		}
	}
	return false
}

// trimURLEnd drops the punctuation that ends a sentence or wraps a URL
// from text[start:end]: trailing dots, commas, colons and the like, quotes,
// emphasis marks, and closing brackets without an opening one in the URL.
func trimURLEnd(text []byte, start, end int) int {
	var opens, closes [3]int
	const brackets = "()[]{}"
	for j := start; j < end; j++ {
		if k := strings.IndexByte(brackets, text[j]); k >= 0 {
			if k%2 == 0 {
				opens[k/2]++
			} else {
				closes[k/2]++
			}
		}
	}
	for end > start {
		c := text[end-1]
		if strings.IndexByte(".,;:!?'\"*~", c) >= 0 || c == '_' && start > 0 && text[start-1] == '_' {
			end--
			continue
		}
		if k := strings.IndexByte(brackets, c); k >= 0 && k%2 == 1 && closes[k/2] > opens[k/2] {
			closes[k/2]--
			end--
			continue
		}
		break
	}
	return end
}
