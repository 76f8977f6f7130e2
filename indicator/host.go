package indicator

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
	"mvdan.cc/xurls/v2"
)

// knownTLDs holds xurls' public and pseudo top-level domains, lower-case and
// in Unicode form.
var knownTLDs = func() map[string]bool {
	set := make(map[string]bool, len(xurls.TLDs)+len(xurls.PseudoTLDs))
	for _, tld := range xurls.TLDs {
		set[tld] = true
	}
	for _, tld := range xurls.PseudoTLDs {
		set[tld] = true
	}
	return set
}()

// isKnownTLD reports whether label (lower-case, Unicode or punycode) is in
// xurls' TLD list.
func isKnownTLD(label string) bool {
	if strings.HasPrefix(label, "xn--") {
		u, err := idna.Punycode.ToUnicode(label)
		if err != nil {
			return false
		}
		label = u
	}
	return knownTLDs[label]
}

// lastLabel returns the part of host after its last dot.
func lastLabel(host string) string {
	return host[strings.LastIndexByte(host, '.')+1:]
}

// isHostRune reports whether r may appear in a host name label.
func isHostRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r)) || r == '-' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// normalizeHost validates a host name and returns it lower-cased, then in
// NFC, and without a trailing dot. It needs two or more labels and a top-level label
// of letters or an xn-- label. With anyTLD set, that label need not be a
// known TLD.
func normalizeHost(host string, anyTLD bool) (string, bool) {
	host = strings.TrimSuffix(host, ".")
	if host == "" || len(host) > 253*4 {
		return "", false
	}
	// Lower-casing can leave a base letter and a combining mark that NFC
	// composes (T̈ has no precomposed form but ẗ has), so NFC comes last.
	host = norm.NFC.String(strings.ToLower(host))

	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, label := range labels {
		if !validLabel(label) {
			return "", false
		}
	}

	tld := labels[len(labels)-1]
	if !isTLDShaped(tld) {
		return "", false
	}
	if !anyTLD && !isKnownTLD(tld) {
		return "", false
	}
	if _, err := idna.Punycode.ToASCII(host); err != nil {
		return "", false
	}
	return unicodeHost(host), true
}

// unicodeHost returns host with each punycode label decoded, so that a name
// has one Value whichever form it was written in. A label stays in
// punycode when its decoded form would not encode back to it or holds
// runes that a label cannot have.
func unicodeHost(host string) string {
	if !strings.Contains(host, "xn--") {
		return host
	}
	labels := strings.Split(host, ".")
	for i, label := range labels {
		if !strings.HasPrefix(label, "xn--") {
			continue
		}
		u, err := idna.Punycode.ToUnicode(label)
		if err != nil || u == label || !validLabel(u) || norm.NFC.String(strings.ToLower(u)) != u {
			continue
		}
		if back, err := idna.Punycode.ToASCII(u); err != nil || back != label {
			continue
		}
		labels[i] = u
	}
	return strings.Join(labels, ".")
}

func validLabel(label string) bool {
	if label == "" || len(label) > 63*4 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for _, r := range label {
		if !isHostRune(r) {
			return false
		}
	}
	return true
}

// isTLDShaped reports whether a label can be a top-level domain: two or
// more letters, or a punycode label.
func isTLDShaped(tld string) bool {
	if strings.HasPrefix(tld, "xn--") {
		return len(tld) > 4
	}
	n := 0
	for _, r := range tld {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) {
			return false
		}
		n++
	}
	return n >= 2
}

// asciiHost returns host with its Unicode labels in punycode.
func asciiHost(host string) string {
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			a, err := idna.Punycode.ToASCII(host)
			if err != nil {
				return host
			}
			return a
		}
	}
	return host
}

// displayHost returns host as it should be shown: punycode when its letters
// come from more than one script, as homograph lures do.
func displayHost(host string) string {
	if mixesScripts(host) {
		return asciiHost(host)
	}
	return host
}

// scriptTables groups the scripts a host name may mix legitimately: Japanese
// and Korean text combine Han with kana or Hangul.
var scriptTables = []*unicode.RangeTable{
	unicode.Latin, unicode.Cyrillic, unicode.Greek, unicode.Armenian,
	unicode.Hebrew, unicode.Arabic, unicode.Georgian, unicode.Thai,
	unicode.Devanagari,
}

func mixesScripts(host string) bool {
	seen := -1
	for _, r := range host {
		if !unicode.IsLetter(r) {
			continue
		}
		script := len(scriptTables) + 1
		for i, table := range scriptTables {
			if unicode.Is(table, r) {
				script = i
				break
			}
		}
		if script > len(scriptTables) && (unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)) {
			script = len(scriptTables)
		}
		if seen >= 0 && seen != script {
			return true
		}
		seen = script
	}
	return false
}
