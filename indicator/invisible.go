package indicator

import (
	"strings"
	"unicode/utf8"
)

// isInvisible reports whether r is a format character that renders as
// nothing: zero-width spaces and joiners, the word joiner, the byte order
// mark, the soft hyphen and the bidi controls. Pasted text and lures carry
// them inside names, where they would split or reorder an indicator.
func isInvisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x061C, r == 0x2060, r == 0xFEFF:
		return true
	case 0x200B <= r && r <= 0x200F:
		return true
	case 0x202A <= r && r <= 0x202E:
		return true
	case 0x2066 <= r && r <= 0x2069:
		return true
	}
	return false
}

// removeInvisible returns s without its invisible format characters, in one
// pass. Other bytes, including invalid UTF-8, are kept as they are.
func removeInvisible(s string) string {
	var b strings.Builder
	copyFrom := 0 // s[copyFrom:i] is not yet in b
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isInvisible(r) {
			if b.Cap() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[copyFrom:i])
			copyFrom = i + size
		}
		i += size
	}
	if copyFrom == 0 {
		return s
	}
	b.WriteString(s[copyFrom:])
	return b.String()
}
